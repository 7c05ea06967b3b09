using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// A change-log entry (D5) in <c>changes</c>. The matcher needs the entity after a change whole (the subscription's filter,
/// the notification's body, joins) but of the entity before it only what differs: the attributes whose instances changed
/// (which were created, updated or deleted, and their previous payloads for showChanges) and the entity-level fields. So an
/// update stores the whole entity after it and, as <c>prior</c>, the JSON of what it was before, with <c>absent</c> the
/// attributes it did not have:
/// <code>
/// { _id: sequence, e, op: "create" | "update" | "delete", at, after: entity JSON | null,
///   before: entity JSON (delete) | null (create), prior: {type, scope?, createdAt, modifiedAt, expiresAt?, attrs: {changed…}, absent: […]} (update) }
/// </code>
/// <see cref="Record"/> puts the whole entity before the change back together, so every reader of the change log sees what it
/// saw before (entries written whole by an earlier version are read as they are). For a write that changes one attribute
/// of an entity the entry holds about one entity instead of two.
/// </summary>
public static class MongoChangeDocument
{
    private static readonly JsonSerializerOptions Writing = new() { MaxDepth = StoredJson.MaxDepth + 8 };
    private const string Prior = "prior";

    /// <summary>A creation (no entity before) or a deletion (none after): the entity is stored whole.</summary>
    public static BsonDocument Whole(long seq, string entityId, string op, DateTimeOffset at, string? before, string? after) => new()
    {
        { "_id", seq }, { "e", entityId }, { "op", op }, { "at", at.UtcDateTime },
        { "before", (BsonValue?)before ?? BsonNull.Value }, { "after", (BsonValue?)after ?? BsonNull.Value },
    };

    /// <summary>An update: the entity after it whole, of the entity before it what differs.</summary>
    public static BsonDocument Update(long seq, string entityId, DateTimeOffset at, Entity before, Entity after, string afterJson) => new()
    {
        { "_id", seq }, { "e", entityId }, { "op", "update" }, { "at", at.UtcDateTime }, { "after", afterJson }, { Prior, Difference(before, after) },
    };

    /// <summary>The entity-level fields of <paramref name="before"/>, its attributes that differ in <paramref name="after"/>, and the ones it lacks.</summary>
    public static string Difference(Entity before, Entity after)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = Writing.MaxDepth }))
        {
            writer.WriteStartObject();
            EntityJson.WriteEntityMembers(writer, before);
            writer.WriteStartObject("attrs");
            foreach (var (name, instances) in before.Attributes)
            {
                if (after.Attributes.TryGetValue(name, out var now) && now.Count == instances.Count && now.Zip(instances).All(p => JsonNode.DeepEquals(p.First, p.Second)))
                    continue;
                writer.WriteStartArray(name);
                foreach (var instance in instances) instance.WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
            writer.WriteStartArray("absent");
            foreach (var name in after.Attributes.Keys.Where(n => !before.Attributes.ContainsKey(n))) writer.WriteStringValue(name);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The entity before an update, from the entity after it and the difference.</summary>
    public static string Before(string afterJson, string prior)
    {
        var root = StoredJson.Parse(afterJson)!.AsObject();
        var difference = StoredJson.Parse(prior)!.AsObject();
        foreach (var member in new[] { "type", "scope", "createdAt", "modifiedAt", "expiresAt" }) root.Remove(member);
        if (root["attrs"] is not JsonObject attrs) root["attrs"] = attrs = [];
        foreach (var (name, value) in difference)
        {
            if (name is "attrs" or "absent") continue;
            root[name] = value!.DeepClone();
        }
        foreach (var (name, instances) in difference["attrs"]!.AsObject()) attrs[name] = instances!.DeepClone();
        foreach (var name in difference["absent"]!.AsArray()) attrs.Remove(name!.GetValue<string>());
        return root.ToJsonString(Writing);
    }

    public static ChangeRecord Record(BsonDocument d)
    {
        var after = d["after"].IsBsonNull ? null : d["after"].AsString;
        var before = d.TryGetValue(Prior, out var prior) ? Before(after!, prior.AsString)
            : d["before"].IsBsonNull ? null : d["before"].AsString;
        return new ChangeRecord(d["_id"].ToInt64(), d["e"].AsString, d["op"].AsString, new DateTimeOffset(d["at"].ToUniversalTime()), before, after);
    }
}
