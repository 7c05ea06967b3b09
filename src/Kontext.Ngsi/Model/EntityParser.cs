using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
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
/// The walk reads the request's immutable JSON (<see cref="JsonElement"/>) and builds each attribute instance once, in its
/// normalized form: no node tree of the request is built first (a batch item is never materialised as a whole).
/// </summary>
public static class EntityParser
{
    /// <summary>Parses a whole entity held as a node (see <see cref="ParseEntity(JsonElement, JsonLdContext, ParseMode, string?)"/>).</summary>
    public static Entity ParseEntity(JsonObject body, JsonLdContext context, ParseMode mode, string? expectedId = null) =>
        ParseEntity(ElementOf(body), context, mode, expectedId);

    /// <summary>
    /// Parses a whole entity (a JSON object). <paramref name="expectedId"/> is the id from the URL, when there is one. The
    /// entity's values are nodes over <paramref name="body"/>, which is immutable: nothing of the request is moved or copied.
    /// </summary>
    public static Entity ParseEntity(JsonElement body, JsonLdContext context, ParseMode mode, string? expectedId = null)
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

        var entity = new Entity(id, body.GetPropertyCount());
        if ((StrictJson.Member(body, "type") ?? StrictJson.Member(body, "@type")) is { } typeElement) entity.Types = ParseTypes(typeElement, context);
        else if (mode == ParseMode.Full) throw NgsiException.BadRequestData("The entity has no 'type'");

        if (body.TryGetProperty("scope", out var scope)) entity.Scopes = ParseScopes(scope);
        entity.ExpiresAt = ParseExpiresAt(body, mode);
        ReadAttributesInto(entity, body, context, mode);
        return entity;
    }

    /// <summary>Parses an attribute-list fragment held as a node (see <see cref="ParseFragment(JsonElement, JsonLdContext, ParseMode, string)"/>).</summary>
    public static Entity ParseFragment(JsonObject body, JsonLdContext context, ParseMode mode, string entityId) =>
        ParseFragment(ElementOf(body), context, mode, entityId);

    /// <summary>Parses an attribute-list fragment (append, update, merge): attributes, and optionally types and scope.</summary>
    /// <param name="readsId">False where the URL alone names the entity: an id in the body is left unread, whatever it is.</param>
    public static Entity ParseFragment(JsonElement body, JsonLdContext context, ParseMode mode, string entityId, bool readsId = true)
    {
        var id = readsId ? ReadString(body, "id") ?? ReadString(body, "@id") : null;
        if (id is not null && id != entityId)
            throw NgsiException.BadRequestData($"The entity id '{id}' in the body does not match '{entityId}' in the URL");
        var fragment = new Entity(entityId, body.GetPropertyCount());
        if ((StrictJson.Member(body, "type") ?? StrictJson.Member(body, "@type")) is { } typeElement) fragment.Types = ParseTypes(typeElement, context);
        if (body.TryGetProperty("scope", out var scope)) fragment.Scopes = AllowsNull(mode) && Attr.IsNullMarker(scope) ? [] : ParseScopes(scope);
        fragment.ExpiresAt = ParseExpiresAt(body, mode);
        ReadAttributesInto(fragment, body, context, mode);
        return fragment;
    }

    /// <summary>The entity's expiresAt (clause 4.22): a date-time; in a merge or update NGSI-LD Null makes the entity durable again (<see cref="Transience.Never"/>).</summary>
    private static DateTimeOffset? ParseExpiresAt(JsonElement body, ParseMode mode)
    {
        if (!body.TryGetProperty("expiresAt", out var element)) return null;
        if (AllowsNull(mode) && Attr.IsNullMarker(element)) return Transience.Never;
        if (element.ValueKind != JsonValueKind.String) throw NgsiException.BadRequestData("The entity's 'expiresAt' must be a date-time string");
        Validate.TryParseDateTime(Validate.DateTime(element.GetString(), "The entity's 'expiresAt'"), out var at);
        return at;
    }

    private static bool AllowsNull(ParseMode mode) => mode is ParseMode.Merge or ParseMode.Update;

    public static List<string> ParseTypes(JsonNode node, JsonLdContext context) => ParseTypes(ElementOf(node), context);

    public static List<string> ParseTypes(JsonElement element, JsonLdContext context)
    {
        // The usual entity has one type: no list of names for it.
        if (element.ValueKind == JsonValueKind.String) return [ExpandType(element.GetString()!, context)];
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0 || !AllStrings(element))
            throw NgsiException.BadRequestData("The entity 'type' must be a string or a non-empty array of strings");
        var types = new List<string>(element.GetArrayLength());
        foreach (var name in element.EnumerateArray())
        {
            var iri = ExpandType(name.GetString()!, context);
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

    public static List<string> ParseScopes(JsonNode? node) => ParseScopes(ElementOf(node));

    public static List<string> ParseScopes(JsonElement element)
    {
        List<string> scopes = element.ValueKind switch
        {
            JsonValueKind.String => [element.GetString()!],
            JsonValueKind.Array when AllStrings(element) => [.. element.EnumerateArray().Select(e => e.GetString()!)],
            _ => throw NgsiException.BadRequestData("'scope' must be a string or an array of strings"),
        };
        foreach (var s in scopes) Validate.Scope(s);
        return scopes.Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool AllStrings(JsonElement array)
    {
        foreach (var e in array.EnumerateArray())
            if (e.ValueKind != JsonValueKind.String) return false;
        return true;
    }

    private static void ReadAttributesInto(Entity entity, JsonElement body, JsonLdContext context, ParseMode mode)
    {
        foreach (var member in body.EnumerateObject())
        {
            var name = member.Name;
            if (Attr.EntityMembers.Contains(name)) continue;
            var iri = ExpandNewAttributeName(name, context);
            if (entity.Attributes.ContainsKey(iri))
                throw NgsiException.BadRequestData($"Attribute '{name}' is given twice (two names expand to {iri})");
            entity.Attributes[iri] = ParseAttribute(name, iri, member.Value, context, mode);
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

    /// <summary>Parses the value of one attribute held as a node (see <see cref="ParseAttribute(string, string, JsonElement, JsonLdContext, ParseMode)"/>).</summary>
    public static List<JsonObject> ParseAttribute(string name, string iri, JsonNode? value, JsonLdContext context, ParseMode mode) =>
        ParseAttribute(name, iri, ElementOf(value), context, mode);

    /// <summary>Parses the value of one attribute: a single instance, or an array of instances (multi-attribute by datasetId).</summary>
    public static List<JsonObject> ParseAttribute(string name, string iri, JsonElement value, JsonLdContext context, ParseMode mode)
    {
        // The usual attribute is one instance: it needs neither the array walk nor the datasetId set below.
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0 || !AllInstanceObjects(value))
            return [ParseInstance(name, iri, value, context, mode, depth: 0)];

        var instances = new List<JsonObject>(value.GetArrayLength());
        foreach (var element in value.EnumerateArray()) instances.Add(ParseInstance(name, iri, element, context, mode, depth: 0));
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
        ParseAttributeBody(name, iri, ElementOf(body), context, mode);

    /// <summary>The same for the body read as an element (an object).</summary>
    /// <param name="skipsContext">True when the body is the request's own, whose @context member is the request's context, not a sub-attribute.</param>
    public static JsonObject ParseAttributeBody(string name, string iri, JsonElement body, JsonLdContext context, ParseMode mode, bool skipsContext = false) =>
        ParseInstance(name, iri, body, context, mode, depth: 0, isAttributeBody: true, skipsContext);

    // An array element that is an attribute representation rather than a plain JSON value.
    private static bool IsInstanceObject(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
        && (element.TryGetProperty(Names.Type, out var type) && Attr.KnownType(type) is not null
            || HasConciseMember(element));

    // Loops rather than LINQ: these run for every attribute of every entity written (no enumerator or closure allocated).
    private static bool HasConciseMember(JsonElement element)
    {
        foreach (var property in element.EnumerateObject())
            if (Names.PayloadMembers.Find(property) is not null) return true;
        return false;
    }

    private static bool AllInstanceObjects(JsonElement array)
    {
        foreach (var element in array.EnumerateArray())
            if (!IsInstanceObject(element)) return false;
        return true;
    }

    private static JsonObject ParseInstance(string name, string iri, JsonElement node, JsonLdContext context, ParseMode mode, int depth, bool isAttributeBody = false, bool skipsContext = false)
    {
        if (depth > 8) throw NgsiException.BadRequestData($"Sub-attributes of '{name}' are nested too deeply");
        if (Attr.IsNullMarker(node))
        {
            if (AllowsNull(mode)) return new JsonObject { ["value"] = Attr.NullMarker };
            throw NgsiException.BadRequestData($"Attribute '{name}' has a null value");
        }

        var isCoreGeo = Attr.CoreGeoProperties.Contains(iri);
        if (node.ValueKind != JsonValueKind.Object || (!isAttributeBody && mode != ParseMode.Merge && !IsInstanceObject(node)))
        {
            // Concise: the bare value is the attribute (a GeoJSON geometry makes a GeoProperty).
            var kind = GeoJson.LooksLikeGeometry(node) || isCoreGeo ? Attr.GeoProperty : Attr.Property;
            var concise = new JsonObject { ["type"] = kind, ["value"] = StrictJson.Node(node) };
            Check(name, iri, concise, kind, mode, node);
            return concise;
        }

        var type = InstanceType(name, node, isCoreGeo);
        var payloadMember = type is null ? null : Attr.PayloadMember[type];
        JsonElement? payloadElement = null; // the payload as sent, when its node is a plain node over it
        var isProof = iri == Attr.ProofProperty;
        // The instance's members, in the request's order, normalised as they are read; the type goes last as a plain string
        // (read often, never copied out again).
        var result = new JsonObject();
        foreach (var property in node.EnumerateObject())
        {
            var value = property.Value;
            var member = Names.CoreMembers.Find(property);
            if (member is null)
            {
                if (skipsContext && property.NameEquals("@context"u8)) continue;
                // A sub-attribute, renamed to its IRI.
                var subName = property.Name;
                var subIri = ExpandNewAttributeName(subName, context);
                if (result.ContainsKey(subIri) || subIri != subName && node.TryGetProperty(subIri, out _))
                    throw NgsiException.BadRequestData($"Sub-attribute '{subName}' of '{name}' is given twice (two names expand to {subIri})");
                JsonNode sub;
                if (AllowsNull(mode) && Attr.IsNullMarker(value)) sub = new JsonObject { ["value"] = Attr.NullMarker };
                else
                {
                    if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && AllInstanceObjects(value))
                        throw NgsiException.BadRequestData($"Sub-attribute '{subName}' of '{name}' cannot have several instances");
                    sub = ParseInstance(subName, subIri, value, context, mode, depth + 1);
                }
                result.Add(subIri, sub);
                continue;
            }
            if (member == "type" || Attr.SystemMembers.Contains(member)) continue; // the type is appended below; system members are the broker's
            if (Attr.OutputOnlyMembers.Contains(member))
                throw NgsiException.BadRequestData($"'{member}' of '{name}' is written by the broker only (in notifications and temporal representations)");
            JsonNode? normalized;
            if (Attr.SealedMembers.Contains(member))
            {
                if (!isProof) throw NgsiException.BadRequestData($"'{member}' is only allowed in the ngsildproof Property, not in '{name}'");
                normalized = SealedMember(member, StrictJson.Node(value), context);
            }
            else if (member == "datasetId" && value.ValueKind == JsonValueKind.String && value.ValueEquals("@none"u8)) continue; // the default instance (clause 4.5.5)
            else
            {
                // The rare members that are rewritten take the node path; every other value is a node over the request's element.
                normalized = member switch
                {
                    "vocab" => ExpandVocab(name, StrictJson.Node(value), context, mode),
                    "objectType" => ExpandObjectType(name, StrictJson.Node(value), context),
                    "objectList" => NormalizeObjectList(StrictJson.Node(value)),
                    _ => StrictJson.Node(value),
                };
                if (member == payloadMember && member is not ("vocab" or "objectList")) payloadElement = value;
            }
            // Only a sub-attribute whose name the @context maps onto this core member's can have taken it already.
            if (result.ContainsKey(member))
                throw NgsiException.BadRequestData($"Sub-attribute '{member}' of '{name}' is given twice (two names expand to {member})");
            result.Add(member, normalized);
        }
        if (type is not null) result["type"] = type; // set, not added: a sub-attribute the @context maps onto "type" is overwritten, as before
        Check(name, iri, result, type, mode, payloadElement);
        if (isProof && !AllowsNull(mode) && type == Attr.Property && result["value"] is not JsonObject)
            throw NgsiException.BadRequestData("The value of ngsildproof is an object holding the W3C Data Integrity proof");
        return result;
    }

    /// <summary>An instance's type: its 'type' member, else the one its payload member implies (null: none, a fragment).</summary>
    private static string? InstanceType(string name, JsonElement instance, bool isCoreGeo)
    {
        if (StrictJson.Member(instance, "type") is { } typeElement)
        {
            return Attr.KnownType(typeElement)
                   ?? throw NgsiException.BadRequestData($"Attribute '{name}' has an unknown type '{StrictJson.Node(typeElement)!.ToJsonString()}'");
        }
        string? payload = null;
        List<string>? payloads = null;
        foreach (var property in instance.EnumerateObject())
        {
            if (Names.PayloadMembers.Find(property) is not { } found) continue;
            if (payload is null) payload = found;
            else (payloads ??= [payload]).Add(found);
        }
        if (payloads is not null) throw NgsiException.BadRequestData($"Attribute '{name}' mixes {string.Join(" and ", payloads)}");
        if (payload is null) return null;
        var type = Attr.ConciseKind[payload];
        if (type == Attr.Property && (isCoreGeo || instance.TryGetProperty(Names.Value, out var value) && GeoJson.LooksLikeGeometry(value))) type = Attr.GeoProperty;
        return type;
    }

    /// <summary>entityIdSealed (the entity's id) and entityTypeSealed (a type, read like a vocabulary term) of the proof Property.</summary>
    private static JsonNode SealedMember(string member, JsonNode? value, JsonLdContext context)
    {
        if (value is not JsonValue v || !v.TryGetValue<string>(out var text) || text.Length == 0)
            throw NgsiException.BadRequestData($"'{member}' of ngsildproof must be a string");
        return member == "entityTypeSealed" ? context.ExpandTerm(text) : text;
    }

    /// <summary>ListRelationship entries are kept in the normalized form {"object": URI} (clause 4.5.22.3); bare URIs are accepted.</summary>
    private static JsonNode? NormalizeObjectList(JsonNode? value)
    {
        if (value is not JsonArray list || !list.All(IsRelationshipTarget)) return value;
        var entries = list.ToArray();
        list.Clear(); // detaches the entries (a node has one parent): the new list takes them as they are or wrapped
        return new JsonArray(entries.Select(e => e is JsonObject ? e : new JsonObject { ["object"] = e }).ToArray());
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
    /// <param name="payloadElement">The payload as sent, when its node is a plain node over it: read where it is, not through the node's members (which would build them).</param>
    private static void Check(string name, string iri, JsonObject instance, string? type, ParseMode mode, JsonElement? payloadElement)
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
        if (mode != ParseMode.Merge && (payloadElement is { } sent ? Attr.HasNestedNull(sent) : Attr.HasNestedNull(payload)))
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
            // The message names the attribute: built only for a time that fails (this runs for every instance written).
            if (!Validate.TryParseDateTime(text, out _)) Validate.DateTime(text, $"'observedAt' of '{name}'");
        }
        if (instance["datasetId"] is { } datasetId && !(datasetId is JsonValue dv && dv.TryGetValue<string>(out var ds) && Validate.IsUri(ds)))
            throw NgsiException.BadRequestData($"'datasetId' of '{name}' must be a URI");
        // An instance is deleted through its payload; its datasetId only names it (clause 5.5.8).
        if (Attr.DatasetId(instance) == Attr.NullMarker)
            throw NgsiException.BadRequestData($"The datasetId of '{name}' cannot be NGSI-LD Null: a datasetId is not deleted, the instance is");
        if (instance["expiresAt"] is { } expiresAt && !Attr.IsNullMarker(expiresAt))
        {
            if (expiresAt is not JsonValue ev || !ev.TryGetValue<string>(out var expiry)) throw NgsiException.BadRequestData($"'expiresAt' of '{name}' must be a date-time string");
            if (!Validate.TryParseDateTime(expiry, out _)) Validate.DateTime(expiry, $"'expiresAt' of '{name}'");
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

    private static string? ReadString(JsonElement body, string member)
    {
        if (StrictJson.Member(body, member) is not { } element) return null;
        if (element.ValueKind == JsonValueKind.String) return element.GetString();
        throw NgsiException.BadRequestData($"'{member}' must be a string");
    }

    private static readonly JsonElement NullElement = JsonElement.Parse("null"u8);
    private static readonly JsonDocumentOptions NodeDocumentOptions = new() { MaxDepth = StoredJson.MaxDepth };

    /// <summary>
    /// The element of a node the broker built or read itself (the single-entity routes, adapters, temporal input): the
    /// parser reads elements only, so that there is one of it.
    /// </summary>
    private static JsonElement ElementOf(JsonNode? node)
    {
        if (node is null) return NullElement;
        if (node is JsonValue value && value.TryGetValue<JsonElement>(out var element)) return element;
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = StoredJson.MaxDepth })) node.WriteTo(writer);
        return JsonElement.Parse(buffer.WrittenSpan, NodeDocumentOptions);
    }

    /// <summary>Names the walk compares as UTF-8 (no string is made of a member name it only needs to recognise).</summary>
    private static class Names
    {
        public static readonly byte[] Type = "type"u8.ToArray();
        public static readonly byte[] Value = "value"u8.ToArray();
        public static readonly Utf8Names PayloadMembers = new(Attr.ConciseKind.Keys);
        // The usual members first: most instances are found in the first few comparisons.
        public static readonly Utf8Names CoreMembers = new(new[] { "type", "value", "observedAt", "unitCode", "object", "datasetId" }.Concat(Attr.CoreMembers).Distinct());
    }

    /// <summary>A fixed set of names, each with its UTF-8 form, found by the name of a member.</summary>
    private sealed class Utf8Names(IEnumerable<string> names)
    {
        private readonly (string Name, byte[] Utf8)[] _names = [.. names.Select(n => (n, Encoding.UTF8.GetBytes(n)))];

        public string? Find(JsonProperty property)
        {
            foreach (var (name, utf8) in _names)
                if (property.NameEquals(utf8)) return name;
            return null;
        }
    }
}
