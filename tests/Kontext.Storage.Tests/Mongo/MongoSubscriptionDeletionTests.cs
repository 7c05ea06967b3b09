using Kontext.Ngsi.Storage;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// Deleting a subscription or a registration subscription removes its pending notifications from the shared outbox
/// before the deletion returns (so before it is answered), for every process that shares the database: the commands
/// as the server sees them, on the store's real code over the recording fake.
/// </summary>
public sealed class MongoSubscriptionDeletionTests
{
    private static OutboxMessage Pending(string key) => new(0, key, "http://127.0.0.1:9/n", "{}", 0, DateTimeOffset.UtcNow);

    private static ServerCall OutboxDeletion(FakeMongoServer server) =>
        server.Calls.Single(c => c.Collection == "outbox" && c.Command == "delete");

    [Fact]
    public async Task Deleting_a_subscription_deletes_its_outbox_messages_by_subscription_id()
    {
        const string id = "urn:ngsi-ld:Subscription:gone";
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server);
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
        var store = await FakeTenant.OpenAsync(server);
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
}
