using System.Text.Json.Nodes;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Tests.ContextSources;

/// <summary>
/// The reduced copy of a subscription sent to a context source (clause 5.8.1.4) and what of the source's notification
/// reaches the local subscriber (clause 5.8.6: splitEntities merge, q applied to the aggregate).
/// </summary>
public class SubscriptionNarrowingTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private const string Notify = "http://region.example/ngsi-ld/ex/remote-notify";

    private static Subscription Subscription(string members) => SubscriptionParser.Parse(T.Obj(
        """{"id": "urn:ngsi-ld:Subscription:local", "type": "Subscription", """ + members
        + """, "notification": {"endpoint": {"uri": "http://subscriber.example/notify"}}}"""), T.User, Now);

    private static Registration Registration(string information) => RegistrationParserTests.Parse($$"""
        {"id": "urn:ngsi-ld:ContextSourceRegistration:m", "type": "ContextSourceRegistration", "endpoint": "http://municipal.example",
         "information": {{information}}}
        """);

    private static JsonObject? Reduce(Subscription subscription, Registration registration) =>
        SubscriptionNarrowing.Reduce(subscription, registration, "urn:ngsi-ld:Subscription:distsub:1", Notify, T.User.CompactIri);

    [Fact]
    public void The_copy_notifies_this_broker_and_never_the_original_subscriber()
    {
        var copy = Reduce(Subscription(""" "entities": [{"type": "Vehicle"}], "q": "speed>50" """), Registration("""[{"entities": [{"type": "Vehicle"}]}]"""))!;

        copy["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Subscription:distsub:1");
        copy["notification"]!["endpoint"]!["uri"]!.GetValue<string>().Should().Be(Notify);
        copy["notification"]!["format"]!.GetValue<string>().Should().Be("normalized");
        copy["q"]!.GetValue<string>().Should().Be("speed>50");
        copy.ToJsonString().Should().NotContain("subscriber.example");
    }

    [Fact]
    public void A_registration_of_other_entities_gets_no_copy() =>
        Reduce(Subscription(""" "entities": [{"type": "Vehicle"}] """), Registration("""[{"entities": [{"type": "Person"}]}]""")).Should().BeNull();

    [Fact]
    public void An_id_pattern_that_cannot_meet_the_registered_id_gets_no_copy() =>
        Reduce(Subscription(""" "entities": [{"type": "Vehicle", "idPattern": "^urn:ngsi-ld:Vehicle:north-.*"}] """),
            Registration("""[{"entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:south-1"}]}]""")).Should().BeNull();

    [Fact]
    public void The_copy_keeps_only_the_selectors_the_registration_can_match()
    {
        var copy = Reduce(Subscription(""" "entities": [{"type": "Vehicle"}, {"type": "Person"}] """),
            Registration("""[{"entities": [{"type": "Vehicle"}]}]"""))!;

        copy["entities"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).Should().Equal("Vehicle");
    }

    [Fact]
    public void The_copy_watches_and_notifies_only_the_attributes_the_registration_names()
    {
        var copy = Reduce(Subscription(""" "entities": [{"type": "Vehicle"}] """),
            Registration("""[{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed"]}]"""))!;

        copy["watchedAttributes"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("speed");
        copy["notification"]!["attributes"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("speed");
    }

    [Fact]
    public void Watched_attributes_are_narrowed_to_those_the_registration_names()
    {
        var copy = Reduce(Subscription(""" "entities": [{"type": "Vehicle"}], "watchedAttributes": ["speed", "name"] """),
            Registration("""[{"entities": [{"type": "Vehicle"}], "propertyNames": ["speed", "owner"]}]"""))!;

        copy["watchedAttributes"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("speed");
    }

    [Fact]
    public void With_splitEntities_the_copy_leaves_q_to_this_broker()
    {
        var copy = Reduce(Subscription(""" "entities": [{"type": "Vehicle"}], "q": "speed>50", "splitEntities": true """),
            Registration("""[{"entities": [{"type": "Vehicle"}]}]"""))!;

        copy.ContainsKey("q").Should().BeFalse();
        copy["splitEntities"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public void An_update_sends_what_changed_and_null_for_what_is_gone()
    {
        var sent = T.Obj("""{"id": "x", "type": "Subscription", "q": "speed>10", "isActive": true}""");
        var next = T.Obj("""{"id": "x", "type": "Subscription", "isActive": false}""");

        var fragment = SubscriptionNarrowing.Fragment(sent, next)!;

        fragment.ToJsonString().Should().Be("""{"isActive":false,"q":null}""");
        SubscriptionNarrowing.Fragment(next, next).Should().BeNull();
    }

    [Fact]
    public void A_split_fragment_is_completed_by_what_is_held_elsewhere_and_filtered_by_q_on_the_aggregate()
    {
        var subscription = Subscription(""" "entities": [{"type": "Vehicle"}], "q": "speed>50;name==\"bus\"", "splitEntities": true """);
        var local = T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "name": {"type": "Property", "value": "bus"}}""");

        var fast = SubscriptionNarrowing.Deliverable(subscription,
            T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": {"type": "Property", "value": 99}}"""), null, [local], Now);
        var slow = SubscriptionNarrowing.Deliverable(subscription,
            T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": {"type": "Property", "value": 10}}"""), null, [local], Now);

        fast!.After!.Attributes.Keys.Should().BeEquivalentTo([T.Iri("speed"), T.Iri("name")]);
        slow.Should().BeNull("the merged entity fails q");
    }

    [Fact]
    public void The_notified_value_wins_over_an_older_one_held_elsewhere()
    {
        var subscription = Subscription(""" "entities": [{"type": "Vehicle"}], "splitEntities": true """);
        var held = T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": {"type": "Property", "value": 1}}""");

        var change = SubscriptionNarrowing.Deliverable(subscription,
            T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": {"type": "Property", "value": 43}}"""), null, [held], Now)!;

        change.After!.Attributes[T.Iri("speed")][0]["value"]!.GetValue<int>().Should().Be(43);
    }

    [Fact]
    public void Without_splitEntities_an_entity_outside_the_local_filter_is_dropped()
    {
        var subscription = Subscription(""" "entities": [{"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:1", "idPattern": ".*"}] """);

        SubscriptionNarrowing.Deliverable(subscription, T.Parse("""{"id": "urn:ngsi-ld:Vehicle:2", "type": "Vehicle"}"""), null, [], Now)
            .Should().BeNull("an id takes precedence over idPattern (clause 5.2.33)");
        SubscriptionNarrowing.Deliverable(subscription, T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle"}"""), null, [], Now)
            .Should().NotBeNull();
    }

    [Fact]
    public void A_notified_deletion_is_a_deletion_with_its_time()
    {
        var subscription = Subscription(""" "entities": [{"type": "Vehicle"}], "q": "speed>50" """);
        var at = DateTimeOffset.Parse("2026-01-02T03:04:05Z");
        var notification = InboundNotification.Read(T.Obj("""
            {"type": "Notification", "subscriptionId": "urn:ngsi-ld:Subscription:distsub:1",
             "data": [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "deletedAt": "2026-01-02T03:04:05Z"}]}
            """), T.User)!;

        var (entity, deletedAt) = notification.Entities.Single();
        var change = SubscriptionNarrowing.Deliverable(subscription, entity, deletedAt, [], Now)!;

        change.IsDeletion.Should().BeTrue();
        change.At.Should().Be(at);
    }

    [Fact]
    public void A_body_without_subscriptionId_or_data_is_no_notification() =>
        InboundNotification.Read(T.Obj("""{"type": "Notification", "data": []}"""), T.User).Should().BeNull();

    [Fact]
    public void An_entity_notified_with_only_the_registered_attributes_is_not_queried_again_here()
    {
        var subscription = Subscription(""" "entities": [{"type": "Vehicle"}], "q": "name==\"bus\"" """);
        var fragment = T.Parse("""{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": {"type": "Property", "value": 5}}""");

        SubscriptionNarrowing.Deliverable(subscription, fragment, null, [], Now, partial: true).Should().NotBeNull("the source applied q to the whole entity");
        SubscriptionNarrowing.Deliverable(subscription, fragment, null, [], Now).Should().BeNull();
    }
}
