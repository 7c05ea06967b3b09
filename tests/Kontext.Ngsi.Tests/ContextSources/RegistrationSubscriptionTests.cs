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
