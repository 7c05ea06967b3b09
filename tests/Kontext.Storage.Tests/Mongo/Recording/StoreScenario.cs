using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// Every operation of the storage port, run once through the MongoDB store over a <see cref="FakeMongoServer"/>: storage and
/// tenants, contexts, entity writes (small and staged histories, a geometry S2 rejects, a write that fails after staging),
/// every query feature the translator knows, statistics, temporal reads and aggregations, temporal instance writes and purges,
/// subscriptions, the cursor and the outbox (one and several batches, a cursor moved by another process), the change log's prune, the history
/// maintenance, the adapters' claims, dead letters and validation modes, and a background 2dsphere index. What the server received is the store's complete repertoire.
/// </summary>
internal static class StoreScenario
{
    public static async Task<FakeMongoServer> RunAsync()
    {
        var server = new FakeMongoServer();
        var options = new MongoStoreOptions { MaxTransactionBytes = 16 * 1024, ChangeLogRetention = TimeSpan.Zero };
        await using var storage = new MongoStorage(server.Client, "kontext", options);

        var store = (MongoTenantStore)(await storage.GetTenantAsync(null, true, default))!;
        await storage.GetTenantAsync("city", true, default);
        await storage.GetTenantAsync("city", false, default);
        await storage.ListTenantsAsync(default);

        await storage.Contexts.PutAsync("https://example.org/c.jsonld", """{"@context":{}}""", default);
        await storage.Contexts.GetAsync("https://example.org/c.jsonld", default);
        await storage.Contexts.ListAsync(default);
        await storage.Contexts.DeleteAsync("https://example.org/c.jsonld", default);

        await WritesAsync(server, store);
        await QueriesAsync(store);
        await TemporalAsync(store);
        await NotificationsAsync(server, store);
        await RegistrationsAsync(store);
        await AdaptersAsync(store);

        await store.Maintenance.PassAsync(DateTime.UtcNow + MongoHistoryMaintenance.AbandonedAfter + TimeSpan.FromMinutes(1), default);
        await BackgroundGeoIndexAsync(server, store);
        return server;
    }

    private static async Task WritesAsync(FakeMongoServer server, MongoTenantStore store)
    {
        await FakeTenant.CreateAsync(store, """
            {"id":"urn:ngsi-ld:S:1","type":"Sensor","scope":"/city/north","temperature":{"type":"Property","value":20,"observedAt":"2024-01-01T00:00:00Z"},
             "name":{"type":"Property","value":"one"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[4.9,52.3]}}}
            """);
        // The creation is not logged (no subscription, nothing transient); from here on every write is.
        await FakeTenant.SubscribeAsync(store);
        await FakeTenant.UpdateAsync(store, """{"id":"urn:ngsi-ld:S:1","type":"Sensor","temperature":{"type":"Property","value":21,"observedAt":"2024-01-01T00:01:00Z"}}""");
        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:S:2", 200); // staged: more than the 16 KiB budget
        await store.WriteAsync("urn:ngsi-ld:S:2", _ => EntityWrite<bool>.Delete(true), default);
        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:S:2","type":"Sensor","temperature":{"type":"Property","value":1}}""");

        server.FailWrite = (collection, doc) => collection == "entities" && doc["_id"] == "urn:ngsi-ld:S:3" && doc["geo"].AsBsonDocument.ElementCount > 0 ? 16755 : null;
        await FakeTenant.CreateAsync(store, """{"id":"urn:ngsi-ld:S:3","type":"Sensor","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,1]}}}""");
        server.FailWrite = (collection, doc) => collection == "changes" && doc["e"] == "urn:ngsi-ld:S:4" ? 2 : null;
        try { await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:S:4", 200); } catch (MongoDB.Driver.MongoWriteException) { }
        server.FailWrite = null;
    }

    private static async Task QueriesAsync(MongoTenantStore store)
    {
        EntityQueryParameters[] queries =
        [
            new(Type: "Sensor"), new(Type: "Sensor,Other"), new(Type: "(Sensor;Other)|Third"), new(Id: "urn:ngsi-ld:S:1,urn:ngsi-ld:S:2"),
            new(IdPattern: "^urn:ngsi-ld:S:.*"), new(ScopeQ: "/city/#"), new(ScopeQ: "/city"), new(ScopeQ: "/#"),
            new(Q: "temperature==20"), new(Q: "temperature>=20;temperature<30"), new(Q: "temperature==19..22"), new(Q: "temperature==20,21"),
            new(Q: "name==\"one\""), new(Q: "temperature!=5"), new(Q: "name~=^o"), new(Q: "!missing"), new(Q: "temperature.observedAt>2024-01-01T00:00:00Z"),
            new(Q: "temperature.datasetId==\"urn:ngsi-ld:D:1\""), new(Q: "(temperature>1|name);temperature<100"),
            new(GeoRel: "near;maxDistance==2000", Geometry: "Point", Coordinates: "[4.9,52.3]"),
            new(GeoRel: "near;minDistance==10", Geometry: "Point", Coordinates: "[4.9,52.3]"),
            new(GeoRel: "within", Geometry: "Polygon", Coordinates: "[[[4,52],[5,52],[5,53],[4,53],[4,52]]]"),
            new(GeoRel: "intersects", Geometry: "Point", Coordinates: "[4.9,52.3]"),
            new(GeoRel: "disjoint", Geometry: "Point", Coordinates: "[0,0]"),
        ];
        foreach (var parameters in queries)
        {
            var query = EntityQuery.Parse(parameters, ContextProcessor.Core);
            await store.QueryAsync(new EntityPageRequest(query, 0, 20, Count: true), default);
            await store.QueryAsync(new EntityPageRequest(query, 1, 5, Count: false, AnyOfAttributes: new HashSet<string> { "https://uri.etsi.org/ngsi-ld/default-context/temperature" }), default);
        }
        await store.ListTypesAsync(default);
        await store.ListTypeAttributesAsync(default);
        await store.GetEntityAsync("urn:ngsi-ld:S:1", default);
    }

    private static async Task TemporalAsync(MongoTenantStore store)
    {
        const string temperature = "https://uri.etsi.org/ngsi-ld/default-context/temperature";
        string[] ids = ["urn:ngsi-ld:S:1", "urn:ngsi-ld:S:2"];
        var from = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        await store.ReadInstancesAsync(new TemporalReadRequest(ids, null, TemporalTimeProperty.ObservedAt, from, true, from.AddDays(1), 3, Newest: true), default);
        await store.ReadInstancesAsync(new TemporalReadRequest(ids, new HashSet<string> { temperature }, TemporalTimeProperty.ModifiedAt, null, false, null, int.MaxValue - 1, false), default);
        await store.ReadInstancesAsync(new TemporalReadRequest(ids, null, TemporalTimeProperty.DeletedAt, null, false, null, 10, false), default);
        await store.AggregateAsync(new TemporalAggregateRequest(ids, null, TemporalTimeProperty.ObservedAt, from, true, from.AddDays(1), TimeSpan.FromHours(1)), default);
        await store.AggregateAsync(new TemporalAggregateRequest(ids, null, TemporalTimeProperty.CreatedAt, null, true, null, TimeSpan.FromHours(1)), default);
        await store.AggregateAsync(new TemporalAggregateRequest(ids, null, TemporalTimeProperty.CreatedAt, null, true, null, TimeSpan.Zero), default);
        await store.GetDeletedEntityAsync("urn:ngsi-ld:S:2", default);

        var history = await store.ReadHistoryAsync("urn:ngsi-ld:S:1", temperature, default);
        await store.Maintenance.PassAsync(DateTime.UtcNow, default); // the staged write's buckets rebuilt, its marker gone: buckets are read
        await store.ReadBucketsAsync(new TemporalBucketRequest(ids, new HashSet<string> { temperature }, BucketGranularity.Day, from, from.AddDays(7), new HashSet<string?> { null }), default);
        // to the next day, then the last sample of the first goes: its buckets are rebuilt, then deleted
        await store.ReplaceInstanceAsync("urn:ngsi-ld:S:1", temperature, history[0].InstanceId,
            new JsonObject { ["type"] = "Property", ["value"] = 19, ["observedAt"] = "2024-01-02T00:00:00Z" }, DateTimeOffset.UtcNow, default);
        await store.DeleteInstanceAsync("urn:ngsi-ld:S:1", temperature, history[1].InstanceId, default);
        await store.WriteAndPurgeAsync("urn:ngsi-ld:S:1", _ => EntityWrite<bool>.Nothing(false), new HistoryPurge("https://uri.etsi.org/ngsi-ld/default-context/name"), default);
        await store.WriteAndPurgeAsync("urn:ngsi-ld:S:2", current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true), HistoryPurge.WholeEntity, default);
        await store.ReadHistoryAsync("urn:ngsi-ld:S:2", null, default); // with the purge markers not yet swept
        await store.ReadInstancesAsync(new TemporalReadRequest(ids, null, TemporalTimeProperty.ObservedAt, null, false, null, 3, Newest: false), default);
        await store.ReadChangesAsync(0, 100, default);
    }

    private static async Task NotificationsAsync(FakeMongoServer server, MongoTenantStore store)
    {
        const string subscription = "urn:ngsi-ld:Subscription:s";
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, "{}"), default);
        await store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, """{"changed":true}"""), default);
        await store.ListSubscriptionsAsync(default);
        await store.GetSubscriptionAsync(subscription, default);

        var now = DateTimeOffset.UtcNow;
        List<OutboxMessage> Messages(int count) => Enumerable.Range(0, count).Select(i => new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", new string('m', 2000), 0, now)).ToList();
        await store.ReadCursorAsync("matcher", default);
        await store.AppendNotificationsAsync("matcher", 5, Messages(1), default);
        await store.AppendNotificationsAsync("matcher", 9, Messages(20), default); // several transactions
        await store.AppendNotificationsAsync(null, 0, Messages(1), default);
        var due = await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, 0, default);
        await store.ReadDueNotificationsAsync(now.AddSeconds(1), 10, due[^1].Sequence, default); // reading on from the last one
        await store.RenewLeasesAsync([due[0].Sequence, due[1].Sequence], now, default);
        // one batch of outcomes: one delete of the finished, the retry rescheduled, one counter update for the subscription
        await store.RecordDeliveriesAsync(
        [
            new DeliveryRecord(due[0].Sequence, subscription, DeliveryOutcome.Delivered, now, null, 0),
            new DeliveryRecord(due[1].Sequence, subscription, DeliveryOutcome.Retry, now, now.AddMinutes(1), 0),
            new DeliveryRecord(due[2].Sequence, subscription, DeliveryOutcome.GaveUp, now, null, 2),
        ], default);

        // Another process moves the cursor while this one appends in several transactions: its batches are removed again.
        var inserted = 0;
        server.FailWrite = (collection, _) =>
        {
            if (collection == "outbox" && ++inserted == 3)
            {
                var cursors = server.Collection("kontext", "cursors");
                lock (cursors) cursors.Documents.Single(c => c["_id"] == "matcher")["position"] = 99L;
            }
            return null;
        };
        await store.AppendNotificationsAsync("matcher", 12, Messages(20), default);
        server.FailWrite = null;

        // The cursor a tail past every entry written above: the prune deletes them, a range of _id at a time.
        await store.ReadCursorAsync("matcher", default);
        await store.AppendNotificationsAsync("matcher", MongoChangeLogPrune.Kept + 99, [], default);
        await store.ChangeLogPrune.PassAsync(TimeSpan.Zero, default);

        await store.WriteSubscriptionAsync(subscription, current => new SubscriptionWrite<bool>(current is not null, null), default);
    }

    private static async Task AdaptersAsync(MongoTenantStore store)
    {
        var now = DateTimeOffset.UtcNow;
        await store.TryClaimUplinkAsync("70B3D57BA0000001", 1, now, TimeSpan.FromDays(2), default);
        await store.TryClaimUplinkAsync("70B3D57BA0000001", 1, now, TimeSpan.FromDays(2), default); // a duplicate: the upsert's insert fails on _id
        await store.ReleaseUplinkAsync("70B3D57BA0000001", 1, default);
        var letter = new DeadLetter { Id = "dl", Source = "ttn", Kind = "tts", Reason = "unmapped", Detail = "d", Payload = "{}", ReceivedAt = now, LastAttemptAt = now };
        await store.AddDeadLetterAsync(letter, default);
        await store.UpdateDeadLetterAsync(letter with { Status = "replayed", Attempts = 2 }, default);
        await store.GetDeadLetterAsync("dl", default);
        await store.ListDeadLettersAsync(null, 100, default);
        await store.ListDeadLettersAsync("pending", 100, default);
        await store.DeleteDeadLetterAsync("dl", default);
        await store.SetValidationModeAsync("FloodMonitoring", ValidationMode.Enforce, default);
        await store.GetValidationModeAsync("FloodMonitoring", default);
        await store.ListValidationModesAsync(default);
        await store.SetValidationModeAsync("FloodMonitoring", null, default);
    }

    private static async Task BackgroundGeoIndexAsync(FakeMongoServer server, MongoTenantStore store)
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(GeoRel: "intersects", Geometry: "Point", Coordinates: "[1,1]", GeoProperty: "https://example.org/where"), ContextProcessor.Core);
        await store.QueryAsync(new EntityPageRequest(query, 0, 20, false), default);
        for (var i = 0; i < 200 && !server.Calls.Any(c => c.Command == "createIndexes" && c.Documents!.Any(d => d["key"].AsBsonDocument.Contains("geo.https://example%2Eorg/where"))); i++)
            await Task.Delay(25);
    }

    /// <summary>Context source registrations and registration subscriptions: create, read, update, count a forwarding, notify, delete.</summary>
    private static async Task RegistrationsAsync(MongoTenantStore store)
    {
        const string registration = "urn:ngsi-ld:ContextSourceRegistration:1", subscription = "urn:ngsi-ld:Subscription:r1";
        var now = DateTimeOffset.UtcNow;
        await store.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, """{"type":"ContextSourceRegistration"}""", []), default);
        await store.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, """{"type":"ContextSourceRegistration","mode":"inclusive"}""", []), default);
        await store.GetRegistrationAsync(registration, default);
        await store.ListRegistrationsAsync(default);
        await store.RecordForwardingAsync(registration, succeeded: true, now, default);
        await store.RecordForwardingAsync(registration, succeeded: false, now, default);
        await store.WriteRegistrationSubscriptionAsync(subscription, _ => new RegistrationSubscriptionWrite<bool>(true, """{"type":"Subscription"}""", []), default);
        var notification = new OutboxMessage(0, RegistrationSubscriptionKey.ForOutbox(subscription), "http://127.0.0.1:9/n", "{}", 0, now);
        await store.WriteRegistrationAsync(registration, _ => new RegistrationWrite<bool>(true, null, [notification]), default);
        await store.GetRegistrationSubscriptionAsync(subscription, default);
        await store.ListRegistrationSubscriptionsAsync(default);
        await store.WriteRegistrationSubscriptionAsync(subscription, _ => new RegistrationSubscriptionWrite<bool>(true, null, []), default);
    }
}
