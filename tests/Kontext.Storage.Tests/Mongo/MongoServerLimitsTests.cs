using System.Text.Json.Nodes;
using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// The store's real code against <see cref="FakeMongoServer"/>, a recording stand-in behind the driver's interfaces: every
/// command it sends is checked against MongoDB's documented limits (<see cref="DocumentedLimits"/>). Without a server these
/// are what stops a write to a time-series collection inside a transaction, a count with $nearSphere or an update a
/// time-series collection refuses from coming back.
/// </summary>
public sealed class MongoServerLimitsTests
{
    private const string Temperature = "https://uri.etsi.org/ngsi-ld/default-context/temperature";

    private static Task<MongoTenantStore> OpenAsync(FakeMongoServer server) => FakeTenant.OpenAsync(server);

    private static Task CreateAsync(ITenantStore store, string json) => FakeTenant.CreateAsync(store, json);

    private static Task UpdateAsync(ITenantStore store, string json) => FakeTenant.UpdateAsync(store, json);

    private static void NoViolations(FakeMongoServer server) => FakeTenant.NoViolations(server);

    [Fact]
    public async Task Entity_writes_on_a_replica_set_keep_to_the_documented_limits()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);

        await CreateAsync(store, """{"id":"urn:ngsi-ld:T:1","type":"T","temperature":{"type":"Property","value":20,"observedAt":"2024-01-01T00:00:00Z"}}""");
        await UpdateAsync(store, """{"id":"urn:ngsi-ld:T:1","type":"T","temperature":{"type":"Property","value":21,"observedAt":"2024-01-01T00:01:00Z"}}""");
        await store.WriteAsync("urn:ngsi-ld:T:1", _ => EntityWrite<bool>.Delete(true), default);

        server.Calls.Should().Contain(c => c.Transaction != null && c.Collection == "entities", "the write is transactional");
        NoViolations(server);
    }

    [Fact]
    public async Task Modifying_and_deleting_a_temporal_instance_keep_to_the_documented_limits()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await CreateAsync(store, """{"id":"urn:ngsi-ld:T:2","type":"T","temperature":{"type":"Property","value":20,"observedAt":"2024-01-01T00:00:00Z"}}""");
        await UpdateAsync(store, """{"id":"urn:ngsi-ld:T:2","type":"T","temperature":{"type":"Property","value":21,"observedAt":"2024-01-01T00:01:00Z"}}""");
        var history = await store.ReadHistoryAsync("urn:ngsi-ld:T:2", Temperature, default);

        var replaced = await store.ReplaceInstanceAsync("urn:ngsi-ld:T:2", Temperature, history[0].InstanceId,
            new JsonObject { ["type"] = "Property", ["value"] = 19, ["observedAt"] = "2024-01-01T00:00:00Z" }, DateTimeOffset.UtcNow, default);
        var deleted = await store.DeleteInstanceAsync("urn:ngsi-ld:T:2", Temperature, history[1].InstanceId, default);

        (replaced, deleted).Should().Be((true, true));
        NoViolations(server);
    }

    [Fact]
    public async Task Deleting_a_temporal_entity_with_its_history_keeps_to_the_documented_limits()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        await CreateAsync(store, """{"id":"urn:ngsi-ld:T:3","type":"T","temperature":{"type":"Property","value":20}}""");

        var (existed, purged) = await store.WriteAndPurgeAsync("urn:ngsi-ld:T:3", current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true),
            HistoryPurge.WholeEntity, default);

        existed.Should().BeTrue();
        purged.Should().BePositive();
        NoViolations(server);
    }

    [Fact]
    public async Task Counted_near_queries_keep_to_the_documented_limits()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        var near = EntityQuery.Parse(new EntityQueryParameters(Type: "T", GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[4.9,52.3]"), ContextProcessor.Core);
        var onOtherProperty = EntityQuery.Parse(new EntityQueryParameters(GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[4.9,52.3]",
            GeoProperty: "https://example.org/where"), ContextProcessor.Core);

        await store.QueryAsync(new EntityPageRequest(near, 0, 20, Count: true), default);
        await store.QueryAsync(new EntityPageRequest(onOtherProperty, 0, 20, Count: true), default);

        NoViolations(server);
    }

    [Fact]
    public async Task Notifications_keep_to_the_documented_limits()
    {
        var server = new FakeMongoServer();
        var store = await OpenAsync(server);
        var now = DateTimeOffset.UtcNow;
        await store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:s", _ => new SubscriptionWrite<bool>(true, "{}"), default);
        await store.ReadCursorAsync("matcher", default);

        await store.AppendNotificationsAsync("matcher", 3, [new OutboxMessage(0, "urn:ngsi-ld:Subscription:s", "http://127.0.0.1:9/n", "m", 0, now)], default);
        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, 0, default);
        await store.RenewLeasesAsync(due.Select(m => m.Sequence).ToList(), now, default);
        await store.RecordDeliveriesAsync(due.Select(m => new DeliveryRecord(m.Sequence, m.SubscriptionId, DeliveryOutcome.Delivered, now, null, 0)).ToList(), default);

        NoViolations(server);
    }
}
