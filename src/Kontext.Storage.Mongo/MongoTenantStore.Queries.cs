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

    public async Task<EntityPage> QueryAsync(EntityPageRequest request, CancellationToken cancellationToken)
    {
        var query = MongoQueryTranslator.Translate(request);
        if (request.Query.Geo is { } geo) await EnsureGeoIndexAsync(geo.GeoProperty, cancellationToken);
        var filter = Live(query.Filter);
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

    /// <summary>On a standalone server a delete in progress is a marked document: queries skip it.</summary>
    private BsonDocument Live(BsonDocument filter)
    {
        if (_transactions) return filter;
        var live = filter.DeepClone().AsBsonDocument;
        live["pending.op"] = new BsonDocument("$ne", "delete");
        return live;
    }

    /// <summary>$nearSphere needs a 2dsphere index: GeoProperties beyond the core ones get theirs on first use.</summary>
    private Task EnsureGeoIndexAsync(string property, CancellationToken cancellationToken) =>
        _geoIndexes.GetOrAdd(property, p => _entities.Indexes.CreateOneAsync(
            new CreateIndexModel<BsonDocument>(MongoSchema.GeoKeys(p), new CreateIndexOptions { Name = MongoSchema.GeoIndexName(p) }), cancellationToken: cancellationToken))
        .WaitAsync(cancellationToken);

    public async Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken)
    {
        var rows = await _entities.Aggregate<BsonDocument>(MongoStatisticsPipelines.Types(!_transactions), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
        return rows.Select(r => new TypeStatistic(r["_id"].AsString, r["n"].ToInt64())).ToList();
    }

    public async Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken)
    {
        var rows = await _entities.Aggregate<BsonDocument>(MongoStatisticsPipelines.TypeAttributes(!_transactions), cancellationToken: cancellationToken).ToListAsync(cancellationToken);
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
    private static IEnumerable<BsonDocument> LiveOnly(bool standalone) =>
        standalone ? [new BsonDocument("$match", new BsonDocument("pending.op", new BsonDocument("$ne", "delete")))] : [];

    public static BsonDocument[] Types(bool standalone) =>
    [
        .. LiveOnly(standalone),
        new BsonDocument("$unwind", "$type"),
        new BsonDocument("$group", new BsonDocument { { "_id", "$type" }, { "n", new BsonDocument("$sum", 1) } }),
        new BsonDocument("$sort", new BsonDocument("_id", 1)),
    ];

    public static BsonDocument[] TypeAttributes(bool standalone) =>
    [
        .. LiveOnly(standalone),
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
