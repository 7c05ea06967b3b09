using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Temporal;

/// <summary>
/// A Temporal Representation of an Entity as a client sends it (clause 4.5.7 / 5.6.11 / 5.6.12): id, type, scope and
/// for each attribute one instance or an array of instances (several per datasetId allowed: each is a point in time).
/// The scope comes either as scopes (a string or an array) or as the temporal evolution of the Scope (clause 4.5.6:
/// Property instances whose value holds the scopes). An instance whose payload is NGSI-LD Null records a deletion
/// (the temporal evolution is where clause 5.2.1 allows it).
/// </summary>
public sealed record TemporalEntityInput(string Id, List<string> Types, List<string>? Scopes, OrderedDictionary<string, List<JsonObject>> Instances)
{
    /// <summary>The instances of the Scope's temporal evolution, when the scope came in that form.</summary>
    public List<JsonObject> ScopeInstances { get; init; } = [];

    public int InstanceCount => Instances.Values.Sum(v => v.Count) + ScopeInstances.Count;

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
        // NGSI-LD Null is a legal value inside an instance (a deletion in the history), never a first-level member (clause 5.5.4).
        if (body.FirstOrDefault(m => m.Value is not null && Attr.IsNullMarker(m.Value)) is { Key: { } nulled })
            throw NgsiException.BadRequestData($"'{nulled}' cannot be NGSI-LD Null at the first level of a temporal entity");
        var typeNode = body["type"] ?? body["@type"];
        var types = typeNode is null ? [] : EntityParser.ParseTypes(typeNode, context);
        List<string>? scopes = null;
        List<JsonObject> scopeInstances = [];
        if (body.TryGetPropertyValue("scope", out var scope))
        {
            if (IsScopeEvolution(scope)) scopeInstances = ParseScopeInstances(scope);
            else scopes = EntityParser.ParseScopes(scope);
        }
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
            instances[iri] = elements.Select(e => Deletion(name, e) ?? EntityParser.ParseAttributeBody(name, iri, e, context, ParseMode.Full)).ToList();
        }
        return new TemporalEntityInput(id, types, scopes, instances) { ScopeInstances = scopeInstances };
    }

    /// <summary>True when the instance records a deletion (NGSI-LD Null as its payload).</summary>
    public static bool IsDeletion(JsonObject instance) =>
        Attr.Payload(instance) is var payload && (Attr.IsNullMarker(payload) && payload is not null || Attr.IsNullLanguageMap(payload));

    /// <summary>An instance holding NGSI-LD Null, kept as type, payload, observedAt and datasetId; null when it is not one.</summary>
    private static JsonObject? Deletion(string name, JsonObject element)
    {
        var type = element["type"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
        if (type is null || !Attr.PayloadMember.TryGetValue(type, out var member) || !element.TryGetPropertyValue(member, out var payload)) return null;
        if (!(Attr.IsNullMarker(payload) && payload is not null) && !(type == Attr.LanguageProperty && Attr.IsNullLanguageMap(payload))) return null;
        var deletion = new JsonObject { ["type"] = type, [member] = payload!.DeepClone() };
        if (element["observedAt"] is { } observedAt)
        {
            if (observedAt is not JsonValue ov || !ov.TryGetValue<string>(out var observed)) throw NgsiException.BadRequestData($"'observedAt' of '{name}' must be a date-time string");
            deletion["observedAt"] = Validate.DateTime(observed, $"'observedAt' of '{name}'");
        }
        if (element["datasetId"] is { } datasetId)
        {
            if (datasetId is not JsonValue dv || !dv.TryGetValue<string>(out var ds) || !Validate.IsUri(ds)) throw NgsiException.BadRequestData($"'datasetId' of '{name}' must be a URI");
            deletion["datasetId"] = ds;
        }
        return deletion;
    }

    private static bool IsScopeEvolution(JsonNode? scope) =>
        scope is JsonObject || scope is JsonArray a && a.Count > 0 && a.All(e => e is JsonObject);

    /// <summary>The Scope's instances (clause 4.5.6): Properties whose value is a scope or an array of scopes, with an optional observedAt.</summary>
    private static List<JsonObject> ParseScopeInstances(JsonNode? scope)
    {
        var elements = scope is JsonObject o ? [o] : scope!.AsArray().Select(e => e!.AsObject()).ToList();
        var result = new List<JsonObject>();
        foreach (var element in elements)
        {
            if (element["type"] is { } type && !(type is JsonValue tv && tv.TryGetValue<string>(out var t) && t == Attr.Property))
                throw NgsiException.BadRequestData("The temporal evolution of 'scope' is made of Property instances");
            var scopes = EntityParser.ParseScopes(element["value"] ?? throw NgsiException.BadRequestData("A 'scope' instance needs a value"));
            var instance = new JsonObject { ["type"] = Attr.Property, ["value"] = ScopeHistory.Value(scopes) };
            if (element["observedAt"] is { } observedAt)
            {
                if (observedAt is not JsonValue ov || ov.GetValueKind() != JsonValueKind.String) throw NgsiException.BadRequestData("'observedAt' of 'scope' must be a date-time string");
                instance["observedAt"] = Validate.DateTime(ov.GetValue<string>(), "'observedAt' of 'scope'");
            }
            result.Add(instance);
        }
        return result;
    }
}

/// <summary>
/// How temporal instances change the entity (design choice of issue 5): every instance goes into the history, and the
/// current state, which the entity API and the entity selection of temporal queries read, takes per (attribute,
/// datasetId) the latest instance by observedAt unless the entity already holds a later one. An instance without
/// observedAt counts as the latest; a deletion instance that is the latest removes the attribute (datasetId) from the
/// current state. This is what Orion-LD/Mintaka and Stellio expose in effect. The Scope's instances work the same way.
/// </summary>
public static class TemporalWrites
{
    /// <summary>The new state and changes; <paramref name="current"/> (the store's fresh copy) is changed in place, the input only read.</summary>
    public static (Entity After, List<AttributeChange> Changes) Apply(Entity? current, TemporalEntityInput input, DateTimeOffset now)
    {
        var stamp = Validate.Format(now);
        var hadScope = current?.Scopes is { Count: > 0 };
        var entity = current ?? new Entity(input.Id) { CreatedAt = now };
        foreach (var type in input.Types)
            if (!entity.Types.Contains(type)) entity.Types.Add(type);
        if (entity.Types.Count == 0) throw NgsiException.BadRequestData("The temporal entity has no 'type'");
        if (input.Scopes is not null) entity.Scopes = input.Scopes.Count == 0 ? null : [.. input.Scopes];
        entity.ModifiedAt = now;

        var changes = new List<AttributeChange>();
        foreach (var (name, instances) in input.Instances)
        {
            foreach (var instance in Chronological(instances))
            {
                var datasetId = Attr.DatasetId(instance);
                var existing = entity.FindInstance(name, datasetId);
                var copy = (JsonObject)instance.DeepClone();
                var later = existing is not null && ObservedAt(existing) is { } held && ObservedAt(copy) is { } incoming && incoming < held;
                if (TemporalEntityInput.IsDeletion(instance))
                {
                    copy.Remove(Attr.PayloadMember.GetValueOrDefault(Attr.Type(copy), "value"));
                    changes.Add(new AttributeChange(name, datasetId, AttributeChangeKind.Deleted, copy));
                    if (existing is not null && !later) Remove(entity, name, existing);
                    continue;
                }
                copy["createdAt"] = existing?["createdAt"]?.DeepClone() ?? stamp;
                copy["modifiedAt"] = stamp;
                changes.Add(new AttributeChange(name, datasetId, existing is null ? AttributeChangeKind.Created : AttributeChangeKind.Updated, copy));
                if (later) continue;
                if (!entity.Attributes.TryGetValue(name, out var list)) entity.Attributes[name] = list = [];
                var index = existing is null ? -1 : list.IndexOf(existing);
                if (index >= 0) list[index] = copy; else list.Add(copy);
            }
        }
        foreach (var instance in Chronological(input.ScopeInstances))
        {
            changes.Add(new AttributeChange(ScopeHistory.Attribute, null, hadScope ? AttributeChangeKind.Updated : AttributeChangeKind.Created, instance));
            hadScope = true;
            entity.Scopes = EntityParser.ParseScopes(instance["value"]);
        }
        return (entity, changes);
    }

    public static DateTimeOffset? ObservedAt(JsonObject instance) =>
        instance["observedAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var t) ? t : null;

    private static IEnumerable<JsonObject> Chronological(List<JsonObject> instances) =>
        instances.Select((instance, index) => (instance, index))
            .OrderBy(p => ObservedAt(p.instance) ?? DateTimeOffset.MaxValue).ThenBy(p => p.index).Select(p => p.instance);

    private static void Remove(Entity entity, string name, JsonObject instance)
    {
        var list = entity.Attributes[name];
        list.Remove(instance);
        if (list.Count == 0) entity.Attributes.Remove(name);
    }
}
