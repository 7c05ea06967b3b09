using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Temporal reads as aggregation pipelines over the attributeInstances history (<see cref="MongoInstanceDocument"/>): the
/// window is a $match on the (entity, attribute, time) index plus what the history markers leave visible; lastN / the
/// per-attribute limit a $group with $topN (MongoDB 5.2+) ordered by time then append order, so only each (entity,
/// attribute)'s first or last N instances of the window leave the server. No stage keeps an unbounded number of values of
/// one group in memory: a stage holds at most 100 MB and spills beyond it, an accumulator's own state cannot spill.
/// </summary>
public static class MongoTemporalPipelines
{
    /// <summary>Largest per-attribute limit served by $topN (its state per group stays far below the accumulator's 100 MB);
    /// beyond it the instances are numbered by a window function and cut, which streams.</summary>
    public const int MaxTopN = 10_000;

    private const string E = MongoInstanceDocument.Entity, A = MongoInstanceDocument.Attribute, Ds = MongoInstanceDocument.Dataset,
        Seq = MongoInstanceDocument.Sequence, N = MongoInstanceDocument.Order;

    public static string TimeField(TemporalTimeProperty property) => property == TemporalTimeProperty.ObservedAt ? MongoInstanceDocument.Observed : MongoInstanceDocument.Modified;

    /// <summary>The entities, attributes, datasetIds and time window of a temporal read (the kind of instance is the caller's).</summary>
    private static BsonDocument Window(IReadOnlyList<string> entityIds, IReadOnlySet<string>? attributes, IReadOnlySet<string?>? datasets,
        string time, DateTimeOffset? from, bool fromInclusive, DateTimeOffset? to)
    {
        var match = new BsonDocument(E, new BsonDocument("$in", new BsonArray(entityIds)));
        if (attributes is not null) match.Add(A, new BsonDocument("$in", new BsonArray(attributes.Order(StringComparer.Ordinal))));
        // ds is written null for the default instance, so $in with null selects it.
        if (datasets is not null)
            match.Add(Ds, new BsonDocument("$in", new BsonArray(datasets.OrderBy(d => d, StringComparer.Ordinal).Select(d => (BsonValue?)d ?? BsonNull.Value))));
        var window = new BsonDocument("$ne", BsonNull.Value);
        if (from is { } start) window.Add(fromInclusive ? "$gte" : "$gt", start.UtcDateTime);
        if (to is { } end) window.Add("$lt", end.UtcDateTime);
        match.Add(time, window);
        return match;
    }

    /// <param name="visible">The condition the history markers of the request's entities impose (MongoHistoryMarkers.Visible); null: none.</param>
    public static BsonDocument[] ReadInstances(TemporalReadRequest request, BsonDocument? visible = null)
    {
        var time = TimeField(request.TimeProperty);
        var match = Window(request.EntityIds, request.Attributes, request.DatasetIds, time, request.From, request.FromInclusive, request.To);
        switch (request.TimeProperty)
        {
            case TemporalTimeProperty.DeletedAt: match.Add(MongoInstanceDocument.Kind, "Deleted"); break;
            case TemporalTimeProperty.CreatedAt: match.Add(MongoInstanceDocument.Kind, new BsonDocument("$ne", "Deleted")); break;
            default: break; // modifiedAt: everything; observedAt: what has an observedAt, deletions given one included
        }
        if (visible is not null) match.AddRange(visible);
        var direction = request.Newest ? -1 : 1;
        var readOrder = new BsonDocument { { time, direction }, { Seq, direction }, { N, direction } };
        var series = new BsonDocument { { "e", "$" + E }, { "a", "$" + A } };
        var output = new BsonDocument("$sort", new BsonDocument { { E, 1 }, { A, 1 }, { time, 1 }, { Seq, 1 }, { N, 1 } });
        if (request.PerAttributeLimit > MaxTopN)
        {
            return
            [
                new BsonDocument("$match", match),
                new BsonDocument("$setWindowFields", new BsonDocument
                {
                    { "partitionBy", series }, { "sortBy", readOrder }, { "output", new BsonDocument("rank", new BsonDocument("$documentNumber", new BsonDocument())) },
                }),
                new BsonDocument("$match", new BsonDocument("rank", new BsonDocument("$lte", request.PerAttributeLimit))),
                new BsonDocument("$unset", "rank"),
                output,
            ];
        }
        return
        [
            new BsonDocument("$match", match),
            new BsonDocument("$group", new BsonDocument
            {
                { "_id", series },
                { "items", new BsonDocument("$topN", new BsonDocument { { "n", request.PerAttributeLimit }, { "sortBy", readOrder }, { "output", "$$ROOT" } }) },
            }),
            new BsonDocument("$unwind", "$items"),
            new BsonDocument("$replaceRoot", new BsonDocument("newRoot", "$items")),
            output,
        ];
    }

    /// <summary>
    /// The aggregation figures per (entity, attribute, datasetId, period) as one pipeline: the window's $match on the
    /// (entity, attribute, time) index; without a window start, $setWindowFields gives each sample its series' first sample
    /// time (a running $min over the time-sorted series, which keeps one value, not the partition); then two $group stages:
    /// per distinct sample value of a period (so distinctCount is a count of groups, not a set held in memory) and per period,
    /// summing counts and sums, taking minima and maxima, and $top (MongoDB 5.2+) for the attribute type of the latest sample.
    /// </summary>
    public static BsonDocument[] Aggregate(TemporalAggregateRequest request, BsonDocument? visible = null)
    {
        var time = TimeField(request.TimeProperty);
        var match = Window(request.EntityIds, request.Attributes, request.DatasetIds, time, request.From, request.FromInclusive, request.To);
        match.Add(MongoInstanceDocument.Kind, new BsonDocument("$ne", "Deleted"));
        if (visible is not null) match.AddRange(visible);
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
                { "partitionBy", new BsonDocument { { "e", "$" + E }, { "a", "$" + A }, { "ds", "$" + Ds } } },
                { "sortBy", new BsonDocument(time, 1) },
                { "output", new BsonDocument("first", new BsonDocument
                    {
                        { "$min", "$" + time },
                        { "window", new BsonDocument("documents", new BsonArray { "unbounded", "current" }) },
                    }) },
            }));
        }
        pipeline.Add(new BsonDocument("$group", new BsonDocument
        {
            { "_id", new BsonDocument { { "e", "$" + E }, { "a", "$" + A }, { "ds", "$" + Ds }, { "k", period }, { "dk", "$dk" } } },
            { "latest", new BsonDocument("$top", new BsonDocument
                {
                    { "sortBy", new BsonDocument { { time, -1 }, { Seq, -1 }, { N, -1 } } },
                    { "output", new BsonDocument { { "t", "$t" }, { "time", "$" + time }, { "seq", "$" + Seq }, { "n", "$" + N } } },
                }) },
            { "first", new BsonDocument("$min", "$" + time) },
            { "last", new BsonDocument("$max", "$" + time) },
            { "count", new BsonDocument("$sum", 1) },
            { "numbers", new BsonDocument("$sum", new BsonDocument("$cond", new BsonArray { new BsonDocument("$eq", new BsonArray { new BsonDocument("$type", "$num"), "double" }), 1, 0 })) },
            { "sum", new BsonDocument("$sum", "$num") },
            { "sumsq", new BsonDocument("$sum", new BsonDocument("$multiply", new BsonArray { "$num", "$num" })) },
            { "minNum", new BsonDocument("$min", "$num") },
            { "maxNum", new BsonDocument("$max", "$num") },
            { "minStr", new BsonDocument("$min", "$str") },
            { "maxStr", new BsonDocument("$max", "$str") },
        }));
        pipeline.Add(new BsonDocument("$group", new BsonDocument
        {
            { "_id", new BsonDocument { { "e", "$_id.e" }, { "a", "$_id.a" }, { "ds", "$_id.ds" }, { "k", "$_id.k" } } },
            { "type", new BsonDocument("$top", new BsonDocument
                {
                    { "sortBy", new BsonDocument { { "latest.time", -1 }, { "latest.seq", -1 }, { "latest.n", -1 } } },
                    { "output", "$latest.t" },
                }) },
            { "first", new BsonDocument("$min", "$first") },
            { "last", new BsonDocument("$max", "$last") },
            { "count", new BsonDocument("$sum", "$count") },
            { "distinct", new BsonDocument("$sum", 1) },
            { "numbers", new BsonDocument("$sum", "$numbers") },
            { "sum", new BsonDocument("$sum", "$sum") },
            { "sumsq", new BsonDocument("$sum", "$sumsq") },
            { "minNum", new BsonDocument("$min", "$minNum") },
            { "maxNum", new BsonDocument("$max", "$maxNum") },
            { "minStr", new BsonDocument("$min", "$minStr") },
            { "maxStr", new BsonDocument("$max", "$maxStr") },
        }));
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
}
