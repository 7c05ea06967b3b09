using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// A Temporal Representation of an Entity as a client sends it (clause 4.5.7 / 5.6.11 / 5.6.12): id, type, scope and
/// for each attribute one instance or an array of instances (several per datasetId allowed: each is a point in time).
/// </summary>
public sealed record TemporalEntityInput(string Id, List<string> Types, List<string>? Scopes, OrderedDictionary<string, List<JsonObject>> Instances)
{
    public int InstanceCount => Instances.Values.Sum(v => v.Count);

    /// <summary>Parses a temporal entity (<paramref name="urlId"/> null) or a temporal attribute fragment (<paramref name="urlId"/> from the URL).</summary>
    public static TemporalEntityInput Parse(JsonObject body, JsonLdContext context, string? urlId)
    {
        var idNode = body["id"] ?? body["@id"];
        string? id = idNode is null ? null : idNode is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw NgsiException.BadRequestData("'id' must be a string");
        if (urlId is null)
        {
            id = Validate.EntityId(id ?? throw NgsiException.BadRequestData("The temporal entity has no 'id'"));
        }
        else
        {
            if (id is not null && id != urlId) throw NgsiException.BadRequestData($"The entity id '{id}' in the body does not match '{urlId}' in the URL");
            id = urlId;
        }
        var typeNode = body["type"] ?? body["@type"];
        var types = typeNode is null ? [] : EntityParser.ParseTypes(typeNode, context);
        var scopes = body.TryGetPropertyValue("scope", out var scope) ? EntityParser.ParseScopes(scope) : null;
        var instances = new OrderedDictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        foreach (var (name, value) in body)
        {
            if (Attr.EntityMembers.Contains(name)) continue;
            var iri = EntityParser.ExpandAttributeName(name, context);
            if (instances.ContainsKey(iri)) throw NgsiException.BadRequestData($"Attribute '{name}' is given twice (two names expand to {iri})");
            var elements = value switch
            {
                JsonObject o => [o],
                JsonArray a when a.Count > 0 && a.All(e => e is JsonObject) => a.Select(e => e!.AsObject()).ToList(),
                _ => throw NgsiException.BadRequestData($"Attribute '{name}' of a temporal entity must be an attribute instance or a non-empty array of instances"),
            };
            instances[iri] = elements.Select(e => EntityParser.ParseAttributeBody(name, iri, e, context, ParseMode.Full)).ToList();
        }
        return new TemporalEntityInput(id, types, scopes, instances);
    }
}

/// <summary>
/// How temporal instances change the entity (design choice of issue 5): every instance goes into the history, and the
/// current state, which the entity API and the entity selection of temporal queries read, takes per (attribute,
/// datasetId) the latest instance by observedAt unless the entity already holds a later one. An instance without
/// observedAt counts as the latest. This is what Orion-LD/Mintaka and Stellio expose in effect.
/// </summary>
public static class TemporalWrites
{
    public static (Entity After, List<AttributeChange> Changes) Apply(Entity? current, TemporalEntityInput input, DateTimeOffset now)
    {
        var stamp = Validate.Format(now);
        var entity = current?.Clone() ?? new Entity(input.Id) { CreatedAt = now };
        foreach (var type in input.Types)
            if (!entity.Types.Contains(type)) entity.Types.Add(type);
        if (entity.Types.Count == 0) throw NgsiException.BadRequestData("The temporal entity has no 'type'");
        if (input.Scopes is not null) entity.Scopes = input.Scopes.Count == 0 ? null : input.Scopes;
        entity.ModifiedAt = now;

        var changes = new List<AttributeChange>();
        foreach (var (name, instances) in input.Instances)
        {
            var ordered = instances.Select((instance, index) => (instance, index))
                .OrderBy(p => ObservedAt(p.instance) ?? DateTimeOffset.MaxValue).ThenBy(p => p.index).Select(p => p.instance);
            foreach (var instance in ordered)
            {
                var datasetId = Attr.DatasetId(instance);
                var existing = entity.FindInstance(name, datasetId);
                var copy = (JsonObject)instance.DeepClone();
                copy["createdAt"] = existing?["createdAt"]?.DeepClone() ?? stamp;
                copy["modifiedAt"] = stamp;
                changes.Add(new AttributeChange(name, datasetId, existing is null ? AttributeChangeKind.Created : AttributeChangeKind.Updated, copy));
                if (existing is not null && ObservedAt(existing) is { } held && ObservedAt(copy) is { } incoming && incoming < held) continue;
                if (!entity.Attributes.TryGetValue(name, out var list)) entity.Attributes[name] = list = [];
                var index = existing is null ? -1 : list.IndexOf(existing);
                if (index >= 0) list[index] = copy; else list.Add(copy);
            }
        }
        return (entity, changes);
    }

    public static DateTimeOffset? ObservedAt(JsonObject instance) =>
        instance["observedAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var t) ? t : null;
}
