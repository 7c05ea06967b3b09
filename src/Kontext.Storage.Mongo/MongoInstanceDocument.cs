using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// One attribute instance of the history (D4) in <c>attributeInstances</c>, a regular collection so the instances commit in
/// the entity write's transaction and the Temporal API can replace and delete them (a time-series collection accepts
/// neither inside a transaction; docs/mongodb.md has the figures behind the choice):
/// <code>
/// { _id: instanceId, e: entity id, a: attribute IRI, ds: datasetId | null, kind: Created | Updated | Deleted,
///   obs: observedAt | null, mod: modifiedAt, seq: the write's change sequence, n: position in the write,
///   doc: the instance as JSON | null, t / num / str / dk: sample fields (MongoTemporalPipelines.SampleFields),
///   w: write id, only while a write too large for one transaction is being made visible (MongoHistoryMarkers) }
/// </code>
/// Indexed on (e, a, obs) and (e, a, mod) for temporal windows; _id is the instance id, so replacing or deleting one is a
/// primary-key look-up, and instance ids are version-7 GUIDs (time-ordered), so _id insertions append to the index.
/// </summary>
public static class MongoInstanceDocument
{
    public const string Entity = "e", Attribute = "a", Dataset = "ds", Kind = "kind", Observed = "obs", Modified = "mod",
        Sequence = "seq", Order = "n", Instance = "doc", PendingWrite = "w";

    public static string NewInstanceId() => "urn:ngsi-ld:attribute:instance:" + Guid.CreateVersion7().ToString("N");

    /// <summary>The history documents of one write: one per attribute change, in the write's order.</summary>
    public static List<BsonDocument> Build(string entityId, IReadOnlyList<AttributeChange> changes, DateTimeOffset modifiedAt, long seq)
    {
        var documents = new List<BsonDocument>(changes.Count);
        for (var n = 0; n < changes.Count; n++)
        {
            var change = changes[n];
            var observed = ObservedAt(change.Instance);
            var document = new BsonDocument
            {
                { "_id", NewInstanceId() },
                { Entity, entityId },
                { Attribute, change.Attribute },
                { Dataset, (BsonValue?)change.DatasetId ?? BsonNull.Value },
                { Kind, change.Kind.ToString() },
                { Observed, observed is { } d ? new BsonDateTime(d) : BsonNull.Value },
                { Modified, modifiedAt.UtcDateTime },
                { Sequence, seq },
                { Order, n },
                { Instance, (BsonValue?)change.Instance?.ToJsonString() ?? BsonNull.Value },
            };
            if (change.Kind != AttributeChangeKind.Deleted) document.AddRange(MongoTemporalPipelines.SampleFields(change.Instance));
            documents.Add(document);
        }
        return documents;
    }

    /// <summary>The fields a Modify Temporal Instance sets (and which sample fields it removes).</summary>
    public static BsonDocument Replacement(JsonObject instance, DateTimeOffset modifiedAt)
    {
        var set = new BsonDocument
        {
            { Instance, instance.ToJsonString() },
            { Observed, ObservedAt(instance) is { } d ? new BsonDateTime(d) : BsonNull.Value },
            { Modified, modifiedAt.UtcDateTime },
            { Dataset, (BsonValue?)Attr.DatasetId(instance) ?? BsonNull.Value },
        };
        set.AddRange(MongoTemporalPipelines.SampleFields(instance));
        var unset = new BsonDocument(new[] { "num", "str" }.Where(f => !set.Contains(f)).Select(f => new BsonElement(f, "")));
        var update = new BsonDocument("$set", set);
        if (unset.ElementCount > 0) update.Add("$unset", unset);
        return update;
    }

    public static AttributeInstanceRecord Record(BsonDocument d) => new(
        d[Entity].AsString, d[Attribute].AsString, d[Dataset].IsBsonNull ? null : d[Dataset].AsString, d["_id"].AsString,
        Enum.Parse<AttributeChangeKind>(d[Kind].AsString),
        d[Observed].IsBsonNull ? null : new DateTimeOffset(d[Observed].ToUniversalTime()), new DateTimeOffset(d[Modified].ToUniversalTime()),
        d[Instance].IsBsonNull ? null : d[Instance].AsString);

    private static DateTime? ObservedAt(JsonObject? instance) =>
        instance?["observedAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var o) ? o.UtcDateTime : null;
}
