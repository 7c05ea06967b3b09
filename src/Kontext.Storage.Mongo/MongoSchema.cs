using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>Collections of a tenant database and the indexes created at start-up (idempotent: createIndexes is a no-op when present).</summary>
internal static class MongoSchema
{
    public const string Entities = "entities", Instances = "attributeInstances", Changes = "changes", Counters = "counters",
        Subscriptions = "subscriptions", Outbox = "outbox", Cursors = "cursors", Deleted = "deletedEntities";

    /// <summary>GeoProperties of the core context: a 2dsphere index each from the start; others get one when first queried.</summary>
    public static readonly string[] CoreGeoProperties =
    [
        "https://uri.etsi.org/ngsi-ld/location", "https://uri.etsi.org/ngsi-ld/observationSpace", "https://uri.etsi.org/ngsi-ld/operationSpace",
    ];

    /// <summary>Every index, by collection: name → keys (and whether unique). The README explains each.</summary>
    public static IEnumerable<(string Collection, string Name, BsonDocument Keys, bool Unique)> Indexes()
    {
        yield return (Entities, "seq", new BsonDocument("seq", 1), true);                              // creation order: stable paging, keyset scans
        yield return (Entities, "type_seq", new BsonDocument { { "type", 1 }, { "seq", 1 } }, false);  // type queries in page order, type statistics
        yield return (Entities, "scope", new BsonDocument("scope", 1), false);                         // scopeQ (exact and descendant ranges)
        yield return (Entities, "names", new BsonDocument("names", 1), false);                         // q attribute existence, attrs=
        yield return (Entities, "vals", new BsonDocument("vals.$**", 1), false);                       // q comparisons on any attribute (wildcard)
        yield return (Entities, "modifiedAt", new BsonDocument("modifiedAt", 1), false);
        yield return (Entities, "pending", new BsonDocument("pending.seq", 1), false);                 // standalone write-ahead recovery (sparse by nature)
        foreach (var property in CoreGeoProperties) yield return (Entities, GeoIndexName(property), GeoKeys(property), false);
        yield return (Instances, "entity_attr_observed", new BsonDocument { { "meta.e", 1 }, { "meta.a", 1 }, { "obs", 1 } }, false);
        yield return (Instances, "entity_attr_modified", new BsonDocument { { "meta.e", 1 }, { "meta.a", 1 }, { "mod", 1 } }, false);
        yield return (Instances, "instance", new BsonDocument("iid", 1), false);
        yield return (Outbox, "due", new BsonDocument { { "due", 1 }, { "leaseUntil", 1 } }, false);  // the dispatcher's claim
        yield return (Outbox, "subscription", new BsonDocument("sub", 1), false);                      // deleting a subscription's messages
    }

    public static BsonDocument GeoKeys(string property) => new(MongoEntityDocument.Geo + "." + MongoKeys.Encode(property), "2dsphere");

    public static string GeoIndexName(string property) => "geo_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(property)))[..16];

    public static async Task CreateAsync(IMongoDatabase database, CancellationToken cancellationToken)
    {
        try
        {
            // History as a time-series collection: buckets per (entity, attribute), time = observedAt, else modifiedAt.
            await database.CreateCollectionAsync(Instances, new CreateCollectionOptions
            {
                TimeSeriesOptions = new TimeSeriesOptions("ts", "meta", TimeSeriesGranularity.Seconds),
            }, cancellationToken);
        }
        catch (MongoCommandException e) when (e.Code == 48) { } // NamespaceExists
        foreach (var group in Indexes().GroupBy(i => i.Collection))
        {
            var models = group.Select(i => new CreateIndexModel<BsonDocument>(i.Keys, new CreateIndexOptions { Name = i.Name, Unique = i.Unique ? true : null }));
            await database.GetCollection<BsonDocument>(group.Key).Indexes.CreateManyAsync(models, cancellationToken);
        }
    }
}
