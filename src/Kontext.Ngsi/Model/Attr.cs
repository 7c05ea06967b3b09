using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>The NGSI-LD attribute vocabulary: attribute types, their payload members, reserved member names.</summary>
public static class Attr
{
    public const string Property = "Property";
    public const string Relationship = "Relationship";
    public const string GeoProperty = "GeoProperty";
    public const string LanguageProperty = "LanguageProperty";
    public const string VocabProperty = "VocabProperty";
    public const string JsonProperty = "JsonProperty";
    public const string ListProperty = "ListProperty";
    public const string ListRelationship = "ListRelationship";

    public const string NullMarker = "urn:ngsi-ld:null";

    /// <summary>Attribute type → the member that carries its payload.</summary>
    public static readonly IReadOnlyDictionary<string, string> PayloadMember = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Property] = "value",
        [GeoProperty] = "value",
        [Relationship] = "object",
        [LanguageProperty] = "languageMap",
        [VocabProperty] = "vocab",
        [JsonProperty] = "json",
        [ListProperty] = "valueList",
        [ListRelationship] = "objectList",
    };

    /// <summary>Payload member → the attribute type a concise representation implies.</summary>
    public static readonly IReadOnlyDictionary<string, string> ConciseKind = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["value"] = Property,
        ["object"] = Relationship,
        ["languageMap"] = LanguageProperty,
        ["vocab"] = VocabProperty,
        ["json"] = JsonProperty,
        ["valueList"] = ListProperty,
        ["objectList"] = ListRelationship,
    };

    /// <summary>Members of an attribute instance that are not sub-attributes.</summary>
    public static readonly HashSet<string> CoreMembers = new(StringComparer.Ordinal)
    {
        "type", "value", "object", "languageMap", "vocab", "json", "valueList", "objectList",
        "observedAt", "unitCode", "datasetId", "objectType", "createdAt", "modifiedAt", "deletedAt", "instanceId", "lang", "valueType",
        "previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousJson", "previousValueList", "previousObjectList",
        "expiresAt", "entityIdSealed", "entityTypeSealed",
    };

    /// <summary>
    /// Core terms that describe an attribute instance rather than being one (clause 4.5.1: "datasetId, instanceId, etc."):
    /// they cannot name an attribute. The payload members (value, object, vocab, ...) are left to users, as names of
    /// that kind appear in the suite's own data.
    /// </summary>
    public static readonly HashSet<string> ReservedAttributeNames = new(StringComparer.Ordinal)
    {
        "observedAt", "unitCode", "datasetId", "instanceId", "objectType", "createdAt", "modifiedAt", "deletedAt", "expiresAt", "lang", "valueType",
        "previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousJson", "previousValueList", "previousObjectList",
        "entityIdSealed", "entityTypeSealed",
    };

    /// <summary>Members only the broker writes (notifications, temporal representations): a client never sends them (clause 4.5.2.2).</summary>
    public static readonly HashSet<string> OutputOnlyMembers = new(StringComparer.Ordinal)
    {
        "previousValue", "previousObject", "previousLanguageMap", "previousVocab", "previousJson", "previousValueList", "previousObjectList",
    };

    /// <summary>The proof Property of clause 4.5.2.2 (annex C.11): the only attribute that carries the sealed members.</summary>
    public const string ProofProperty = "https://uri.etsi.org/ngsi-ld/ngsildproof";

    /// <summary>Non-reified members that only the proof Property carries.</summary>
    public static readonly HashSet<string> SealedMembers = new(StringComparer.Ordinal) { "entityIdSealed", "entityTypeSealed" };

    /// <summary>The attribute types on which unitCode shall never be present (clauses 4.5.3.2, 4.5.22.2, 4.5.24.2).</summary>
    public static readonly HashSet<string> Unitless = new(StringComparer.Ordinal) { Relationship, ListRelationship, JsonProperty };

    /// <summary>Members the broker maintains; ignored when a client sends them.</summary>
    public static readonly HashSet<string> SystemMembers = new(StringComparer.Ordinal) { "createdAt", "modifiedAt", "deletedAt", "instanceId" };

    /// <summary>Entity members that are not attributes.</summary>
    public static readonly HashSet<string> EntityMembers = new(StringComparer.Ordinal)
    {
        "id", "@id", "type", "@type", "scope", "@context", "createdAt", "modifiedAt", "deletedAt", "expiresAt",
    };

    /// <summary>Attributes the core context defines as GeoProperties.</summary>
    public static readonly HashSet<string> CoreGeoProperties = new(StringComparer.Ordinal)
    {
        "https://uri.etsi.org/ngsi-ld/location", "https://uri.etsi.org/ngsi-ld/observationSpace", "https://uri.etsi.org/ngsi-ld/operationSpace",
    };

    public static string Type(JsonObject instance) => instance["type"] switch
    {
        null => Property,
        // A type still over the request's JSON is matched there: reading it as a string copies it out, and a write reads
        // an instance's type a dozen times (payload, checks, index rows, encode).
        JsonValue v when v.TryGetValue<JsonElement>(out var element) && KnownType(element) is { } known => known,
        var type => type.GetValue<string>(),
    };

    /// <summary>The attribute types (<see cref="PayloadMember"/>'s keys, Property first) with their UTF-8, to match a type where it stands in JSON.</summary>
    private static readonly (string Type, byte[] Utf8)[] AttributeTypesUtf8 = [.. PayloadMember.Keys.Select(type => (type, Encoding.UTF8.GetBytes(type)))];

    /// <summary>The attribute type a JSON string names, as <see cref="PayloadMember"/>'s own string; null for anything else.</summary>
    public static string? KnownType(JsonElement element) => KnownType(new ParsedJson(element));

    /// <summary>The same of a JSON value read where it stands (a request's element, a stored document's bytes).</summary>
    internal static string? KnownType<TJson>(TJson value) where TJson : struct, IJsonView<TJson>
    {
        if (value.Kind != JsonValueKind.String) return null;
        foreach (var (type, utf8) in AttributeTypesUtf8)
            if (value.ValueEquals(utf8)) return type;
        return null;
    }

    public static string? DatasetId(JsonObject instance) =>
        instance["datasetId"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static bool IsSubAttribute(string member) => !CoreMembers.Contains(member);

    public static JsonNode? Payload(JsonObject instance) => instance[PayloadMember.GetValueOrDefault(Type(instance), "value")];

    public static bool IsNullMarker(JsonNode? node) =>
        node is null || node is JsonValue v && (v.TryGetValue<JsonElement>(out var e)
            // A value still over the request's JSON is compared there: reading it as a string would copy it out each time.
            ? IsNullMarker(e)
            : v.TryGetValue<string>(out var s) && s == NullMarker);

    /// <summary>JSON null or the NGSI-LD Null string, in the request's JSON (a missing value counts as null).</summary>
    public static bool IsNullMarker(JsonElement element) =>
        element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined
        || element.ValueKind == JsonValueKind.String && element.ValueEquals(NullMarker);

    /// <summary>
    /// The payload that represents a deleted attribute of the given type in notifications (clause 5.2.1): the NGSI-LD
    /// Null URI as value, object, vocab or json, {"@none": NGSI-LD Null} as languageMap, a one-item list for the list types.
    /// </summary>
    public static JsonNode NullPayload(string type) => type switch
    {
        LanguageProperty => new JsonObject { ["@none"] = NullMarker },
        ListProperty => new JsonArray(NullMarker),
        ListRelationship => new JsonArray(new JsonObject { ["object"] = NullMarker }),
        _ => JsonValue.Create(NullMarker),
    };

    /// <summary>The LanguageProperty form of NGSI-LD Null: { "@none": "urn:ngsi-ld:null" }.</summary>
    /// <summary>True when NGSI-LD Null sits inside a JSON object of the value, at any depth (clause 5.5.4: only a merge may carry it there).</summary>
    public static bool HasNestedNull(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => p.Value is JsonValue v && v.TryGetValue<string>(out var s) && s == NullMarker || HasNestedNull(p.Value)),
        JsonArray a => a.Any(e => e is JsonObject or JsonArray && HasNestedNull(e)),
        _ => false,
    };

    /// <summary><see cref="HasNestedNull(JsonNode?)"/> of the node over <paramref name="element"/>, read from the element (no node is built).</summary>
    public static bool HasNestedNull(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    var value = member.Value;
                    if (value.ValueKind == JsonValueKind.String ? value.ValueEquals(NullMarker) : HasNestedNull(value)) return true;
                }
                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (HasNestedNull(item)) return true; // a string item is no nested null (only an object's member is)
                return false;
            default:
                return false;
        }
    }

    public static bool IsNullLanguageMap(JsonNode? node) =>
        node is JsonObject map && map.Count == 1 && map.TryGetPropertyValue("@none", out var none) && IsNullMarker(none);
}
