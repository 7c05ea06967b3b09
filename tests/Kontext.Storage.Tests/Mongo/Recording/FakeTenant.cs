using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Mongo;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>A tenant store of the real MongoDB store code over a <see cref="FakeMongoServer"/>, and the writes the tests make with it.</summary>
public static class FakeTenant
{
    internal static async Task<MongoTenantStore> OpenAsync(FakeMongoServer server, MongoStoreOptions? options = null)
    {
        var client = server.Client;
        var store = new MongoTenantStore(null, client, client.GetDatabase("kontext"), options ?? new MongoStoreOptions(), _ => { });
        await store.InitializeAsync(default);
        return store;
    }

    /// <summary>A subscription, so the tenant's writes are logged (the store leaves out what nobody reads).</summary>
    public static Task SubscribeAsync(ITenantStore store, string id = "urn:ngsi-ld:Subscription:follows") =>
        store.WriteSubscriptionAsync(id, _ => new SubscriptionWrite<bool>(true, "{}"), default);

    /// <summary>Deletes the subscription <see cref="SubscribeAsync"/> made.</summary>
    public static Task UnsubscribeAsync(ITenantStore store, string id = "urn:ngsi-ld:Subscription:follows") =>
        store.WriteSubscriptionAsync(id, current => new SubscriptionWrite<bool>(current is not null, null), default);

    public static Entity Parse(string json) =>
        EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    public static Task CreateAsync(ITenantStore store, string json)
    {
        var entity = Parse(json);
        return store.WriteAsync(entity.Id, current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
        }, default);
    }

    public static Task UpdateAsync(ITenantStore store, string json)
    {
        var fragment = Parse(json);
        return store.WriteAsync(fragment.Id, current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            operations.Update(current!, fragment);
            return EntityWrite<bool>.Upsert(current!, operations.Changes, true);
        }, default);
    }

    /// <summary>Create or Update Temporal Representation with <paramref name="count"/> instances of one numeric attribute.</summary>
    public static Task<bool> TemporalCreateAsync(ITenantStore store, string id, int count, string attribute = "temperature") =>
        TemporalWriteAsync(store, new JsonObject { ["id"] = id, ["type"] = "T", [attribute] = TemporalInstances(count) });

    /// <summary>A Create or Update Temporal Representation of the entity <paramref name="body"/> describes, as the Temporal API makes it.</summary>
    public static Task<bool> TemporalWriteAsync(ITenantStore store, JsonObject body)
    {
        var input = TemporalEntityInput.Parse(body, ContextProcessor.Core, urlId: null);
        return store.WriteAsync(input.Id, EntityWrites.AddTemporalInstances(input, mustExist: false), default);
    }

    /// <summary>Small numeric instances a minute apart, as a temporal body carries them.</summary>
    public static JsonArray TemporalInstances(int count) => new(Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject
    {
        ["type"] = "Property", ["value"] = i, ["observedAt"] = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(i).ToString("yyyy-MM-ddTHH:mm:ssZ"),
    }).ToArray());

    public static void NoViolations(FakeMongoServer server) =>
        string.Join("\n", DocumentedLimits.Violations(server)).Should().BeEmpty("every command must be one MongoDB documents as supported");
}
