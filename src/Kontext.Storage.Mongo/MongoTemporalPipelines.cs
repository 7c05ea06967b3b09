using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
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

    /// <summary>The entities, attributes and time window of a temporal read (the kind of instance is the caller's).</summary>
    private static BsonDocument Window(IReadOnlyList<string> entityIds, IReadOnlySet<string>? attributes, string time, DateTimeOffset? from, bool fromInclusive, DateTimeOffset? to)
    {
        var match = new BsonDocument("meta.e", new BsonDocument("$in", new BsonArray(entityIds)));
        if (attributes is not null) match.Add("meta.a", new BsonDocument("$in", new BsonArray(attributes.Order(StringComparer.Ordinal))));
        var window = new BsonDocument("$ne", BsonNull.Value);
        if (from is { } start) window.Add(fromInclusive ? "$gte" : "$gt", start.UtcDateTime);
        if (to is { } end) window.Add("$lt", end.UtcDateTime);
        match.Add(time, window);
        return match;
    }

    public static BsonDocument[] ReadInstances(TemporalReadRequest request)
    {
        var time = TimeField(request.TimeProperty);
        var match = Window(request.EntityIds, request.Attributes, time, request.From, request.FromInclusive, request.To);
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

    /// <summary>
    /// The aggregation figures per (entity, attribute, datasetId, period) as one pipeline: the window's $match on the
    /// (entity, attribute, time) index, $setWindowFields for each series' first sample when the window has no start,
    /// then one $group per period over the sample fields written with each instance (<see cref="SampleFields"/>), with
    /// $top (MongoDB 5.2+) for the attribute type of the period's latest sample.
    /// </summary>
    public static BsonDocument[] Aggregate(TemporalAggregateRequest request)
    {
        var time = TimeField(request.TimeProperty);
        var match = Window(request.EntityIds, request.Attributes, time, request.From, request.FromInclusive, request.To);
        match.Add("kind", new BsonDocument("$ne", "Deleted"));
        var periodMs = (long)request.Period.TotalMilliseconds;
        BsonValue period = periodMs <= 0
            ? 0
            : new BsonDocument("$floor", new BsonDocument("$divide", new BsonArray
            {
                new BsonDocument("$subtract", new BsonArray { "$" + time, request.From is { } start ? start.UtcDateTime : "$first" }),
                periodMs,
            }));
        var pipeline = new List<BsonDocument> { new("$match", match) };
        if (request.From is null && periodMs > 0)
        {
            // No window start: periods count from each series' first sample.
            pipeline.Add(new BsonDocument("$setWindowFields", new BsonDocument
            {
                { "partitionBy", new BsonDocument { { "e", "$meta.e" }, { "a", "$meta.a" }, { "ds", "$ds" } } },
                { "output", new BsonDocument("first", new BsonDocument
                    {
                        { "$min", "$" + time },
                        { "window", new BsonDocument("documents", new BsonArray { "unbounded", "unbounded" }) },
                    }) },
            }));
        }
        pipeline.Add(new BsonDocument("$group", new BsonDocument
        {
            { "_id", new BsonDocument { { "e", "$meta.e" }, { "a", "$meta.a" }, { "ds", "$ds" }, { "k", period } } },
            { "type", new BsonDocument("$top", new BsonDocument
                {
                    { "sortBy", new BsonDocument { { time, -1 }, { "seq", -1 }, { "n", -1 } } },
                    { "output", "$t" },
                }) },
            { "first", new BsonDocument("$min", "$" + time) },
            { "last", new BsonDocument("$max", "$" + time) },
            { "count", new BsonDocument("$sum", 1) },
            { "distinct", new BsonDocument("$addToSet", "$dk") },
            { "numbers", new BsonDocument("$sum", new BsonDocument("$cond", new BsonArray { new BsonDocument("$eq", new BsonArray { new BsonDocument("$type", "$num"), "double" }), 1, 0 })) },
            { "sum", new BsonDocument("$sum", "$num") },
            { "sumsq", new BsonDocument("$sum", new BsonDocument("$multiply", new BsonArray { "$num", "$num" })) },
            { "minNum", new BsonDocument("$min", "$num") },
            { "maxNum", new BsonDocument("$max", "$num") },
            { "minStr", new BsonDocument("$min", "$str") },
            { "maxStr", new BsonDocument("$max", "$str") },
        }));
        pipeline.Add(new BsonDocument("$set", new BsonDocument("distinct", new BsonDocument("$size", "$distinct"))));
        pipeline.Add(new BsonDocument("$sort", new BsonDocument { { "_id.e", 1 }, { "_id.a", 1 }, { "_id.ds", 1 }, { "_id.k", 1 } }));
        return [.. pipeline];
    }

    /// <summary>One result document of <see cref="Aggregate"/> as the port's statistics.</summary>
    public static PeriodStatistics Statistics(BsonDocument d)
    {
        var id = d["_id"].AsBsonDocument;
        double? Real(string name) => d.GetValue(name, BsonNull.Value) is { IsBsonNull: false } v ? v.ToDouble() : null;
        string? Text(string name) => d.GetValue(name, BsonNull.Value) is { IsBsonNull: false } v ? v.AsString : null;
        return new PeriodStatistics(id["e"].AsString, id["a"].AsString, id["ds"].IsBsonNull ? null : id["ds"].AsString,
            d.GetValue("type", BsonNull.Value) is { IsBsonNull: false } type ? type.AsString : Attr.Property, id["k"].ToInt64(),
            new DateTimeOffset(d["first"].ToUniversalTime()), new DateTimeOffset(d["last"].ToUniversalTime()),
            new PeriodFigures(d["count"].ToInt64(), d["distinct"].ToInt64(), d["numbers"].ToInt64(), d["sum"].ToDouble(), d["sumsq"].ToDouble(),
                Real("minNum"), Real("maxNum"), Text("minStr"), Text("maxStr")));
    }

    /// <summary>
    /// The sample fields stored with each instance so aggregations run on the server: the attribute type "t", the
    /// numeric sample "num" (numbers, booleans as 1/0), the text sample "str", and the distinct key "dk" (the number
    /// itself, so 1 equals 1.0, else the payload's JSON text). Absent fields are simply not samples of that kind.
    /// </summary>
    public static IEnumerable<BsonElement> SampleFields(JsonObject? instance)
    {
        if (instance is null) yield break;
        var fields = Kontext.Ngsi.Temporal.SampleFields.Of(instance);
        yield return new BsonElement("t", fields.AttributeType);
        if (fields.Number is { } x) yield return new BsonElement("num", x);
        if (fields.Text is { } text) yield return new BsonElement("str", text);
        yield return fields.DistinctNumber is { } key ? new BsonElement("dk", key) : new BsonElement("dk", fields.DistinctText);
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
