using Kontext.Ngsi.Model;
using Kontext.Ngsi.Notifications;

namespace Kontext.Ngsi.Tests.Notifications;

/// <summary>Clause 5.8.6: a notification carries the subscribed entities that changed; how a subscription's changes share notifications.</summary>
public sealed class NotificationBatchesTests
{
    private static EntityChange Created(string id) => new(null, new Entity(id));

    private static EntityChange Deleted(string id) => new(new Entity(id), null);

    private static IEnumerable<List<string>> Ids(IEnumerable<List<EntityChange>> batches) =>
        batches.Select(b => b.Select(c => (c.After ?? c.Before)!.Id).ToList());

    [Fact]
    public void Changes_of_different_entities_share_one_notification_in_commit_order()
    {
        var batches = NotificationBatches.Split([Created("urn:a"), Created("urn:b"), Created("urn:c")], 100);

        Ids(batches).Should().BeEquivalentTo([new List<string> { "urn:a", "urn:b", "urn:c" }], o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_second_change_of_an_entity_starts_the_next_notification()
    {
        var batches = NotificationBatches.Split([Created("urn:a"), Created("urn:b"), Deleted("urn:a"), Created("urn:c"), Created("urn:a")], 100);

        Ids(batches).Should().BeEquivalentTo(new[]
        {
            new List<string> { "urn:a", "urn:b" },
            ["urn:a", "urn:c"],
            ["urn:a"],
        }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void A_notification_carries_at_most_the_cap_of_entities()
    {
        var changes = Enumerable.Range(0, 7).Select(i => Created($"urn:e{i}")).ToList();

        var batches = NotificationBatches.Split(changes, 3);

        batches.Select(b => b.Count).Should().Equal(3, 3, 1);
        batches.SelectMany(b => b).Should().Equal(changes, "every change is notified once, in commit order");
    }

    [Fact]
    public void A_cap_of_one_sends_a_notification_per_change()
    {
        NotificationBatches.Split([Created("urn:a"), Created("urn:b")], 1).Should().HaveCount(2);
        NotificationBatches.Split([Created("urn:a"), Created("urn:b")], 0).Should().HaveCount(2, "a cap below one counts as one");
    }

    [Fact]
    public void No_changes_make_no_notification() => NotificationBatches.Split([], 100).Should().BeEmpty();
}
