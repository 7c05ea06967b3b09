using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using Microsoft.AspNetCore.TestHost;
using MongoDB.Bson;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>
/// An outbox message whose subscription is gone (a process stopped between a deletion's commit and its removal of the
/// outbox) is found by a broker starting over the database before the store's cleanup removes it (that waits for a pass
/// and a margin): the dispatcher does not know the subscription, asks the store, and drops the message instead of sending
/// it. A subscription the store has is notified as usual. The broker's real code over the recording fake of MongoDB.
/// </summary>
public sealed class MongoOrphanDeliveryTests
{
    private const string Gone = "urn:ngsi-ld:Subscription:gone", Orphan = "urn:ngsi-ld:Meter:orphan";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_message_of_a_subscription_the_store_no_longer_has_is_dropped_not_sent(bool registrationSubscription)
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var server = new FakeMongoServer();
        var key = registrationSubscription ? RegistrationSubscriptionKey.ForOutbox(Gone) : Gone;
        var request = new NotificationRequest("application/json", [],
            $$"""{"id":"urn:ngsi-ld:Notification:orphan","type":"Notification","subscriptionId":"{{Gone}}","notifiedAt":"2026-12-01T00:00:00Z","data":[{"id":"{{Orphan}}","type":"Meter"}]}""");
        var database = server.Client.GetDatabase("kontext");
        // Made just now, well within the cleanup's margin; the next message appended takes the sequence after it.
        await database.GetCollection<BsonDocument>(MongoSchema.Outbox).InsertOneAsync(MongoOutbox.Message(1, key, receiver.Url, request.Serialize(), DateTime.UtcNow));
        await database.GetCollection<BsonDocument>(MongoSchema.Counters).InsertOneAsync(new BsonDocument { { "_id", "outbox" }, { "seq", 1L } });

        var owner = new BrokerFactory(settings: MongoServerKitTests.Settings(null));
        var storage = new MongoStorage(server.Client, "kontext", new MongoStoreOptions { InstanceId = "a" });
        await using (var broker = owner.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<IEntityStorage>(storage))))
        {
            using var client = broker.CreateClient();
            (await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
                $$$$"""{"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"{{{{receiver.Url}}}}"}}}"""))
                .StatusCode.Should().Be(HttpStatusCode.Created);
            await client.CreateOkAsync("""{"id":"urn:ngsi-ld:Meter:live","type":"Meter","reading":1}""");
            await receiver.WaitForAsync(1);

            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (OrphanQueued() && DateTime.UtcNow < deadline) await Task.Delay(50);
            OrphanQueued().Should().BeFalse("the dispatcher took the message and recorded what became of it");
        }
        owner.DeleteData();

        receiver.Received.Select(n => n.Entity["id"]!.GetValue<string>()).Should().Equal(["urn:ngsi-ld:Meter:live"],
            "the orphan's notification is dropped; the live subscription's is sent");
        FakeTenant.NoViolations(server);

        bool OrphanQueued() => server.Existing("kontext", MongoSchema.Outbox)!.Stored.Any(d => d["sub"] == key);
    }
}
