using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// One temporal entity a context source answered: its id, types and scope as <see cref="Head"/>, and its instances as
/// history records, so they merge with local history as if they had been stored here (<see cref="TemporalMerge"/>).
/// </summary>
public sealed record SourceTemporalEntity(Entity Head, IReadOnlyList<AttributeInstanceRecord> Instances);

/// <summary>
/// Temporal entities a context source answered (the Temporal Representation of clause 4.5.7, normalized, asked for with
/// options=sysAttrs), read with the @context the request was sent with. An instance keeps its instanceId, observedAt and
/// system times; a deletion (NGSI-LD Null with deletedAt) becomes a deletion record whose time is its deletedAt, as in
/// local history. A payload that is not a temporal entity is rejected as a whole (clause 6.3.17: not incorporated).
/// </summary>
public static class SourceTemporalEntities
{
    /// <summary>One temporal entity (Retrieve Temporal Evolution of an Entity's answer).</summary>
    public static SourceTemporalEntity ReadOne(JsonNode? body, JsonLdContext context, DateTimeOffset now) =>
        body is JsonObject obj ? Read(obj, context, now) : throw NgsiException.BadRequestData("The context source did not answer with a temporal entity");

    /// <summary>An array of temporal entities (Query Temporal Evolution of Entities' answer).</summary>
    public static IReadOnlyList<SourceTemporalEntity> ReadMany(JsonNode? body, JsonLdContext context, DateTimeOffset now) =>
        body is JsonArray array
            ? array.Select(e => e is JsonObject obj ? Read(obj, context, now) : throw NgsiException.BadRequestData("The context source answered a non-entity")).ToList()
            : throw NgsiException.BadRequestData("The context source did not answer with an array of temporal entities");

    private static SourceTemporalEntity Read(JsonObject raw, JsonLdContext context, DateTimeOffset now)
    {
        var id = Validate.EntityId(raw["id"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null);
        var head = new Entity(id) { Types = raw["type"] is { } type ? EntityParser.ParseTypes(type, context) : [] };
        if (raw["scope"] is { } scope) head.Scopes = Scopes(scope);
        var records = new List<AttributeInstanceRecord>();
        foreach (var (name, value) in raw)
        {
            if (Attr.EntityMembers.Contains(name) || name.StartsWith('@') || value is null) continue;
            var iri = EntityParser.ExpandAttributeName(name, context);
            var instances = value switch
            {
                JsonArray a => a.OfType<JsonObject>().ToList(),
                JsonObject o => [o],
                _ => throw NgsiException.BadRequestData($"'{name}' of a temporal entity is not an array of instances"),
            };
            foreach (var instance in instances) records.Add(Record(id, name, iri, instance, context, now));
        }
        return new SourceTemporalEntity(head, records);
    }

    /// <summary>The scope as plain scopes, or as the last value of the Scope's evolution (clause 4.5.6).</summary>
    private static List<string>? Scopes(JsonNode scope)
    {
        var last = scope switch
        {
            JsonArray a when a.Count > 0 && a.All(e => e is JsonObject) => a[^1]!["value"],
            JsonObject o => o["value"],
            _ => scope,
        };
        var scopes = last is null ? [] : EntityParser.ParseScopes(last);
        return scopes.Count == 0 ? null : scopes;
    }

    private static AttributeInstanceRecord Record(string entityId, string name, string iri, JsonObject raw, JsonLdContext context, DateTimeOffset now)
    {
        var body = (JsonObject)raw.DeepClone();
        var instanceId = Take(body, "instanceId") is JsonValue iv && iv.TryGetValue<string>(out var given) ? given : "urn:ngsi-ld:attribute:instance:" + Guid.NewGuid().ToString("N");
        var createdAt = Time(Take(body, "createdAt"));
        var modifiedAt = Time(Take(body, "modifiedAt"));
        var deletedAt = Time(Take(body, "deletedAt"));
        var observedAt = Time(body["observedAt"]);
        var datasetId = body["datasetId"] is JsonValue dv && dv.TryGetValue<string>(out var ds) && ds != "@none" ? ds : null;
        if (deletedAt is not null || TemporalEntityInput.IsDeletion(body))
        {
            // As local history keeps a deletion: the attribute's type, its datasetId and observedAt, no payload.
            var marker = new JsonObject { ["type"] = body["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) ? t : Attr.Property };
            if (datasetId is not null) marker["datasetId"] = datasetId;
            if (observedAt is { } observed) marker["observedAt"] = Validate.Format(observed);
            return new AttributeInstanceRecord(entityId, iri, datasetId, instanceId, AttributeChangeKind.Deleted, observedAt,
                deletedAt ?? modifiedAt ?? now, marker.ToJsonString());
        }
        var parsed = EntityParser.ParseAttributeBody(name, iri, body, context, ParseMode.Full);
        if (createdAt is { } created) parsed["createdAt"] = Validate.Format(created);
        // The time the source recorded the instance; without system times (an answer without sysAttrs), when it was observed.
        var recorded = modifiedAt ?? createdAt ?? observedAt ?? now;
        return new AttributeInstanceRecord(entityId, iri, datasetId, instanceId, AttributeChangeKind.Updated, observedAt, recorded, parsed.ToJsonString());
    }

    private static JsonNode? Take(JsonObject body, string member)
    {
        body.Remove(member, out var node);
        return node;
    }

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var time) ? time : null;
}
