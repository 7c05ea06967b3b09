using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Outbox messages whose subscription no longer exists (left by earlier versions, or by a process stopped between a deletion's
/// commit and its removal of the outbox) leave in the store's background maintenance, a bounded number per pass: the store's
/// real code over the recording fake.
/// </summary>
public sealed class MongoOutboxOrphansTests
{
    private const string Kept = "urn:ngsi-ld:Subscription:kept", Gone = "urn:ngsi-ld:Subscription:gone";
    private static readonly string KeptRegistration = RegistrationSubscriptionKey.ForOutbox("urn:ngsi-ld:Subscription:csub-kept");
    private static readonly string GoneRegistration = RegistrationSubscriptionKey.ForOutbox("urn:ngsi-ld:Subscription:csub-gone");
    private static readonly DateTime Now = new(2026, 12, 1, 16, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime LongAgo = Now - TimeSpan.FromDays(30);

    private static async Task<(FakeMongoServer Server, MongoTenantStore Store)> OpenAsync()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, new MongoStoreOptions { BackgroundMaintenance = false });
        await FakeTenant.SubscribeAsync(store, Kept);
        await store.WriteRegistrationSubscriptionAsync("urn:ngsi-ld:Subscription:csub-kept", _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);
        return (server, store);
    }

    /// <summary>Outbox messages as an earlier version stored them (the fake keeps what it is given).</summary>
    private static void Queue(FakeMongoServer server, string key, int count, DateTime createdAt)
    {
        var outbox = server.Collection("kontext", "outbox");
        lock (outbox)
        {
            for (var i = 0; i < count; i++)
            {
                var seq = outbox.Ids.Count + 1L;
                outbox.Documents.Add(MongoOutbox.Message(seq, key, "http://127.0.0.1:9/n", "{}", createdAt));
                outbox.Ids.Add(seq);
            }
        }
    }

    private static Dictionary<string, int> Queued(FakeMongoServer server) =>
        server.Existing("kontext", "outbox")!.Stored.GroupBy(d => d["sub"].AsString).ToDictionary(g => g.Key, g => g.Count());

    private static MongoOutboxOrphans Cleanup(FakeMongoServer server, int keysPerPass, int messagesPerPass)
    {
        var database = server.Client.GetDatabase("kontext");
        IMongoCollection<BsonDocument> C(string name) => database.GetCollection<BsonDocument>(name);
        return new MongoOutboxOrphans(C(MongoSchema.Outbox), C(MongoSchema.Subscriptions), C(MongoSchema.RegistrationSubscriptions), background: false,
            keysPerPass, messagesPerPass);
    }

    [Fact]
    public async Task Messages_of_deleted_subscriptions_leave_and_those_of_existing_ones_stay()
    {
        var (server, store) = await OpenAsync();
        Queue(server, Kept, 3, LongAgo);
        Queue(server, Gone, 4, LongAgo);
        Queue(server, KeptRegistration, 2, LongAgo);
        Queue(server, GoneRegistration, 5, LongAgo);
        server.ClearCalls();

        (await store.OutboxOrphans.PassAsync(Now, default)).Should().Be(9);

        Queued(server).Should().BeEquivalentTo(new Dictionary<string, int> { [Kept] = 3, [KeptRegistration] = 2 });
        server.Calls.Should().OnlyContain(c => c.Transaction == null && !c.Upsert, "each step is idempotent, outside transactions");
        server.Calls.Where(c => c.IsWrite).Should().OnlyContain(c => c.Collection == "outbox" && c.Command == "delete");
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Every_outbox_filter_of_the_cleanup_is_on_the_subscription_key_or_the_id()
    {
        var (server, store) = await OpenAsync();
        Queue(server, Gone, 2, LongAgo);
        Queue(server, Kept, 1, LongAgo);
        server.ClearCalls();

        await store.OutboxOrphans.PassAsync(Now, default);

        var onOutbox = server.Calls.Where(c => c.Collection == "outbox").ToList();
        onOutbox.Where(c => c.Command == "find").Should().OnlyContain(c => c.Filter!.ElementCount == 0 || c.Filter.Names.First() == "sub",
            "the keys are walked on the outbox's sub index");
        onOutbox.Where(c => c.Command == "delete").Should().OnlyContain(c => c.Filter!.Names.SequenceEqual(new[] { "_id" }));
        MongoSchema.Indexes().Should().Contain(i => i.Collection == MongoSchema.Outbox && i.Name == "subscription");
    }

    [Fact]
    public async Task A_message_younger_than_the_margin_stays_even_without_its_subscription()
    {
        // The subscription may have been created again under the same id after the pass looked: its messages are that young.
        var (server, store) = await OpenAsync();
        Queue(server, Gone, 2, LongAgo);
        Queue(server, Gone, 1, Now - MongoOutboxOrphans.Margin + TimeSpan.FromSeconds(1));

        (await store.OutboxOrphans.PassAsync(Now, default)).Should().Be(2);

        Queued(server).Should().BeEquivalentTo(new Dictionary<string, int> { [Gone] = 1 });
    }

    [Fact]
    public async Task A_pass_removes_at_most_its_budget_and_the_next_goes_on_from_there()
    {
        var (server, _) = await OpenAsync();
        Queue(server, "urn:ngsi-ld:Subscription:a-gone", 3, LongAgo);
        Queue(server, "urn:ngsi-ld:Subscription:b-gone", 3, LongAgo);
        Queue(server, Kept, 1, LongAgo);
        var cleanup = Cleanup(server, keysPerPass: 10, messagesPerPass: 4);

        (await cleanup.PassAsync(Now, default)).Should().Be(4);
        Queued(server).Values.Sum().Should().Be(3, "one message of the kept subscription and two orphans are left");

        (await cleanup.PassAsync(Now, default)).Should().Be(2);
        Queued(server).Should().BeEquivalentTo(new Dictionary<string, int> { [Kept] = 1 });
        (await cleanup.PassAsync(Now, default)).Should().Be(0);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_pass_looks_at_a_bounded_number_of_keys_and_starts_over_after_the_last()
    {
        var (server, _) = await OpenAsync();
        Queue(server, "urn:ngsi-ld:Subscription:a-gone", 1, LongAgo);
        Queue(server, "urn:ngsi-ld:Subscription:b-gone", 1, LongAgo);
        Queue(server, Kept, 1, LongAgo);
        var cleanup = Cleanup(server, keysPerPass: 1, messagesPerPass: 100);

        (await cleanup.PassAsync(Now, default)).Should().Be(1);
        (await cleanup.PassAsync(Now, default)).Should().Be(1);
        (await cleanup.PassAsync(Now, default)).Should().Be(0, "the kept subscription's key");
        Queue(server, "urn:ngsi-ld:Subscription:a-gone", 1, LongAgo); // a new orphan behind the walk
        (await cleanup.PassAsync(Now, default)).Should().Be(0, "past the last key: the walk starts over");
        (await cleanup.PassAsync(Now, default)).Should().Be(1);

        Queued(server).Should().BeEquivalentTo(new Dictionary<string, int> { [Kept] = 1 });
    }

    [Fact]
    public async Task The_store_asks_for_a_cleanup_when_it_opens()
    {
        var server = new FakeMongoServer();
        Queue(server, Gone, 2, DateTime.UtcNow - TimeSpan.FromDays(1));
        var store = await FakeTenant.OpenAsync(server); // with its background maintenance

        await store.OutboxOrphans.Running.WaitAsync(TimeSpan.FromSeconds(30)); // the pass the opening started; the time only guards a hang

        Queued(server).Should().BeEmpty();
        await store.DisposeAsync();
    }
}
