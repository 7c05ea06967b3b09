using System.Text.Json.Nodes;
using Kontext.Ngsi.Notifications;

namespace Kontext.Ngsi.Tests.Notifications;

/// <summary>Clause 5.8.6: pending notifications of one subscription sent as one, their data in order.</summary>
public sealed class NotificationMergeTests
{
    private static readonly KeyValuePair<string, string>[] Headers = [new("Link", "<https://example.org/ctx.jsonld>")];

    private static NotificationRequest Notification(string id, string notifiedAt, params string[] entityIds) => new("application/json", Headers,
        new JsonObject
        {
            ["id"] = id, ["type"] = "Notification", ["subscriptionId"] = "urn:ngsi-ld:Subscription:s", ["notifiedAt"] = notifiedAt,
            ["data"] = new JsonArray(entityIds.Select(e => (JsonNode)new JsonObject { ["id"] = e, ["type"] = "Car" }).ToArray()),
        }.ToJsonString());

    private static JsonObject Body(NotificationRequest request) => JsonNode.Parse(request.Body)!.AsObject();

    private static IEnumerable<string> DataIds(NotificationRequest request) => Body(request)["data"]!.AsArray().Select(e => e!["id"]!.GetValue<string>());

    [Fact]
    public void Notifications_of_different_entities_merge_into_one_with_their_data_in_order()
    {
        var (merged, count) = NotificationMerge.Merge([
            Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a", "urn:b"),
            Notification("urn:n2", "2026-01-01T00:00:01.000Z", "urn:c"),
        ], 100);

        count.Should().Be(2);
        DataIds(merged).Should().Equal("urn:a", "urn:b", "urn:c");
        var body = Body(merged);
        body["id"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:Notification:").And.NotBe("urn:n1");
        body["subscriptionId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Subscription:s");
        body["notifiedAt"]!.GetValue<string>().Should().Be("2026-01-01T00:00:01.000Z");
        merged.Headers.Should().Equal(Headers);
    }

    [Fact]
    public void A_notification_carrying_an_entity_already_in_the_merge_ends_it()
    {
        var (merged, count) = NotificationMerge.Merge([
            Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a"),
            Notification("urn:n2", "2026-01-01T00:00:00.000Z", "urn:b"),
            Notification("urn:n3", "2026-01-01T00:00:00.000Z", "urn:a"),
            Notification("urn:n4", "2026-01-01T00:00:00.000Z", "urn:c"),
        ], 100);

        count.Should().Be(2, "the third carries urn:a again; the fourth must not overtake it");
        DataIds(merged).Should().Equal("urn:a", "urn:b");
    }

    [Fact]
    public void The_merge_stops_at_the_cap_of_entities()
    {
        var (merged, count) = NotificationMerge.Merge([
            Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a", "urn:b"),
            Notification("urn:n2", "2026-01-01T00:00:00.000Z", "urn:c"),
            Notification("urn:n3", "2026-01-01T00:00:00.000Z", "urn:d"),
        ], 3);

        count.Should().Be(2);
        DataIds(merged).Should().Equal("urn:a", "urn:b", "urn:c");
    }

    [Fact]
    public void A_full_notification_is_sent_as_it_is_without_reading_the_next()
    {
        var full = Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a", "urn:b");

        static IEnumerable<NotificationRequest> Queue(NotificationRequest head)
        {
            yield return head;
            throw new InvalidOperationException("the next notification was read");
        }

        NotificationMerge.Merge(Queue(full), 2).Should().Be((full, 1));
    }

    [Fact]
    public void Notifications_with_different_headers_or_members_do_not_merge()
    {
        var first = Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a");
        var otherHeaders = Notification("urn:n2", "2026-01-01T00:00:00.000Z", "urn:b") with { Headers = [] };
        var body = Body(Notification("urn:n3", "2026-01-01T00:00:00.000Z", "urn:c"));
        body["triggerReason"] = "newlyMatching";
        var otherMembers = first with { Body = body.ToJsonString() };

        NotificationMerge.Merge([first, otherHeaders], 100).Merged.Should().Be(1);
        NotificationMerge.Merge([first, otherMembers], 100).Merged.Should().Be(1);
    }

    [Fact]
    public void A_single_or_GeoJSON_notification_is_sent_as_it_is()
    {
        var first = Notification("urn:n1", "2026-01-01T00:00:00.000Z", "urn:a");
        NotificationMerge.Merge([first], 100).Request.Should().BeSameAs(first);

        var geo = first with { ContentType = "application/geo+json" };
        NotificationMerge.Merge([geo, geo with { }], 100).Should().Be((geo, 1));
    }
}
