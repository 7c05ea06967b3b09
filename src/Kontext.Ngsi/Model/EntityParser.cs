using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Ngsi.Model;

/// <summary>How strictly a payload is read.</summary>
public enum ParseMode
{
    /// <summary>Complete attributes (create, replace, append, update).</summary>
    Full,
    /// <summary>Attribute fragments: the payload member may be missing (partial attribute update).</summary>
    Fragment,
    /// <summary>
    /// Merge-patch: fragments, and <c>urn:ngsi-ld:null</c> marks a deletion. An object without a type or value
    /// member is a fragment of sub-attributes to merge, not a JSON value.
    /// </summary>
    Merge,
    /// <summary>Update Attributes: complete attributes, and <c>urn:ngsi-ld:null</c> marks a deletion.</summary>
    Update,
}

/// <summary>
/// Reads entities and attribute fragments (normalized or concise) into expanded form, validating as it goes.
/// Everything the client sends is checked here once; the rest of the broker trusts the expanded model.
/// </summary>
public static class EntityParser
{
    /// <summary>
    /// Parses a whole entity. <paramref name="expectedId"/> is the id from the URL, when there is one. With
    /// <paramref name="takesBody"/> the caller hands <paramref name="body"/> over (nothing reads it afterwards): its
    /// attribute values are moved into the entity instead of copied, and the body is left emptied of them.
    /// </summary>
    public static Entity ParseEntity(JsonObject body, JsonLdContext context, ParseMode mode, string? expectedId = null, bool takesBody = false)
    {
        var id = ReadString(body, "id") ?? ReadString(body, "@id");
        if (id is null)
        {
            if (expectedId is null) throw NgsiException.BadRequestData("The entity has no 'id'");
            id = expectedId;
        }
        Validate.EntityId(id);
        if (expectedId is not null && id != expectedId)
            throw NgsiException.BadRequestData($"The entity id '{id}' in the body does not match '{expectedId}' in the URL");

        var entity = new Entity(id);
        var typeNode = body["type"] ?? body["@type"];
        if (typeNode is null)
        {
            if (mode == ParseMode.Full) throw NgsiException.BadRequestData("The entity has no 'type'");
        }
        else entity.Types = ParseTypes(typeNode, context);

        if (body.TryGetPropertyValue("scope", out var scope)) entity.Scopes = ParseScopes(scope);
        entity.ExpiresAt = ParseExpiresAt(body, mode);
        ReadAttributesInto(entity, body, context, mode, takesBody);
        return entity;
    }

    /// <summary>
    /// Parses an attribute-list fragment (append, update, merge): attributes, and optionally types and scope.
    /// <paramref name="takesBody"/> as for <see cref="ParseEntity"/>.
    /// </summary>
    public static Entity ParseFragment(JsonObject body, JsonLdContext context, ParseMode mode, string entityId, bool takesBody = false)
    {
        var id = ReadString(body, "id") ?? ReadString(body, "@id");
        if (id is not null && id != entityId)
            throw NgsiException.BadRequestData($"The entity id '{id}' in the body does not match '{entityId}' in the URL");
        var fragment = new Entity(entityId);
        if ((body["type"] ?? body["@type"]) is { } typeNode) fragment.Types = ParseTypes(typeNode, context);
        if (body.TryGetPropertyValue("scope", out var scope)) fragment.Scopes = AllowsNull(mode) && Attr.IsNullMarker(scope) ? [] : ParseScopes(scope);
        fragment.ExpiresAt = ParseExpiresAt(body, mode);
        ReadAttributesInto(fragment, body, context, mode, takesBody);
        return fragment;
    }

    /// <summary>The entity's expiresAt (clause 4.22): a date-time; in a merge or update NGSI-LD Null makes the entity durable again (<see cref="Transience.Never"/>).</summary>
    private static DateTimeOffset? ParseExpiresAt(JsonObject body, ParseMode mode)
    {
        if (!body.TryGetPropertyValue("expiresAt", out var node)) return null;
        if (AllowsNull(mode) && Attr.IsNullMarker(node)) return Transience.Never;
        if (node is not JsonValue v || !v.TryGetValue<string>(out var text)) throw NgsiException.BadRequestData("The entity's 'expiresAt' must be a date-time string");
        Validate.TryParseDateTime(Validate.DateTime(text, "The entity's 'expiresAt'"), out var at);
        return at;
    }

    private static bool AllowsNull(ParseMode mode) => mode is ParseMode.Merge or ParseMode.Update;

    public static List<string> ParseTypes(JsonNode node, JsonLdContext context)
    {
        // The usual entity has one type: no list of names for it.
        if (node is JsonValue single && single.TryGetValue<string>(out var one)) return [ExpandType(one, context)];
        var names = node switch
        {
            JsonArray a when a.Count > 0 && a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) => a.Select(e => e!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("The entity 'type' must be a string or a non-empty array of strings"),
        };
        var types = new List<string>(names.Count);
        foreach (var name in names)
        {
            var iri = ExpandType(name, context);
            if (!types.Contains(iri)) types.Add(iri);
        }
        return types;
    }

    private static string ExpandType(string name, JsonLdContext context)
    {
        Validate.NewName(name, "entity type");
        var iri = context.ExpandTerm(name);
        // A term the context maps to a JSON-LD keyword ("type" is @type) names no type.
        if (iri.StartsWith('@')) throw NgsiException.BadRequestData($"'{name}' is a JSON-LD keyword, not an entity type");
        return iri;
    }

    public static List<string> ParseScopes(JsonNode? node)
    {
        var scopes = node switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => [s],
            JsonArray a when a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) => a.Select(e => e!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("'scope' must be a string or an array of strings"),
        };
        foreach (var s in scopes) Validate.Scope(s);
        return scopes.Distinct(StringComparer.Ordinal).ToList();
    }

    private static void ReadAttributesInto(Entity entity, JsonObject body, JsonLdContext context, ParseMode mode, bool takesBody)
    {
        foreach (var (name, value) in body)
        {
            if (Attr.EntityMembers.Contains(name)) continue;
            var iri = ExpandNewAttributeName(name, context);
            if (entity.Attributes.ContainsKey(iri))
                throw NgsiException.BadRequestData($"Attribute '{name}' is given twice (two names expand to {iri})");
            entity.Attributes[iri] = ParseAttribute(name, iri, value, context, mode, takesBody);
        }
    }

    public static string ExpandAttributeName(string name, JsonLdContext context)
    {
        Validate.Name(name, "attribute name");
        if (name[0] == '@') throw NgsiException.BadRequestData($"'{name}' is a JSON-LD keyword, not an attribute name");
        return context.ExpandTerm(name);
    }

    /// <summary>
    /// An attribute name a write introduces: the name grammar of clause 4.6.2, and none of the core terms that are not
    /// attributes (value, observedAt, datasetId, instanceId, ...: clause 4.5.1) nor JSON-LD keywords (an embedded
    /// @context is refused, clause 5.5.7).
    /// </summary>
    private static string ExpandNewAttributeName(string name, JsonLdContext context)
    {
        if (Attr.ReservedAttributeNames.Contains(name)) throw NgsiException.BadRequestData($"'{name}' is an NGSI-LD core term and cannot name an attribute");
        var iri = ExpandAttributeName(name, context);
        Validate.NewName(name, "attribute name");
        return iri;
    }

    /// <summary>Parses the value of one attribute: a single instance, or an array of instances (multi-attribute by datasetId).</summary>
    public static List<JsonObject> ParseAttribute(string name, string iri, JsonNode? value, JsonLdContext context, ParseMode mode, bool takesBody = false)
    {
        // The usual attribute is one instance: it needs neither the array walk nor the datasetId set below.
        if (value is not JsonArray array || array.Count == 0 || !AllInstanceObjects(array))
            return [ParseInstance(name, iri, value, context, mode, depth: 0, takesBody)];

        var instances = new List<JsonObject>(array.Count);
        for (var i = 0; i < array.Count; i++) instances.Add(ParseInstance(name, iri, array[i]!, context, mode, depth: 0, takesBody));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            if (!seen.Add(Attr.DatasetId(instance) ?? ""))
                throw NgsiException.BadRequestData($"Attribute '{name}' has two instances with the same datasetId ('{Attr.DatasetId(instance) ?? "default"}')");
        }
        return instances;
    }

    /// <summary>
    /// Parses the body of an attribute-level request (Partial Attribute Update, Replace Attribute): the object is
    /// the attribute itself, never a concise value, so it may carry only sub-attributes.
    /// </summary>
    public static JsonObject ParseAttributeBody(string name, string iri, JsonObject body, JsonLdContext context, ParseMode mode) =>
        ParseInstance(name, iri, body, context, mode, depth: 0, takesBody: false, isAttributeBody: true);

    // An array element that is an attribute representation rather than a plain JSON value.
    private static bool IsInstanceObject(JsonNode? node) =>
        node is JsonObject o && (o["type"] is JsonValue t && t.TryGetValue<string>(out var type) && Attr.PayloadMember.ContainsKey(type)
                                 || HasConciseMember(o));

    // Loops rather than LINQ: these run for every attribute of every entity written (no enumerator or closure allocated).
    private static bool HasConciseMember(JsonObject o)
    {
        for (var i = 0; i < o.Count; i++)
            if (Attr.ConciseKind.ContainsKey(o.GetAt(i).Key)) return true;
        return false;
    }

    private static bool AllInstanceObjects(JsonArray array)
    {
        for (var i = 0; i < array.Count; i++)
            if (!IsInstanceObject(array[i])) return false;
        return true;
    }

    private static JsonObject ParseInstance(string name, string iri, JsonNode? node, JsonLdContext context, ParseMode mode, int depth, bool takesBody, bool isAttributeBody = false)
    {
        if (depth > 8) throw NgsiException.BadRequestData($"Sub-attributes of '{name}' are nested too deeply");
        if (node is null || (node is JsonValue nv && nv.TryGetValue<string>(out var marker) && marker == Attr.NullMarker))
        {
            if (AllowsNull(mode)) return new JsonObject { ["value"] = Attr.NullMarker };
            throw NgsiException.BadRequestData($"Attribute '{name}' has a null value");
        }

        var isCoreGeo = Attr.CoreGeoProperties.Contains(iri);
        if (node is not JsonObject obj || (!isAttributeBody && mode != ParseMode.Merge && !IsInstanceObject(obj)))
        {
            // Concise: the bare value is the attribute (a GeoJSON geometry makes a GeoProperty).
            var kind = GeoJson.LooksLikeGeometry(node) || isCoreGeo ? Attr.GeoProperty : Attr.Property;
            var concise = new JsonObject { ["type"] = kind, ["value"] = Take(node, takesBody) };
            Check(name, iri, concise, kind, mode);
            return concise;
        }

        // The instance is the request's attribute object normalized in place: the request's own when the caller hands its
        // body over (no second object per instance), else a copy. Either way the parse owns it, and so its members.
        var result = takesBody ? (JsonObject)Take(obj, takesBody: true)! : (JsonObject)obj.DeepClone();
        string? type = null;
        if (result["type"] is { } typeNode)
        {
            if (typeNode is not JsonValue tv || !tv.TryGetValue<string>(out type) || !Attr.PayloadMember.ContainsKey(type))
                throw NgsiException.BadRequestData($"Attribute '{name}' has an unknown type '{typeNode.ToJsonString()}'");
        }
        else
        {
            var payloads = result.Select(p => p.Key).Where(Attr.ConciseKind.ContainsKey).ToList();
            if (payloads.Count > 1) throw NgsiException.BadRequestData($"Attribute '{name}' mixes {string.Join(" and ", payloads)}");
            if (payloads.Count == 1) type = Attr.ConciseKind[payloads[0]];
            if (type == Attr.Property && (isCoreGeo || GeoJson.LooksLikeGeometry(result["value"]))) type = Attr.GeoProperty;
        }

        var isProof = iri == Attr.ProofProperty;
        // By index: members are replaced, renamed (sub-attributes to their IRIs) or removed as the walk goes.
        for (var i = 0; i < result.Count; i++)
        {
            var (member, value) = result.GetAt(i);
            if (member == "type" || Attr.SystemMembers.Contains(member))
            {
                result.RemoveAt(i--); // the type goes last, below, as a plain string (read often, never copied out again); system members are the broker's
                continue;
            }
            if (Attr.OutputOnlyMembers.Contains(member))
                throw NgsiException.BadRequestData($"'{member}' of '{name}' is written by the broker only (in notifications and temporal representations)");
            if (Attr.SealedMembers.Contains(member))
            {
                if (!isProof) throw NgsiException.BadRequestData($"'{member}' is only allowed in the ngsildproof Property, not in '{name}'");
                result.SetAt(i, SealedMember(member, value, context));
                continue;
            }
            if (Attr.IsSubAttribute(member))
            {
                var subIri = ExpandNewAttributeName(member, context);
                var other = result.IndexOf(subIri);
                if (other >= 0 && other != i)
                    throw NgsiException.BadRequestData($"Sub-attribute '{member}' of '{name}' is given twice (two names expand to {subIri})");
                JsonNode sub;
                if (AllowsNull(mode) && Attr.IsNullMarker(value)) sub = new JsonObject { ["value"] = Attr.NullMarker };
                else
                {
                    if (value is JsonArray arr && arr.Count > 0 && AllInstanceObjects(arr))
                        throw NgsiException.BadRequestData($"Sub-attribute '{member}' of '{name}' cannot have several instances");
                    sub = ParseInstance(member, subIri, value, context, mode, depth + 1, takesBody: true);
                }
                result.SetAt(i, subIri, sub);
                continue;
            }
            if (member == "datasetId" && value is JsonValue dv && dv.TryGetValue<string>(out var ds) && ds == "@none")
            {
                result.RemoveAt(i--); // the default instance (clause 4.5.5)
                continue;
            }
            switch (member)
            {
                case "vocab": result.SetAt(i, ExpandVocab(name, value, context, mode)); break;
                case "objectType": result.SetAt(i, ExpandObjectType(name, value, context)); break;
                case "objectList": result.SetAt(i, NormalizeObjectList(value, takesBody: true)); break;
            }
        }
        if (type is not null) result["type"] = type;
        Check(name, iri, result, type, mode);
        if (isProof && !AllowsNull(mode) && type == Attr.Property && result["value"] is not JsonObject)
            throw NgsiException.BadRequestData("The value of ngsildproof is an object holding the W3C Data Integrity proof");
        return result;
    }

    /// <summary>entityIdSealed (the entity's id) and entityTypeSealed (a type, read like a vocabulary term) of the proof Property.</summary>
    private static JsonNode SealedMember(string member, JsonNode? value, JsonLdContext context)
    {
        if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length == 0)
            throw NgsiException.BadRequestData($"'{member}' of ngsildproof must be a string");
        return member == "entityTypeSealed" ? context.ExpandTerm(text) : text;
    }

    /// <summary>ListRelationship entries are kept in the normalized form {"object": URI} (clause 4.5.22.3); bare URIs are accepted.</summary>
    private static JsonNode? NormalizeObjectList(JsonNode? value, bool takesBody) => value is JsonArray list && list.All(IsRelationshipTarget)
        ? new JsonArray(list.ToArray().Select(e => (JsonNode?)(e is JsonObject o ? Take(o, takesBody) : new JsonObject { ["object"] = Take(e, takesBody) })).ToArray())
        : Take(value, takesBody);

    /// <summary>
    /// A value of the request for the parsed entity: a copy, or, when the caller hands its body over, the node itself,
    /// detached from the request (a node has one parent), which saves the copy of every value of every entity written.
    /// </summary>
    private static JsonNode? Take(JsonNode? node, bool takesBody)
    {
        if (node is null) return null;
        if (!takesBody) return node.DeepClone();
        // Replacing a member's value in place (not removing the member) keeps any walk over the parent's members valid.
        switch (node.Parent)
        {
            case JsonObject parent: parent.SetAt(parent.IndexOf(node.GetPropertyName()), null); break;
            case JsonArray parent: parent[node.GetElementIndex()] = null; break;
        }
        return node;
    }

    private static JsonNode? ExpandVocab(string name, JsonNode? value, JsonLdContext context, ParseMode mode)
    {
        if (AllowsNull(mode) && Attr.IsNullMarker(value)) return Attr.NullMarker;
        return value switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => context.ExpandTerm(s),
            JsonArray a when a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) =>
                new JsonArray(a.Select(e => (JsonNode?)context.ExpandTerm(e!.GetValue<string>())).ToArray()),
            _ => throw NgsiException.BadRequestData($"VocabProperty '{name}' needs 'vocab' as a string or an array of strings"),
        };
    }

    private static JsonNode? ExpandObjectType(string name, JsonNode? value, JsonLdContext context) => value switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => context.ExpandTerm(s),
        JsonArray a when a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String) =>
            new JsonArray(a.Select(e => (JsonNode?)context.ExpandTerm(e!.GetValue<string>())).ToArray()),
        _ => throw NgsiException.BadRequestData($"Relationship '{name}' has an invalid 'objectType'"),
    };

    // The payload member names once, in the order of Attr.PayloadMember (the first conflict found is the one reported).
    private static readonly string[] PayloadMembers = Attr.PayloadMember.Values.Distinct().ToArray();

    /// <summary>Checks one instance's members against its type.</summary>
    private static void Check(string name, string iri, JsonObject instance, string? type, ParseMode mode)
    {
        var partial = mode is ParseMode.Fragment or ParseMode.Merge;
        if (type is null)
        {
            if (!partial) throw NgsiException.BadRequestData($"Attribute '{name}' has no 'type' and no value member (value, object, languageMap, vocab, json, valueList, objectList)");
            CheckMeta(name, instance);
            return;
        }
        var payloadMember = Attr.PayloadMember[type];
        foreach (var other in PayloadMembers)
        {
            if (other != payloadMember && instance.ContainsKey(other))
                throw NgsiException.BadRequestData($"Attribute '{name}' of type {type} cannot have '{other}'");
        }
        if (Attr.CoreGeoProperties.Contains(iri) && type != Attr.GeoProperty)
            throw NgsiException.BadRequestData($"'{name}' is a GeoProperty by the core context, not a {type}");

        if (!instance.TryGetPropertyValue(payloadMember, out var payload))
        {
            if (partial) { CheckMeta(name, instance); return; }
            throw NgsiException.BadRequestData($"Attribute '{name}' of type {type} has no '{payloadMember}'");
        }
        if (payload is null) throw NgsiException.BadRequestData($"Attribute '{name}' has a null '{payloadMember}'");
        var isNull = Attr.IsNullMarker(payload)
                     || type == Attr.LanguageProperty && Attr.IsNullLanguageMap(payload);
        if (isNull)
        {
            // NGSI-LD Null means "delete" and exists only in partial updates and merges (clause 5.2.1).
            if (!AllowsNull(mode)) throw NgsiException.BadRequestData($"Attribute '{name}' is NGSI-LD Null, which is only allowed in merge and update operations");
            CheckMeta(name, instance);
            return;
        }

        // NGSI-LD Null inside a JSON object of the value removes a key, which only a merge does (clause 5.5.4).
        if (mode != ParseMode.Merge && Attr.HasNestedNull(payload))
            throw NgsiException.BadRequestData($"Attribute '{name}' holds NGSI-LD Null inside its value, which only a merge may do");
        if (Attr.Unitless.Contains(type) && instance.ContainsKey("unitCode"))
            throw NgsiException.BadRequestData($"Attribute '{name}' of type {type} cannot have a unitCode");

        switch (type)
        {
            case Attr.GeoProperty:
                if (payload is JsonValue encoded && encoded.TryGetValue<string>(out var text))
                {
                    // A geometry may arrive JSON-encoded in a string (clause 4.7.2); it is kept as the geometry itself.
                    payload = ParseEncodedGeometry(text, name);
                    instance[payloadMember] = payload;
                }
                if (payload is JsonObject g && g["type"] is JsonValue gt && gt.TryGetValue<string>(out var geometryType) && geometryType == "GeometryCollection")
                    throw NgsiException.BadRequestData($"'{name}' is a GeometryCollection, which NGSI-LD does not support as a GeoProperty value (clause 4.6.3)");
                GeoJson.Check(payload, name);
                break;
            case Attr.Relationship:
                if (!(payload is JsonValue ov && ov.TryGetValue<string>(out var target) && Validate.IsUri(target))
                    && !(payload is JsonArray targets && targets.Count > 0 && targets.All(t => t is JsonValue tv && tv.TryGetValue<string>(out var u) && Validate.IsUri(u))))
                    throw NgsiException.BadRequestData($"Relationship '{name}' needs 'object' as a URI or an array of URIs");
                break;
            case Attr.LanguageProperty:
                if (payload is not JsonObject map || map.Count == 0 || !map.All(p => p.Key.Length > 0 && IsStringOrStrings(p.Value)))
                    throw NgsiException.BadRequestData($"LanguageProperty '{name}' needs 'languageMap' as an object of non-empty language tag → string");
                if (instance["valueType"] is { } valueType && !(valueType is JsonValue vt && vt.TryGetValue<string>(out var vts) && vts == "langString"))
                    throw NgsiException.BadRequestData($"The valueType of LanguageProperty '{name}' can only be langString");
                break;
            case Attr.JsonProperty:
                if (payload is not (JsonObject or JsonArray))
                    throw NgsiException.BadRequestData($"JsonProperty '{name}' needs 'json' as a JSON object or array");
                break;
            case Attr.ListProperty:
                if (payload is not JsonArray)
                    throw NgsiException.BadRequestData($"ListProperty '{name}' needs 'valueList' as an array");
                break;
            case Attr.ListRelationship:
                if (payload is not JsonArray list || !list.All(IsRelationshipTarget))
                    throw NgsiException.BadRequestData($"ListRelationship '{name}' needs 'objectList' as an array of URIs or {{\"object\": URI}}");
                break;
        }
        CheckMeta(name, instance);
    }

    private static JsonNode ParseEncodedGeometry(string text, string name)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject geometry) return geometry;
        }
        catch (JsonException)
        {
        }
        throw NgsiException.BadRequestData($"GeoProperty '{name}' has a string value that is not a JSON-encoded GeoJSON geometry");
    }

    private static void CheckMeta(string name, JsonObject instance)
    {
        if (instance["observedAt"] is { } observedAt && !Attr.IsNullMarker(observedAt))
        {
            if (observedAt is not JsonValue v || !v.TryGetValue<string>(out var text)) throw NgsiException.BadRequestData($"'observedAt' of '{name}' must be a date-time string");
            Validate.DateTime(text, $"'observedAt' of '{name}'");
        }
        if (instance["datasetId"] is { } datasetId && !(datasetId is JsonValue dv && dv.TryGetValue<string>(out var ds) && Validate.IsUri(ds)))
            throw NgsiException.BadRequestData($"'datasetId' of '{name}' must be a URI");
        // An instance is deleted through its payload; its datasetId only names it (clause 5.5.8).
        if (Attr.DatasetId(instance) == Attr.NullMarker)
            throw NgsiException.BadRequestData($"The datasetId of '{name}' cannot be NGSI-LD Null: a datasetId is not deleted, the instance is");
        if (instance["expiresAt"] is { } expiresAt && !Attr.IsNullMarker(expiresAt))
        {
            if (expiresAt is not JsonValue ev || !ev.TryGetValue<string>(out var expiry)) throw NgsiException.BadRequestData($"'expiresAt' of '{name}' must be a date-time string");
            Validate.DateTime(expiry, $"'expiresAt' of '{name}'");
        }
        if (instance["unitCode"] is { } unitCode && !Attr.IsNullMarker(unitCode) && !(unitCode is JsonValue uv && uv.GetValueKind() == JsonValueKind.String))
            throw NgsiException.BadRequestData($"'unitCode' of '{name}' must be a string");
    }

    private static bool IsStringOrStrings(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String
        || node is JsonArray a && a.All(e => e is JsonValue ev && ev.GetValueKind() == JsonValueKind.String);

    private static bool IsRelationshipTarget(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && Validate.IsUri(s)
        || node is JsonObject o && o["object"] is JsonValue ov && ov.TryGetValue<string>(out var t) && Validate.IsUri(t);

    private static string? ReadString(JsonObject body, string member)
    {
        if (!body.TryGetPropertyValue(member, out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw NgsiException.BadRequestData($"'{member}' must be a string");
    }
}
