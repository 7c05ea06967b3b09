using Kontext.Ngsi.Storage;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Temporal reads as aggregation pipelines over the attributeInstances time series: the window is a $match on the
/// (entity, attribute, time) index, lastN / the per-attribute limit a $group with $topN (MongoDB 5.2+) ordered by time
/// then append order, so only each (entity, attribute)'s first or last N instances of the window leave the server.
/// </summary>
public static class MongoTemporalPipelines
{
    public static string TimeField(TemporalTimeProperty property) => property == TemporalTimeProperty.ObservedAt ? "obs" : "mod";

    public static BsonDocument[] ReadInstances(TemporalReadRequest request)
    {
        var time = TimeField(request.TimeProperty);
        var match = new BsonDocument("meta.e", new BsonDocument("$in", new BsonArray(request.EntityIds)));
        if (request.Attributes is { } attributes) match.Add("meta.a", new BsonDocument("$in", new BsonArray(attributes.Order(StringComparer.Ordinal))));
        var window = new BsonDocument("$ne", BsonNull.Value);
        if (request.From is { } from) window.Add(request.FromInclusive ? "$gte" : "$gt", from.UtcDateTime);
        if (request.To is { } to) window.Add("$lt", to.UtcDateTime);
        match.Add(time, window);
        switch (request.TimeProperty)
        {
            case TemporalTimeProperty.DeletedAt: match.Add("kind", "Deleted"); break;
            case TemporalTimeProperty.ModifiedAt: break;
            default: match.Add("kind", new BsonDocument("$ne", "Deleted")); break;
        }
        var direction = request.Newest ? -1 : 1;
        return
        [
            new BsonDocument("$match", match),
            new BsonDocument("$group", new BsonDocument
            {
                { "_id", new BsonDocument { { "e", "$meta.e" }, { "a", "$meta.a" } } },
                { "items", new BsonDocument("$topN", new BsonDocument
                    {
                        { "n", request.PerAttributeLimit },
                        { "sortBy", new BsonDocument { { time, direction }, { "seq", direction }, { "n", direction } } },
                        { "output", "$$ROOT" },
                    }) },
            }),
            new BsonDocument("$unwind", "$items"),
            new BsonDocument("$replaceRoot", new BsonDocument("newRoot", "$items")),
            new BsonDocument("$sort", new BsonDocument { { "meta.e", 1 }, { "meta.a", 1 }, { time, 1 }, { "seq", 1 }, { "n", 1 } }),
        ];
    }

    /// <summary>The history rows a purge removes.</summary>
    public static BsonDocument Purge(string entityId, HistoryPurge purge)
    {
        var filter = new BsonDocument("meta.e", entityId);
        if (purge.Attribute is null) return filter;
        filter.Add("meta.a", purge.Attribute);
        if (!purge.AnyDataset) filter.Add("ds", (BsonValue?)purge.DatasetId ?? BsonNull.Value);
        return filter;
    }
}
