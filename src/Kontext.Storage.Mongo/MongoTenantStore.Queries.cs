using System.Collections.Concurrent;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>Entity queries (pushdown + evaluator, pages in creation order) and the type/attribute statistics.</summary>
internal sealed partial class MongoTenantStore
{
    private const int ScanChunk = 512;
    private readonly ConcurrentDictionary<string, Task> _geoIndexes = new(StringComparer.Ordinal);

    public Task<EntityPage> QueryAsync(EntityPageRequest request, CancellationToken cancellationToken) =>
        StorageMetrics.TimeQuery("mongo", () => QueryPageAsync(request, cancellationToken));

    private async Task<EntityPage> QueryPageAsync(EntityPageRequest request, CancellationToken cancellationToken)
    {
        var query = MongoQueryTranslator.Translate(request);
        if (request.Query.Geo is { } geo) RequestGeoIndex(geo.GeoProperty);
        var filter = query.Filter;
        var bySeq = new BsonDocument("seq", 1);
        if (query.IsExact)
        {
            long? total = request.Count ? await _entities.CountDocumentsAsync(filter, cancellationToken: cancellationToken) : null;
            var docs = request.Limit <= 0 ? [] : await _entities.Find(filter).Sort(bySeq).Skip(request.Offset).Limit(request.Limit).ToListAsync(cancellationToken);
            return new EntityPage(docs.Select(MongoEntityDocument.FromBson).ToList(), total);
        }

        // Keyset walk over the candidates in creation order, keeping what the evaluator accepts.
        var page = new List<Entity>(Math.Min(request.Limit, 1000));
        long matched = 0, after = long.MinValue;
        while (true)
        {
            var chunkFilter = filter.DeepClone().AsBsonDocument;
            chunkFilter["seq"] = new BsonDocument("$gt", after);
            var docs = await _entities.Find(chunkFilter).Sort(bySeq).Limit(ScanChunk).ToListAsync(cancellationToken);
            foreach (var doc in docs)
            {
                after = doc["seq"].ToInt64();
                var entity = MongoEntityDocument.FromBson(doc);
                if (!EntityMatcher.Matches(entity, request.Query)) continue;
                matched++;
                if (matched > request.Offset && page.Count < request.Limit) page.Add(entity);
            }
            var pageComplete = page.Count >= request.Limit && matched > request.Offset;
            if (docs.Count < ScanChunk || (pageComplete && !request.Count)) break;
        }
        return new EntityPage(page, request.Count ? matched : null);
    }

    /// <summary>
    /// The geo filters ($geoWithin, $geoIntersects) need no index to be right, only to be fast: a GeoProperty beyond the core
    /// ones gets a 2dsphere index in the background the first time this process queries it, never inside a request or a
    /// transaction (an index build takes the collection's exclusive lock at its start and end), and at most
    /// <see cref="MongoSchema.MaxExtraGeoIndexes"/> of them (a collection holds at most 64 indexes). Failures are left alone:
    /// the query was right without it.
    /// </summary>
    private void RequestGeoIndex(string property)
    {
        if (MongoSchema.CoreGeoProperties.Contains(property)) return;
        _geoIndexes.GetOrAdd(property, p => Task.Run(async () =>
        {
            try
            {
                var existing = await (await _entities.Indexes.ListAsync()).ToListAsync();
                var name = MongoSchema.GeoIndexName(p);
                var extra = existing.Count(i => i["name"].AsString.StartsWith("geo_", StringComparison.Ordinal)) - MongoSchema.CoreGeoProperties.Length;
                if (existing.Any(i => i["name"] == name) || extra >= MongoSchema.MaxExtraGeoIndexes) return;
                await _entities.Indexes.CreateOneAsync(new CreateIndexModel<BsonDocument>(MongoSchema.GeoKeys(p), new CreateIndexOptions { Name = name }));
            }
            catch (Exception) { } // best effort: the store may be closing, the server may refuse (too many indexes); queries are right without it
        }));
    }

    public async Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken)
    {
        var rows = await (await _entities.AggregateAsync<BsonDocument>(MongoStatisticsPipelines.Types(), cancellationToken: cancellationToken)).ToListAsync(cancellationToken);
        return rows.Select(r => new TypeStatistic(r["_id"].AsString, r["n"].ToInt64())).ToList();
    }

    public async Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken)
    {
        var rows = await (await _entities.AggregateAsync<BsonDocument>(MongoStatisticsPipelines.TypeAttributes(), cancellationToken: cancellationToken)).ToListAsync(cancellationToken);
        return rows.Select(r =>
        {
            var kinds = r["kinds"].AsBsonArray.SelectMany(k => k is BsonArray a ? a : [k])
                .Select(k => k.IsString ? k.AsString : Attr.Property).ToHashSet(StringComparer.Ordinal);
            return new TypeAttributeStatistic(r["_id"]["t"].AsString, MongoKeys.Decode(r["_id"]["a"].AsString), kinds, r["n"].ToInt64());
        }).ToList();
    }
}

/// <summary>The aggregation pipelines behind GET /types and /attributes (unit-tested as BSON).</summary>
public static class MongoStatisticsPipelines
{
    public static BsonDocument[] Types() =>
    [
        new BsonDocument("$unwind", "$type"),
        new BsonDocument("$group", new BsonDocument { { "_id", "$type" }, { "n", new BsonDocument("$sum", 1) } }),
        new BsonDocument("$sort", new BsonDocument("_id", 1)),
    ];

    public static BsonDocument[] TypeAttributes() =>
    [
        new BsonDocument("$project", new BsonDocument { { "type", 1 }, { "attrs", new BsonDocument("$objectToArray", "$attrs") } }),
        new BsonDocument("$unwind", "$type"),
        new BsonDocument("$unwind", "$attrs"),
        new BsonDocument("$group", new BsonDocument
        {
            { "_id", new BsonDocument { { "t", "$type" }, { "a", "$attrs.k" } } },
            { "kinds", new BsonDocument("$addToSet", "$attrs.v.type") },
            { "n", new BsonDocument("$sum", 1) },
        }),
        new BsonDocument("$sort", new BsonDocument { { "_id.t", 1 }, { "_id.a", 1 } }),
    ];
}
