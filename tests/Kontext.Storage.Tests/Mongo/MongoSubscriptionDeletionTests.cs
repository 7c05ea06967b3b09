using Kontext.Ngsi.Storage;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Deleting or pausing a subscription or a registration subscription removes its pending notifications from the shared
/// outbox before the write returns (so before it is answered), for every process that shares the database; an append
/// racing with a deletion is ordered with it by the subscription's document, so it leaves no message behind: the commands
/// as the server sees them, on the store's real code over the recording fake.
/// </summary>
public sealed class MongoSubscriptionDeletionTests
{
    private const string Kept = "urn:ngsi-ld:Subscription:kept", Gone = "urn:ngsi-ld:Subscription:gone";

    private static OutboxMessage Pending(string key) => new(0, key, "http://127.0.0.1:9/n", "{}", 0, DateTimeOffset.UtcNow);

    /// <summary>Without the background history maintenance, whose writes (the bucket rebuild's flag) would land among the calls compared.</summary>
    private static Task<Kontext.Storage.Mongo.MongoTenantStore> OpenAsync(FakeMongoServer server) =>
        FakeTenant.OpenAsync(server, new Kontext.Storage.Mongo.MongoStoreOptions { BackgroundMaintenance = false });

    private static ServerCall OutboxDeletion(FakeMongoServer server) =>
        server.Calls.Single(c => c.Collection == "outbox" && c.Command == "delete");

    [Fact]
    public async Task Deleting_a_subscription_deletes_its_outbox_messages_by_subscription_id()
    {
        const string id = "urn:ngsi-ld:Subscription:gone";
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, id);
        await FakeTenant.SubscribeAsync(store, "urn:ngsi-ld:Subscription:kept");
        await store.AppendNotificationsAsync(null, 0, [Pending(id), Pending("urn:ngsi-ld:Subscription:kept")], default);

        await FakeTenant.UnsubscribeAsync(store, id);

        var deletion = OutboxDeletion(server);
        deletion.Filter.Should().BeEquivalentTo(new BsonDocument("sub", id));
        deletion.Multi.Should().BeTrue();
        server.Existing("kontext", "outbox")!.Stored.Select(d => d["sub"].AsString).Should().Equal("urn:ngsi-ld:Subscription:kept");
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Deleting_a_registration_subscription_deletes_its_outbox_messages_by_its_outbox_key()
    {
        const string id = "urn:ngsi-ld:Subscription:csub-gone";
        var key = RegistrationSubscriptionKey.ForOutbox(id);
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await store.WriteRegistrationSubscriptionAsync(id, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);
        const string registration = "urn:ngsi-ld:ContextSourceRegistration:owed";
        await store.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, "{}", []), default);
        await store.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, null, [Pending(key)]), default);
        server.Existing("kontext", "outbox")!.Stored.Should().ContainSingle();

        await store.WriteRegistrationSubscriptionAsync(id, _ => new RegistrationSubscriptionWrite<bool>(true, null, []), default);

        var deletion = OutboxDeletion(server);
        deletion.Filter.Should().BeEquivalentTo(new BsonDocument("sub", key));
        deletion.Multi.Should().BeTrue();
        server.Existing("kontext", "outbox")!.Stored.Should().BeEmpty();
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Pausing_a_subscription_deletes_its_outbox_messages_after_the_update()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Gone);
        await FakeTenant.SubscribeAsync(store, Kept);
        await store.AppendNotificationsAsync(null, 0, [Pending(Gone), Pending(Kept)], default);
        server.ClearCalls();

        await store.WriteSubscriptionAsync(Gone, _ => new SubscriptionWrite<bool>(true, "{}") { DropsPending = true }, default);

        OutboxDeletion(server).Filter.Should().BeEquivalentTo(new BsonDocument("sub", Gone));
        server.Calls.Where(c => c.IsWrite).Select(c => (c.Collection, c.Command)).Should().Equal(("subscriptions", "update"), ("outbox", "delete"));
        server.Existing("kontext", "outbox")!.Stored.Select(d => d["sub"].AsString).Should().Equal(Kept);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task An_append_writes_each_subscription_s_document_with_a_change_in_its_transaction()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Kept);
        server.ClearCalls();

        await store.AppendNotificationsAsync(null, 0, [Pending(Kept), Pending(Kept)], default);

        // MongoDB orders two transactions that write one document (the later gets a write conflict and runs again); a
        // write that changes nothing is no write, so the count makes sure the append's always is one.
        var insert = server.Calls.Single(c => c.Collection == "outbox" && c.Command == "insert");
        var touch = server.Calls.Single(c => c.Collection == "subscriptions" && c.Command == "update");
        touch.Transaction.Should().NotBeNull().And.Be(insert.Transaction);
        touch.Filter.Should().BeEquivalentTo(new BsonDocument("_id", Kept));
        touch.Update!["$inc"].Should().BeEquivalentTo(new BsonDocument("outboxAppends", 1L));
        touch.Update["$max"].AsBsonDocument.Names.Should().Equal("lastNotification");
        // The deletion's transaction writes that same document: the two are ordered.
        await FakeTenant.UnsubscribeAsync(store, Kept);
        var deletion = server.Calls.Single(c => c.Collection == "subscriptions" && c.Command == "delete");
        deletion.Transaction.Should().NotBeNull();
        deletion.Filter!["_id"].Should().Be(new BsonString(Kept));
        server.Existing("kontext", "outbox")!.Stored.Should().BeEmpty();
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task An_append_after_its_subscription_s_deletion_leaves_that_subscription_s_messages_out()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Kept);
        await store.ReadCursorAsync("matcher", default);

        await store.AppendNotificationsAsync("matcher", 7, [Pending(Kept), Pending(Gone), Pending(Kept)], default);

        server.Existing("kontext", "outbox")!.Stored.Select(d => d["sub"].AsString).Should().Equal(Kept, Kept);
        server.Existing("kontext", "cursors")!.Stored.Single()["position"].ToInt64().Should().Be(7, "the changes were matched all the same");
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_deletion_committed_while_an_append_runs_makes_the_append_run_again_without_the_deleted_subscription_s_messages()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Kept);
        await FakeTenant.SubscribeAsync(store, Gone);
        await store.ReadCursorAsync("matcher", default);
        // The deletion's transaction commits after the append's began; the append's write of the same document then fails
        // with a WriteConflict (112), and its transaction is undone.
        var raced = false;
        server.FailWrite = (collection, doc) =>
        {
            if (collection != "subscriptions" || doc["_id"] != Gone || !doc.Contains("outboxAppends") || raced) return null;
            raced = true;
            FakeTenant.UnsubscribeAsync(store, Gone).GetAwaiter().GetResult();
            return 112;
        };
        List<OutboxMessage> messages = [Pending(Kept), Pending(Gone)];

        // The driver runs a transaction that failed so again by itself (TransientTransactionError); the fake leaves it to the caller.
        await store.Invoking(s => s.AppendNotificationsAsync("matcher", 7, messages, default)).Should().ThrowAsync<MongoDB.Driver.MongoWriteException>();
        await store.AppendNotificationsAsync("matcher", 7, messages, default);

        raced.Should().BeTrue();
        server.Existing("kontext", "outbox")!.Stored.Select(d => d["sub"].AsString).Should().Equal(Kept);
        server.Existing("kontext", "subscriptions")!.Stored.Select(d => d["_id"].AsString).Should().Equal(Kept);
    }

    [Fact]
    public async Task A_registration_notification_is_appended_only_while_its_registration_subscription_exists()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await store.WriteRegistrationSubscriptionAsync(Kept, _ => new RegistrationSubscriptionWrite<bool>(true, "{}", []), default);
        server.ClearCalls();

        await store.WriteRegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:r", _ => new RegistrationWrite<bool>(true, "{}",
            [Pending(RegistrationSubscriptionKey.ForOutbox(Kept)), Pending(RegistrationSubscriptionKey.ForOutbox(Gone))]), default);

        server.Existing("kontext", "outbox")!.Stored.Select(d => d["sub"].AsString).Should().Equal(RegistrationSubscriptionKey.ForOutbox(Kept));
        var touch = server.Calls.Single(c => c.Collection == "csourceSubscriptions" && c.Command == "update" && c.Filter!["_id"] == Kept);
        touch.Transaction.Should().Be(server.Calls.Single(c => c.Collection == "outbox" && c.Command == "insert").Transaction);
        touch.Update!["$inc"].Should().BeEquivalentTo(new BsonDocument("outboxAppends", 1L));
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_withdrawn_notification_is_deleted_without_touching_its_subscription()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await FakeTenant.SubscribeAsync(store, Kept);
        await store.AppendNotificationsAsync(null, 0, [Pending(Kept)], default);
        var due = await store.ReadDueNotificationsAsync(DateTimeOffset.UtcNow.AddSeconds(1), 10, 0, default);
        server.ClearCalls();

        await store.RecordDeliveriesAsync([new DeliveryRecord(due[0].Sequence, Kept, DeliveryOutcome.Withdrawn, DateTimeOffset.UtcNow, null, 0)], default);

        server.Calls.Where(c => c.IsWrite).Select(c => (c.Collection, c.Command)).Should().Equal(("outbox", "delete"));
        server.Existing("kontext", "outbox")!.Stored.Should().BeEmpty();
    }
}
