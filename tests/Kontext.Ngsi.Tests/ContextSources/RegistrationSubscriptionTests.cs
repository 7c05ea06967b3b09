using System.Text.Json.Nodes;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Notifications;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>Subscriptions to registrations (clause 5.11): what they match and how a change is notified.</summary>
public class RegistrationSubscriptionTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static RegistrationSubscription Subscription(string members) => RegistrationSubscriptionParser.Parse(T.Obj(
        """{"id": "urn:ngsi-ld:Subscription:s", "type": "Subscription", """ + members + """
        , "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify", "accept": "application/json", "receiverInfo": [{"key": "X-Token", "value": "t"}]}}}
        """), T.User, Now);

    private static Registration Vehicle(string endpoint = "http://a.example") => RegistrationParserTests.Parse($$"""
        {"id": "urn:ngsi-ld:ContextSourceRegistration:r", "type": "ContextSourceRegistration", "endpoint": "{{endpoint}}",
         "information": [{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}]}
        """);

    [Fact]
    public void A_change_is_newlyMatching_updated_or_noLongerMatching()
    {
        var subscription = Subscription("\"entities\": [{\"type\": \"Vehicle\"}], \"csf\": \"endpoint==\\\"http://a.example\\\"\"");
        var before = Vehicle();
        var moved = Vehicle("http://b.example");

        subscription.TriggerReason(null, before, Now).Should().Be("newlyMatching");
        subscription.TriggerReason(before, before, Now).Should().Be("updated");
        subscription.TriggerReason(before, moved, Now).Should().Be("noLongerMatching");
        subscription.TriggerReason(before, null, Now).Should().Be("noLongerMatching");
        subscription.TriggerReason(null, moved, Now).Should().BeNull();
    }

    [Fact]
    public void Watched_attributes_select_by_the_registered_attribute_names()
    {
        Subscription("\"watchedAttributes\": [\"speed\"]").Filter.Matches(Vehicle()).Should().BeTrue();
        Subscription("\"watchedAttributes\": [\"name\"]").Filter.Matches(Vehicle()).Should().BeFalse();
    }

    [Fact]
    public void The_notification_carries_the_registrations_compacted_and_the_trigger_reason()
    {
        var subscription = Subscription("\"entities\": [{\"type\": \"Vehicle\"}]");
        var context = new NotificationContext(T.User, "http://ctx.example/c.jsonld", "http://ctx.example/c.jsonld");

        var request = RegistrationNotificationBuilder.Build(subscription, context, [Vehicle()], "newlyMatching", Now, "city");

        var body = T.Obj(request.Body);
        body["type"]!.GetValue<string>().Should().Be("ContextSourceNotification");
        body["subscriptionId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Subscription:s");
        body["triggerReason"]!.GetValue<string>().Should().Be("newlyMatching");
        body["data"]![0]!["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        request.Headers.Should().Contain(new KeyValuePair<string, string>("X-Token", "t"));
        request.Headers.Should().Contain(new KeyValuePair<string, string>("NGSILD-Tenant", "city"));
        request.Headers.Should().Contain(h => h.Key == "Link" && h.Value.Contains("http://ctx.example/c.jsonld"));
    }

    private static Registration BuildingAndBus() => RegistrationParserTests.Parse("""
        {"id": "urn:ngsi-ld:ContextSourceRegistration:r", "type": "ContextSourceRegistration", "endpoint": "http://a.example",
         "information": [{"entities": [{"type": "Building"}], "propertyNames": ["height"]},
                         {"entities": [{"type": "Bus"}], "propertyNames": ["speed"], "relationshipNames": ["route"]}]}
        """);

    private static JsonArray NotifiedInformation(RegistrationSubscription subscription, Registration registration)
    {
        var context = new NotificationContext(T.User, "http://ctx.example/c.jsonld", "http://ctx.example/c.jsonld");
        var body = T.Obj(RegistrationNotificationBuilder.Build(subscription, context, [registration], "newlyMatching", Now, null).Body);
        return body["data"]![0]!["information"]!.AsArray();
    }

    [Fact]
    public void The_notification_carries_only_the_RegistrationInfos_the_entities_select()
    {
        var information = NotifiedInformation(Subscription("\"entities\": [{\"type\": \"Building\"}]"), BuildingAndBus());

        information.Should().ContainSingle();
        information[0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Building");
        information[0]!["propertyNames"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("height");
    }

    [Fact]
    public void The_notification_carries_only_the_RegistrationInfos_the_watched_attributes_select()
    {
        var information = NotifiedInformation(Subscription("\"watchedAttributes\": [\"route\"]"), BuildingAndBus());

        information.Should().ContainSingle();
        information[0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Bus");
        information[0]!["relationshipNames"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("route");
    }

    [Fact]
    public void A_registration_none_of_whose_RegistrationInfos_is_selected_is_notified_whole()
    {
        // A registration whose information changed away from the subscription is notified as noLongerMatching in its new state.
        var information = NotifiedInformation(Subscription("\"entities\": [{\"type\": \"Tram\"}]"), BuildingAndBus());

        information.Select(i => i!["entities"]![0]!["type"]!.GetValue<string>()).Should().Equal("Building", "Bus");
    }

    [Fact]
    public void An_invalid_csf_or_temporalQ_is_BadRequestData()
    {
        ((Action)(() => Subscription("\"entities\": [{\"type\": \"Vehicle\"}], \"csf\": \"(broken\""))).ShouldBeBadRequestData();
        ((Action)(() => Subscription("\"entities\": [{\"type\": \"Vehicle\"}], \"temporalQ\": {\"timerel\": \"before\"}"))).ShouldBeBadRequestData();
    }

    [Fact]
    public void A_temporalQ_selects_by_the_observation_interval()
    {
        var subscription = Subscription("\"entities\": [{\"type\": \"Vehicle\"}], \"temporalQ\": {\"timerel\": \"before\", \"timeAt\": \"2021-01-01T00:00:00Z\"}");

        subscription.Filter.Matches(Vehicle()).Should().BeFalse("a registration without an observationInterval offers no history");
    }
}
