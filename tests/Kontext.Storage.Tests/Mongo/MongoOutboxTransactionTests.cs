using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Notifications and the matcher cursor within MongoDB's transaction limits, on the store's real code over the recording fake:
/// one transaction when they fit, several when they do not, the cursor moving only with the last.
/// </summary>
public sealed class MongoOutboxTransactionTests
{
    private const string Subscription = "urn:ngsi-ld:Subscription:s";

    private static List<OutboxMessage> Messages(int count, int size) =>
        Enumerable.Range(0, count).Select(i => new OutboxMessage(0, Subscription, "http://127.0.0.1:9/n", $"{i}:" + new string('n', size), 0, DateTimeOffset.UtcNow)).ToList();

    private static long Cursor(FakeMongoServer server) =>
        server.Existing("kontext", "cursors")?.Stored.SingleOrDefault(c => c["_id"] == "matcher")?["position"].ToInt64() ?? 0;

    [Fact]
    public async Task Notifications_that_fit_are_appended_with_the_cursor_in_one_transaction()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Subscription); // an append keeps only the messages of subscriptions that exist
        await store.ReadCursorAsync("matcher", default);

        await store.AppendNotificationsAsync("matcher", 12, Messages(3, 100), default);

        var outbox = server.Calls.Single(c => c.Collection == "outbox" && c.Command == "insert");
        server.Calls.Single(c => c.Collection == "cursors" && c.IsWrite).Transaction.Should().Be(outbox.Transaction).And.NotBeNull();
        Cursor(server).Should().Be(12);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Notifications_beyond_one_transaction_are_appended_in_several_and_the_last_moves_the_cursor()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, new MongoStoreOptions { MaxTransactionBytes = 4096 });
        await FakeTenant.SubscribeAsync(store, Subscription); // an append keeps only the messages of subscriptions that exist
        await store.ReadCursorAsync("matcher", default);

        await store.AppendNotificationsAsync("matcher", 40, Messages(50, 500), default);

        var inserts = server.Calls.Where(c => c.Collection == "outbox" && c.Command == "insert").ToList();
        inserts.Should().HaveCountGreaterThan(5).And.OnlyContain(c => c.Transaction != null);
        inserts.Should().OnlyContain(c => c.Documents!.Sum(d => d.ToBson().Length) <= 4096);
        server.Calls.Where(c => c.Collection == "cursors" && c.IsWrite).Should().ContainSingle().Which.Transaction.Should().Be(inserts[^1].Transaction);
        server.Existing("kontext", "outbox")!.Stored.Should().HaveCount(50);
        Cursor(server).Should().Be(40);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task When_another_process_moves_the_cursor_between_batches_the_batches_already_appended_are_removed()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, new MongoStoreOptions { MaxTransactionBytes = 4096 });
        await FakeTenant.SubscribeAsync(store, Subscription); // an append keeps only the messages of subscriptions that exist
        await store.ReadCursorAsync("matcher", default);
        var inserted = 0;
        server.FailWrite = (collection, _) =>
        {
            // Another process matches the same changes while this one is half-way: it moves the shared cursor.
            if (collection == "outbox" && ++inserted == 20)
            {
                var cursors = server.Existing("kontext", "cursors") ?? server.Collection("kontext", "cursors");
                lock (cursors) { cursors.Documents.Add(new BsonDocument { { "_id", "matcher" }, { "position", 40L } }); cursors.Ids.Add("matcher"); }
            }
            return null;
        };

        await store.AppendNotificationsAsync("matcher", 40, Messages(50, 500), default);

        server.Existing("kontext", "outbox")!.Stored.Should().BeEmpty("the other process notifies these changes; sending ours too would repeat them");
        Cursor(server).Should().Be(40);
    }
}
