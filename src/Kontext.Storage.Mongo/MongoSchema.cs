using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Collections of a tenant database and their indexes, created when a tenant is first opened by a process. Every collection is
/// created explicitly, so no transaction ever creates one (not allowed in cross-shard write transactions). Several processes may
/// start at once: createCollection answers NamespaceExists, and createIndexes with a spec that exists (or is being built) is a no-op.
/// </summary>
internal static class MongoSchema
{
    public const string Entities = "entities", Instances = "attributeInstances", Changes = "changes", Counters = "counters",
        Subscriptions = "subscriptions", Outbox = "outbox", Cursors = "cursors", Deleted = "deletedEntities", Markers = "historyMarkers",
        Registrations = "registrations", RegistrationSubscriptions = "csourceSubscriptions",
        AdapterUplinks = "adapterUplinks", DeadLetters = "deadLetters", ValidationModes = "validationModes", Buckets = "temporalBuckets";

    public static readonly string[] Collections =
    [
        Entities, Instances, Changes, Counters, Subscriptions, Outbox, Cursors, Deleted, Markers, Registrations, RegistrationSubscriptions,
        AdapterUplinks, DeadLetters, ValidationModes, Buckets,
    ];

    /// <summary>GeoProperties of the core context: a 2dsphere index each from the start; others may get one in the background when queried.</summary>
    public static readonly string[] CoreGeoProperties =
    [
        "https://uri.etsi.org/ngsi-ld/location", "https://uri.etsi.org/ngsi-ld/observationSpace", "https://uri.etsi.org/ngsi-ld/operationSpace",
    ];

    /// <summary>At most this many 2dsphere indexes for GeoProperties beyond the core ones (a collection holds at most 64 indexes).</summary>
    public const int MaxExtraGeoIndexes = 16;

    /// <summary>Every index, by collection: name → keys (and whether unique). docs/mongodb.md explains each.</summary>
    public static IEnumerable<(string Collection, string Name, BsonDocument Keys, bool Unique)> Indexes()
    {
        yield return (Entities, "seq", new BsonDocument("seq", 1), true);                              // creation order: stable paging, keyset scans
        yield return (Entities, "type_seq", new BsonDocument { { "type", 1 }, { "seq", 1 } }, false);  // type queries in page order, type statistics
        yield return (Entities, "scope", new BsonDocument("scope", 1), false);                         // scopeQ (exact and descendant ranges)
        yield return (Entities, "names", new BsonDocument("names", 1), false);                         // q attribute existence, attrs=
        yield return (Entities, "vals", new BsonDocument("vals.$**", 1), false);                       // q comparisons on any attribute (wildcard)
        yield return (Entities, "modifiedAt", new BsonDocument("modifiedAt", 1), false);
        foreach (var property in CoreGeoProperties) yield return (Entities, GeoIndexName(property), GeoKeys(property), false);
        yield return (Instances, "entity_attr_observed", new BsonDocument { { "e", 1 }, { "a", 1 }, { "obs", 1 } }, false);
        yield return (Instances, "entity_attr_modified", new BsonDocument { { "e", 1 }, { "a", 1 }, { "mod", 1 } }, false);
        yield return (Instances, "pending_write", new BsonDocument("w", 1), false);                    // rows of a write not yet visible (few: sparse by content)
        // one bucket per series, granularity and start; a bucket read is one range of it
        yield return (Buckets, "series_start", new BsonDocument { { "e", 1 }, { "a", 1 }, { "g", 1 }, { "ds", 1 }, { "s", 1 } }, true);
        yield return (Outbox, "due", new BsonDocument { { "due", 1 }, { "leaseUntil", 1 } }, false);  // the dispatcher's claim
        yield return (Outbox, "subscription", new BsonDocument("sub", 1), false);                      // deleting a subscription's messages
        yield return (Outbox, "lease", new BsonDocument("leaseToken", 1), false);                      // reading back what a claim took
        yield return (Markers, "entity", new BsonDocument("e", 1), false);                             // the markers of a read's entities
        yield return (DeadLetters, "received", new BsonDocument { { "t", 1 }, { "_id", 1 } }, false); // listing newest first (scanned backwards)
    }

    public static BsonDocument GeoKeys(string property) => new(MongoEntityDocument.Geo + "." + MongoKeys.Encode(property), "2dsphere");

    public static string GeoIndexName(string property) => "geo_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(property)))[..16];

    public static async Task CreateAsync(IMongoDatabase database, CancellationToken cancellationToken)
    {
        var existing = await (await database.ListCollectionsAsync(cancellationToken: cancellationToken)).ToListAsync(cancellationToken);
        if (existing.Any(c => c["name"] == Instances && c.GetValue("type", "collection") == "timeseries"))
            throw new InvalidOperationException(
                $"{database.DatabaseNamespace.DatabaseName}.{Instances} is a time-series collection (made by an earlier Kontext, whose writes could not " +
                "commit: MongoDB does not write time series in transactions). It holds no history Kontext could have written; drop it and start again.");
        foreach (var name in Collections.Except(existing.Select(c => c["name"].AsString)))
        {
            try { await database.CreateCollectionAsync(name, cancellationToken: cancellationToken); }
            catch (MongoCommandException e) when (e.Code == MongoErrors.NamespaceExists) { }
        }
        foreach (var group in Indexes().GroupBy(i => i.Collection))
        {
            var models = group.Select(i => new CreateIndexModel<BsonDocument>(i.Keys, new CreateIndexOptions { Name = i.Name, Unique = i.Unique ? true : null })).ToList();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await database.GetCollection<BsonDocument>(group.Key).Indexes.CreateManyAsync(models, cancellationToken);
                    break;
                }
                catch (MongoCommandException e) when (e.Code == MongoErrors.IndexBuildAlreadyInProgress && attempt < 30)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // another process builds the same indexes: wait for it
                }
            }
        }
    }
}
