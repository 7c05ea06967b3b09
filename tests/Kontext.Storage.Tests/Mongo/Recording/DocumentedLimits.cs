using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// MongoDB's documented limits, as checks over the commands a store sent to <see cref="FakeMongoServer"/>. Each rule names
/// the manual page and section it encodes (docs/mongodb.md, "Audit", quotes them). A violation is a command a real
/// server would reject, or one that breaks a documented limit on some deployment we support (replica set or sharded
/// cluster, MongoDB 7.0+).
/// </summary>
public static class DocumentedLimits
{
    /// <summary>A transaction's writes are kept to this many bytes of documents (the store's own budget is below it):
    /// "an uncommitted transaction that exceeds 5% of the WiredTiger cache size ... will abort", and the cache is at
    /// least 256 MB, so 12.8 MB of dirty data; documents are only part of it (index entries come on top).</summary>
    public const int TransactionBytes = 12_800_000 / 2;

    /// <summary>"No more than 1,000 documents should be modified within a transaction" (MongoDB's performance best practices for transactions).</summary>
    public const int TransactionDocuments = 1000;

    /// <summary>Largest n of a $topN the store may use: each group's top-n state must stay well inside the accumulator's 100 MB.</summary>
    public const int TopN = 10_000;

    public static IReadOnlyList<string> Violations(FakeMongoServer server)
    {
        var calls = server.Calls;
        var violations = new List<string>();
        foreach (var call in calls)
        {
            foreach (var message in Check(server, call)) violations.Add($"{message}\n    {call}");
        }
        foreach (var transaction in calls.Where(c => c.Transaction is not null && c.IsWrite).GroupBy(c => c.Transaction))
        {
            var bytes = transaction.Sum(c => (c.Documents ?? []).Sum(d => d.ToBson().Length) + (c.Update is BsonDocument u ? u.ToBson().Length : 0));
            if (bytes > TransactionBytes)
                violations.Add($"Production Considerations → WiredTiger Cache: transaction {transaction.Key} writes {bytes} bytes of documents (limit {TransactionBytes})");
            var documents = transaction.Sum(c => c.Command == "insert" ? c.Documents!.Count : c.Affected);
            if (documents > TransactionDocuments)
                violations.Add($"Performance Best Practices: Transactions: transaction {transaction.Key} modifies {documents} documents (at most {TransactionDocuments})");
        }
        return violations;
    }

    private static IEnumerable<string> Check(FakeMongoServer server, ServerCall call)
    {
        var collection = server.Existing(call.Database, call.Collection);
        var timeSeries = collection?.IsTimeSeries == true;

        if (call.Transaction is not null && call.IsWrite && timeSeries)
            yield return "Time Series Collection Limitations → Transactions: \"You cannot write to time series collections in transactions\"";
        if (timeSeries && call.Command == "delete" && call.Transaction is not null)
            yield return "Time Series Collection Limitations → Deletes: \"Time series deletes are not supported for multi-document transactions\"";
        if (timeSeries && call.Command is "update" or "findAndModify")
        {
            var meta = collection!.MetaField;
            var filterFields = Fields(call.Filter!).ToList();
            if (meta is null || filterFields.Any(f => f != meta && !f.StartsWith(meta + ".", StringComparison.Ordinal)))
                yield return $"Time Series Collection Limitations → Updates (7.0): an update may only match on the metaField; this one matches {string.Join(", ", filterFields)}";
            var changed = call.Update is BsonDocument update ? update.Elements.Where(e => e.Name.StartsWith('$')).SelectMany(e => e.Value.AsBsonDocument.Names).ToList() : [];
            if (meta is null || changed.Any(f => f != meta && !f.StartsWith(meta + ".", StringComparison.Ordinal)))
                yield return $"Time Series Collection Limitations → Updates (7.0): an update may only modify the metaField; this one sets {string.Join(", ", changed)}";
            if (!call.Multi)
                yield return "Time Series Collection Limitations → Updates (7.0): an update must not limit the number of documents (updateMany)";
        }

        if (call.Command == "aggregate" && call.Pipeline is { } stages)
        {
            foreach (var match in stages.Where(s => s.Contains("$match")).Select(s => s["$match"].AsBsonDocument))
            {
                foreach (var op in Operators(match).Where(o => o is "$near" or "$nearSphere" or "$where"))
                    yield return $"$match → Restrictions (also countDocuments in Transactions and Operations): {op} is not allowed in $match or a count";
            }
            foreach (var group in stages.Where(s => s.Contains("$group")).Select(s => s["$group"].AsBsonDocument))
            {
                foreach (var accumulator in group.Elements.Where(e => e.Name != "_id").Select(e => e.Value).OfType<BsonDocument>())
                {
                    if (accumulator.Contains("$push") || (accumulator.Contains("$addToSet") && call.Collection != "entities"))
                        yield return "Aggregation Pipeline Limits → Memory Restrictions: $push/$addToSet keep every value of a group in memory and cannot spill";
                    if (accumulator.TryGetValue("$topN", out var topN) && topN["n"].ToInt64() > TopN)
                        yield return $"$topN → Memory Limit Considerations: n = {topN["n"]} per group exceeds {TopN}";
                }
            }
            foreach (var window in stages.Where(s => s.Contains("$setWindowFields")).Select(s => s["$setWindowFields"].AsBsonDocument))
            {
                foreach (var output in window["output"].AsBsonDocument.Elements.Select(e => e.Value.AsBsonDocument))
                {
                    if (output.TryGetValue("window", out var w) && w.AsBsonDocument.TryGetValue("documents", out var bounds) && bounds[1] == "unbounded")
                        yield return "$setWindowFields → Window Operators: a window unbounded to the right holds the whole partition in memory (100 MB per stage)";
                }
            }
        }

        if (call.Filter is { } filter && call.Command is "find" or "update" or "delete" or "findAndModify")
        {
            foreach (var or in Ors(filter))
            {
                if (or.Values.OfType<BsonDocument>().Any(branch => RecordingCollection.NearClauses(branch).Any()))
                    yield return "$or → $or and Geospatial Queries: $or cannot contain a near clause";
            }
            if (call.Command != "find" && RecordingCollection.NearClauses(filter).Any())
                yield return "$near/$nearSphere are only allowed in find";
        }
        if (call.Options?.Contains("nearWithoutGeoIndex") == true)
            yield return $"$nearSphere → Definition: \"$nearSphere requires a geospatial index\" ({call.Options["nearWithoutGeoIndex"]})";

        if (call.Transaction is not null && call.IsDdl)
            yield return "Transactions and Operations: the store does not create collections or indexes inside a transaction (not allowed in cross-shard write transactions)";
        if (call.Transaction is not null && call.IsWrite && !call.CollectionExisted)
            yield return "Transactions and Operations → note: a write in a transaction implicitly created the collection (not allowed in cross-shard write transactions)";
        if (call.Transaction is not null && call.Database is "admin" or "config" or "local" && call.Command is not ("commitTransaction" or "abortTransaction"))
            yield return "Transactions and Operations: no reads or writes of the admin, config or local databases in a transaction";
        if (call.Transaction is not null && call.Multi && call.Command is "update" or "delete")
            yield return "Production Considerations → Runtime Limit / WiredTiger Cache: an updateMany/deleteMany in a transaction modifies an unbounded number of documents";

        foreach (var document in call.Command == "insert" ? call.Documents ?? [] : [])
        {
            foreach (var name in FieldNames(document).Where(n => n.StartsWith('$') || n.Contains('.')))
                yield return $"Field Names: stored documents carry no '$'-prefixed or dotted field names (found \"{name}\")";
        }
    }

    /// <summary>Top-level and nested field paths a filter matches on (operators' arguments excluded).</summary>
    public static IEnumerable<string> Fields(BsonDocument filter)
    {
        foreach (var element in filter)
        {
            if (element.Name is "$and" or "$or" or "$nor")
            {
                foreach (var nested in element.Value.AsBsonArray.OfType<BsonDocument>().SelectMany(Fields)) yield return nested;
            }
            else if (!element.Name.StartsWith('$')) yield return element.Name;
        }
    }

    /// <summary>Every $-operator name appearing as a key anywhere in a value.</summary>
    public static IEnumerable<string> Operators(BsonValue value)
    {
        switch (value)
        {
            case BsonDocument d:
                foreach (var element in d)
                {
                    if (element.Name.StartsWith('$')) yield return element.Name;
                    foreach (var nested in Operators(element.Value)) yield return nested;
                }
                break;
            case BsonArray a:
                foreach (var nested in a.SelectMany(Operators)) yield return nested;
                break;
        }
    }

    private static IEnumerable<BsonArray> Ors(BsonDocument filter)
    {
        foreach (var element in filter)
        {
            if (element.Name == "$or") yield return element.Value.AsBsonArray;
            if (element.Value is BsonArray array)
                foreach (var nested in array.OfType<BsonDocument>().SelectMany(Ors)) yield return nested;
        }
    }

    private static IEnumerable<string> FieldNames(BsonDocument document)
    {
        foreach (var element in document)
        {
            yield return element.Name;
            foreach (var nested in Nested(element.Value)) yield return nested;
        }

        static IEnumerable<string> Nested(BsonValue value) => value switch
        {
            BsonDocument d => FieldNames(d),
            BsonArray a => a.SelectMany(Nested),
            _ => [],
        };
    }
}
