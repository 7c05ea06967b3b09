using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests;
using Kontext.Storage.Tests.Mongo;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>
/// For whoever has a MongoDB replica set (docs/mongodb.md, "Checking against a real server"): two brokers over one database
/// notify every change once, and acknowledged writes survive kill -9 together with their history and change-log entry.
/// Skipped unless KONTEXT_TEST_MONGO holds a mongodb:// URL.
/// </summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoServerKitTests
{
    internal static Dictionary<string, string?> Settings(MongoTestDatabase? database) => new(Subscriptions.SubscriptionFixture.FastNotifications)
    {
        ["Kontext:Storage:Provider"] = database is null ? "sqlite" : "mongo",
        ["Kontext:Storage:Mongo:ConnectionString"] = database?.ConnectionString,
        ["Kontext:Notifications:SubscriptionRefresh"] = "00:00:00.500",
    };

    /// <summary>
    /// D5 across processes: both brokers run the matcher and the dispatcher over the shared change log, cursor and outbox. A
    /// change made through either is notified once: the cursor moves by compare-and-set, the outbox is claimed with leases.
    /// </summary>
    [ContractFact]
    public async Task Two_brokers_over_one_database_notify_every_change_once_whichever_broker_made_it()
    {
        var database = new MongoTestDatabase();
        var a = new BrokerFactory(settings: Settings(database));
        var b = new BrokerFactory(settings: Settings(database));
        try
        {
            await TwoBrokersNotifyEveryChangeOnceAsync(a, b);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            a.DeleteData();
            b.DeleteData();
            await database.DropAsync();
        }
    }

    /// <summary>Creates a subscription through <paramref name="a"/>, 40 entities through both, and expects 40 notifications, none twice.</summary>
    internal static async Task TwoBrokersNotifyEveryChangeOnceAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> a, Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> b)
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var subscription = $$$$"""{"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"format":"keyValues","endpoint":{"uri":"{{{{receiver.Url}}}}"}}}""";
        (await clientA.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await clientB.Send(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // B reloads its subscriptions every 0.5 s (a subscription is cached per process)

        for (var i = 0; i < 40; i++)
            await (i % 2 == 0 ? clientA : clientB).CreateOkAsync($$"""{"id":"urn:ngsi-ld:Meter:{{i}}","type":"Meter","reading":{{i}}}""");

        await receiver.WaitForEntitiesAsync(40, TimeSpan.FromSeconds(60)); // a notification may carry several of the changes
        await receiver.SettleAsync();

        receiver.NotifiedEntities.Select(e => e["id"]!.GetValue<string>()).Should().BeEquivalentTo(Enumerable.Range(0, 40).Select(i => $"urn:ngsi-ld:Meter:{i}"));
        receiver.Duplicates.Should().Be(0, "a change is matched by one broker and each notification sent by one");
    }

    /// <summary>
    /// The broker as its own process on MongoDB, killed with SIGKILL amid a stream of creates: after a restart every
    /// acknowledged entity is there, with its history row and its change-log entry (one transaction, D4 and D5).
    /// </summary>
    [ContractFact]
    public async Task Acknowledged_writes_survive_kill_9_with_their_history_and_change()
    {
        var database = new MongoTestDatabase();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "kontext-tests", "kill-mongo-" + Guid.NewGuid().ToString("N"));
        var environment = new Dictionary<string, string>
        {
            ["Kontext__Storage__Provider"] = "mongo",
            ["Kontext__Storage__Mongo__ConnectionString"] = database.ConnectionString,
        };
        var acknowledged = new List<string>();
        try
        {
            using (var broker = await BrokerProcess.StartAsync(dataDirectory, environment))
            {
                using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
                await DurabilityTests.SubscribeAsync(client); // the log has a reader: every write is logged
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, 4).Select(async _ =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var id = Api.NewId();
                        try
                        {
                            var response = await client.CreateAsync($$$"""{"id":"{{{id}}}","type":"T","v":{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00Z"}}""");
                            if (response.StatusCode == HttpStatusCode.Created) lock (acknowledged) acknowledged.Add(id);
                        }
                        catch (HttpRequestException) { return; }
                        catch (TaskCanceledException) { return; }
                    }
                }).ToList();
                while (true)
                {
                    lock (acknowledged) if (acknowledged.Count >= 200) break;
                    await Task.Delay(20);
                }
                broker.Kill();
                stop.Cancel();
                await Task.WhenAll(writers);
            }

            using var restarted = await BrokerProcess.StartAsync(dataDirectory, environment);
            using var reader = new HttpClient { BaseAddress = new Uri(restarted.Url) };
            List<string> snapshot;
            lock (acknowledged) snapshot = [.. acknowledged];
            await using var storage = new MongoStorage(database.ConnectionString);
            var store = (await storage.GetTenantAsync(null, false, default))!;
            var created = (await store.ReadChangesAsync(0, 100_000, default)).Where(c => c.Operation == "create").Select(c => c.EntityId).ToHashSet();
            foreach (var id in snapshot)
            {
                (await reader.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "{0} was acknowledged", id);
                (await store.ReadHistoryAsync(id, null, default)).Should().HaveCount(1, "{0}'s history commits with it", id);
                created.Should().Contain(id, "{0}'s change-log entry commits with it", id);
            }
        }
        finally
        {
            try { Directory.Delete(dataDirectory, true); } catch (IOException) { }
            await database.DropAsync();
        }
    }
}
