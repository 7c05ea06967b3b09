using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>
/// The batch paths through the HTTP API, over the MongoDB store's real code on the recording fake: a batch of 1,000 entities
/// is 1,000 transactions (all-or-nothing per entity), a temporal create with thousands of instances keeps every transaction
/// within the budget, and every command keeps to the documented limits.
/// </summary>
public sealed class MongoBatchLimitsTests
{
    private static WebApplicationFactory<Program> Broker(FakeMongoServer server, out BrokerFactory owner, string instance = "a")
    {
        owner = new BrokerFactory(settings: MongoServerKitTests.Settings(null));
        var storage = new MongoStorage(server.Client, "kontext", new MongoStoreOptions { InstanceId = instance });
        return owner.WithWebHostBuilder(builder => builder.ConfigureTestServices(services => services.AddSingleton<IEntityStorage>(storage)));
    }

    [Fact]
    public async Task A_batch_upsert_of_1000_entities_is_one_transaction_per_entity_within_the_documented_limits()
    {
        var server = new FakeMongoServer();
        await using var broker = Broker(server, out var owner);
        using var client = broker.CreateClient();
        var entities = new JsonArray(Enumerable.Range(0, 1000).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = $"urn:ngsi-ld:Batch:{i}", ["type"] = "Sensor",
            ["temperature"] = new JsonObject { ["type"] = "Property", ["value"] = i, ["observedAt"] = "2024-01-01T00:00:00Z" },
            ["name"] = new JsonObject { ["type"] = "Property", ["value"] = $"sensor {i}" },
        }).ToArray());

        var response = await client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", entities.ToJsonString());

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var entityWrites = server.Calls.Where(c => c.Collection == "entities" && c.IsWrite).ToList();
        entityWrites.Should().HaveCount(1000).And.OnlyContain(c => c.Transaction != null);
        entityWrites.Select(c => c.Transaction).Distinct().Should().HaveCount(1000, "each entity commits on its own");
        server.Calls.Where(c => c.Transaction != null && c.IsWrite).GroupBy(c => c.Transaction)
            .Should().OnlyContain(t => t.Sum(c => c.Documents == null ? 1 : c.Documents.Count) <= 8,
                "an entity, its two instances, its change, the counter, and the hour and day buckets of its one sample");
        FakeTenant.NoViolations(server);
        owner.DeleteData();
    }

    [Theory]
    [InlineData(500)]
    [InlineData(3_000)]
    public async Task A_temporal_create_with_thousands_of_instances_keeps_every_transaction_within_the_documented_limits(int instances)
    {
        var server = new FakeMongoServer();
        await using var broker = Broker(server, out var owner);
        using var client = broker.CreateClient();
        var body = new JsonObject { ["id"] = "urn:ngsi-ld:Sensor:history", ["type"] = "Sensor", ["temperature"] = FakeTenant.TemporalInstances(instances) }.ToJsonString();

        var response = await client.Send(HttpMethod.Post, "/ngsi-ld/v1/temporal/entities", body);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        server.Existing("kontext", "attributeInstances")!.Stored.Should().HaveCount(instances);
        var staged = server.Calls.Any(c => c.Collection == "attributeInstances" && c.Command == "insert" && c.Transaction == null);
        staged.Should().Be(instances > 1_000, "a history beyond 1,000 documents (or 4 MiB) is staged before the transaction, which then stays small");
        FakeTenant.NoViolations(server);
        owner.DeleteData();
    }

    /// <summary>The two-broker notification check of the server kit, here over one fake database: the cursor and lease logic without a server.</summary>
    [Fact]
    public async Task Two_brokers_over_one_database_notify_every_change_once()
    {
        var server = new FakeMongoServer();
        await using var a = Broker(server, out var ownerA, "a");
        await using var b = Broker(server, out var ownerB, "b");

        await MongoServerKitTests.TwoBrokersNotifyEveryChangeOnceAsync(a, b);

        FakeTenant.NoViolations(server);
        ownerA.DeleteData();
        ownerB.DeleteData();
    }
}
