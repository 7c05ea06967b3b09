using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Temporal;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// Reads and validates a context source registration (clauses 5.2.9, 5.9.2, 5.9.3). A body is first expanded with the
/// request's @context (<see cref="Expand"/>), then checked (<see cref="Read"/>); an update merges an expanded fragment into
/// the stored document (<see cref="Merge"/>) and checks the result again. Every problem is a 400 BadRequestData.
/// </summary>
public static class RegistrationParser
{
    public const string Type = "ContextSourceRegistration";
    private const string CoreGeoBase = "https://uri.etsi.org/ngsi-ld/";

    /// <summary>The members of clause 5.2.9 a client writes. Any other member is a Context Source Property (matched by csf).</summary>
    public static readonly IReadOnlySet<string> Members = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "type", "registrationName", "description", "information", "tenant", "observationInterval", "managementInterval",
        "location", "observationSpace", "operationSpace", "expiresAt", "endpoint", "contextSourceInfo", "scope", "mode",
        "operations", "refreshRate", "management", "contextSourceAlias",
    };

    /// <summary>Members the broker maintains (status of the distributed operations, system times): ignored on input.</summary>
    public static readonly IReadOnlySet<string> ReadOnlyMembers = new HashSet<string>(StringComparer.Ordinal)
    {
        "status", "timesSent", "timesFailed", "lastSuccess", "lastFailure", "createdAt", "modifiedAt",
    };

    private static readonly string[] GeoMembers = ["location", "observationSpace", "operationSpace"];

    /// <summary>A whole registration from a request body: expanded, given an id when it has none, and checked.</summary>
    public static Registration Parse(JsonObject input, JsonLdContext context, DateTimeOffset now)
    {
        var expanded = Expand(input, context);
        if (!expanded.ContainsKey("id")) expanded["id"] = "urn:ngsi-ld:ContextSourceRegistration:" + Guid.NewGuid().ToString("N");
        return Read(expanded, now, checkExpiry: true);
    }

    /// <summary>
    /// The body with its names expanded: entity types, propertyNames, relationshipNames and the names of Context Source
    /// Properties. Shapes are not judged here (a wrong shape is left as it is for <see cref="Read"/> to refuse), and null
    /// values stay, so that a fragment can remove members.
    /// </summary>
    public static JsonObject Expand(JsonObject input, JsonLdContext context)
    {
        var expanded = new JsonObject();
        foreach (var (member, value) in input)
        {
            if (member == "@context" || ReadOnlyMembers.Contains(member)) continue;
            if (member == "information")
            {
                expanded[member] = value is JsonArray list ? new JsonArray(list.Select(i => ExpandInformation(i, context)).ToArray()) : value?.DeepClone();
                continue;
            }
            if (Members.Contains(member))
            {
                expanded[member] = value?.DeepClone();
                continue;
            }
            var iri = EntityParser.ExpandAttributeName(member, context);
            if (expanded.ContainsKey(iri)) throw Bad($"the member '{member}' is given twice (two names expand to {iri})");
            expanded[iri] = value?.DeepClone();
        }
        return expanded;
    }

    private static JsonNode? ExpandInformation(JsonNode? item, JsonLdContext context)
    {
        if (item is not JsonObject info) return item?.DeepClone();
        var copy = (JsonObject)info.DeepClone();
        if (copy["entities"] is JsonArray entities)
        {
            foreach (var entity in entities.OfType<JsonObject>())
            {
                entity["type"] = entity["type"] switch
                {
                    JsonValue v when v.TryGetValue<string>(out var name) => ExpandType(name, context),
                    JsonArray names when names.All(n => n is JsonValue nv && nv.GetValueKind() == JsonValueKind.String) =>
                        new JsonArray(names.Select(n => (JsonNode)ExpandType(n!.GetValue<string>(), context)).ToArray()),
                    var other => other?.DeepClone(),
                };
            }
        }
        foreach (var names in new[] { "propertyNames", "relationshipNames" })
        {
            if (copy[names] is JsonArray list && list.All(n => n is JsonValue nv && nv.GetValueKind() == JsonValueKind.String))
                copy[names] = new JsonArray(list.Select(n => (JsonNode)EntityParser.ExpandAttributeName(n!.GetValue<string>(), context)).ToArray());
        }
        return copy;
    }

    private static JsonValue ExpandType(string name, JsonLdContext context)
    {
        Validate.Name(name, "entity type");
        return JsonValue.Create(context.ExpandTerm(name));
    }

    /// <summary>
    /// An update (clause 5.9.3): each member of the expanded fragment replaces the stored one; null or NGSI-LD Null removes
    /// it. The id cannot change. The result is checked again by the caller with <see cref="Read"/>.
    /// </summary>
    public static JsonObject Merge(JsonObject stored, JsonObject expandedFragment)
    {
        var merged = (JsonObject)stored.DeepClone();
        foreach (var (member, value) in expandedFragment)
        {
            if (member == "id")
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var id) && id == Text(stored, "id")) continue;
                throw Bad("the id of a registration cannot change");
            }
            if (value is null || Attr.IsNullMarker(value)) merged.Remove(member);
            else merged[member] = value.DeepClone();
        }
        return merged;
    }

    /// <summary>Checks an expanded registration document and reads it into the model.</summary>
    public static Registration Read(JsonObject document, DateTimeOffset now, bool checkExpiry)
    {
        foreach (var (member, value) in document)
        {
            if (value is null) throw Bad($"'{member}' cannot be null (leave the member out)");
        }
        if (Text(document, "type") != Type) throw Bad($"'type' must be \"{Type}\"");
        var id = Text(document, "id") ?? throw Bad("'id' is missing");
        if (!Validate.IsUri(id)) throw Bad($"the id '{id}' is not a URI");
        Text(document, "registrationName");
        Text(document, "description");

        var information = Information(document["information"]);
        var endpointText = Text(document, "endpoint") ?? throw Bad("'endpoint' is required");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            throw Bad($"'endpoint' '{endpointText}' must be an absolute http or https URI");

        var mode = Text(document, "mode") switch
        {
            null or "inclusive" => RegistrationMode.Inclusive,
            "exclusive" => RegistrationMode.Exclusive,
            "redirect" => RegistrationMode.Redirect,
            "auxiliary" => RegistrationMode.Auxiliary,
            var other => throw Bad($"'mode' '{other}' is not one of inclusive, exclusive, redirect, auxiliary"),
        };
        var operations = Operations(document["operations"]) ?? RegistrationOperations.Default(mode);
        CheckMode(mode, information, operations);

        var tenant = Text(document, "tenant");
        if (tenant is not null && !Validate.IsTenantName(tenant)) throw Bad($"'tenant' '{tenant}' is not a valid tenant name");

        DateTimeOffset? expiresAt = null;
        if (Text(document, "expiresAt") is { } expiresText)
        {
            if (!Validate.TryParseDateTime(expiresText, out var expires)) throw Bad($"'expiresAt' '{expiresText}' is not a UTC date-time");
            if (checkExpiry && expires <= now) throw Bad("'expiresAt' is in the past");
            expiresAt = expires;
        }

        var geometries = new Dictionary<string, Geometry>(StringComparer.Ordinal);
        foreach (var member in GeoMembers)
        {
            if (document[member] is not { } node) continue;
            GeoJson.Check(node, member);
            geometries[CoreGeoBase + member] = GeoJsonGeometry.Read(node);
        }

        List<string>? scopes = null;
        if (document["scope"] is { } scope)
        {
            try { scopes = EntityParser.ParseScopes(scope); }
            catch (NgsiException e) { throw Bad(e.Error.Detail); }
        }

        var alias = Text(document, "contextSourceAlias");
        foreach (var (member, _) in document)
        {
            if (!Members.Contains(member) && !Validate.IsUri(member)) throw Bad($"'{member}' is not a member of a registration");
        }

        return new Registration(id, information, endpoint, mode, operations, tenant,
            Interval(document, "observationInterval"), Interval(document, "managementInterval"), geometries, expiresAt,
            ContextSourceInfo(document["contextSourceInfo"]), scopes, Management(document["management"], document[CoreGeoBase + "localOnly"]),
            Duration(document, "refreshRate"), alias, document);
    }

    private static List<RegistrationInfo> Information(JsonNode? node)
    {
        if (node is null) throw Bad("'information' is required");
        if (node is not JsonArray list || list.Count == 0) throw Bad("'information' must be a non-empty array of RegistrationInfo");
        var result = new List<RegistrationInfo>(list.Count);
        foreach (var item in list)
        {
            if (item is not JsonObject info) throw Bad("each 'information' entry must be an object");
            foreach (var (member, _) in info)
                if (member is not ("entities" or "propertyNames" or "relationshipNames")) throw Bad($"'{member}' is not a member of RegistrationInfo");
            List<EntityInfo>? entities = null;
            if (info["entities"] is { } entitiesNode)
            {
                if (entitiesNode is not JsonArray entityList || entityList.Count == 0) throw Bad("'entities' must be a non-empty array of EntityInfo");
                entities = entityList.Select(EntityInfoOf).ToList();
            }
            var properties = Names(info, "propertyNames");
            var relationships = Names(info, "relationshipNames");
            if (entities is null && properties is null && relationships is null)
                throw Bad("each 'information' entry needs 'entities', 'propertyNames' or 'relationshipNames'");
            result.Add(new RegistrationInfo(entities, properties, relationships));
        }
        return result;
    }

    private static EntityInfo EntityInfoOf(JsonNode? node)
    {
        if (node is not JsonObject entity) throw Bad("each 'entities' entry must be an object");
        foreach (var (member, _) in entity)
            if (member is not ("id" or "idPattern" or "type")) throw Bad($"'{member}' is not a member of EntityInfo");
        var types = entity["type"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var type) => [type],
            JsonArray list when list.Count > 0 && list.All(t => t is JsonValue tv && tv.GetValueKind() == JsonValueKind.String) =>
                list.Select(t => t!.GetValue<string>()).ToList(),
            null => throw Bad("each EntityInfo needs a 'type'"),
            _ => throw Bad("EntityInfo 'type' must be a string or a non-empty array of strings"),
        };
        var id = Text(entity, "id");
        if (id is not null && !Validate.IsUri(id)) throw Bad($"EntityInfo id '{id}' is not a URI");
        var pattern = Text(entity, "idPattern");
        if (pattern is not null && !SafeRegex.TryGet(pattern, out _, out var problem)) throw Bad($"EntityInfo idPattern: {problem}");
        return new EntityInfo(types, id, pattern);
    }

    private static HashSet<string>? Names(JsonObject info, string member)
    {
        if (info[member] is not { } node) return null;
        if (node is not JsonArray list || list.Count == 0 || list.Any(n => n is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw Bad($"'{member}' must be a non-empty array of attribute names");
        return list.Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
    }

    private static List<string>? Operations(JsonNode? node)
    {
        if (node is null) return null;
        if (node is not JsonArray list || list.Count == 0 || list.Any(n => n is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw Bad("'operations' must be a non-empty array of operation names");
        var names = list.Select(n => n!.GetValue<string>()).Distinct(StringComparer.Ordinal).ToList();
        foreach (var name in names)
            if (!RegistrationOperations.IsKnown(name)) throw Bad($"'{name}' is not an NGSI-LD operation or operation group");
        return names;
    }

    /// <summary>
    /// The structural rules of the proxied and auxiliary modes: an exclusive registration names single entities by id
    /// and their attributes (clause 4.3.6.3); an auxiliary one only offers retrieval (clause 5.9.2).
    /// </summary>
    private static void CheckMode(RegistrationMode mode, IReadOnlyList<RegistrationInfo> information, IReadOnlyList<string> operations)
    {
        if (mode == RegistrationMode.Exclusive)
        {
            foreach (var info in information)
            {
                if (info.Entities is null || info.Entities.Any(e => e.Id is null || e.IdPattern is not null))
                    throw Bad("an exclusive registration must name each entity by its id (no type-only group, no idPattern)");
                if (info.Attributes is null) throw Bad("an exclusive registration must name the attributes it provides (propertyNames or relationshipNames)");
            }
        }
        if (mode == RegistrationMode.Auxiliary && operations.Any(o => !RegistrationOperations.AuxiliaryAllowed.Contains(o)))
            throw Bad("an auxiliary registration can only offer retrieveOps, retrieveEntity or queryEntity");
    }

    private static TimeInterval? Interval(JsonObject document, string member)
    {
        if (document[member] is not { } node) return null;
        if (node is not JsonObject interval) throw Bad($"'{member}' must be an object with startAt and endAt");
        foreach (var (key, _) in interval)
            if (key is not ("startAt" or "endAt")) throw Bad($"'{member}': '{key}' is not a member of a TimeInterval");
        var start = Time(interval, "startAt", member) ?? throw Bad($"'{member}' needs 'startAt'");
        var end = Time(interval, "endAt", member);
        if (end is { } e && e < start) throw Bad($"'{member}': endAt is before startAt");
        return new TimeInterval(start, end);
    }

    private static DateTimeOffset? Time(JsonObject interval, string key, string member)
    {
        if (interval[key] is null) return null;
        var text = interval[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Bad($"'{member}.{key}' must be a date-time string");
        return Validate.TryParseDateTime(text, out var time) ? time : throw Bad($"'{member}.{key}' '{text}' is not a UTC date-time");
    }

    /// <summary>contextSourceInfo: an array of KeyValuePair (clause 5.2.22), both members strings.</summary>
    private static List<KeyValuePair<string, string>> ContextSourceInfo(JsonNode? node)
    {
        if (node is null) return [];
        if (node is not JsonArray list) throw Bad("'contextSourceInfo' must be an array of {key, value}");
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var item in list)
        {
            if (item is not JsonObject pair || pair.Count != 2
                || pair["key"] is not JsonValue k || !k.TryGetValue<string>(out var key) || key.Length == 0
                || pair["value"] is not JsonValue v || !v.TryGetValue<string>(out var value))
                throw Bad("each 'contextSourceInfo' entry must be {\"key\": string, \"value\": string}");
            if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c == ':') || value.Any(char.IsControl))
                throw Bad($"contextSourceInfo '{key}' cannot be sent as an HTTP header");
            pairs.Add(new(key, value));
        }
        return pairs;
    }

    /// <summary>
    /// management (clause 5.2.34). A boolean localOnly at the top level, where some clients put it, is read as
    /// management.localOnly when management does not say (it stays a Context Source Property as well).
    /// </summary>
    private static RegistrationManagement Management(JsonNode? node, JsonNode? topLevelLocalOnly)
    {
        bool? legacy = topLevelLocalOnly is JsonValue t && t.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? t.GetValue<bool>() : null;
        if (node is null) return legacy is null ? RegistrationManagement.None : RegistrationManagement.None with { LocalOnly = legacy };
        if (node is not JsonObject management) throw Bad("'management' must be an object (RegistrationManagementInfo)");
        bool? localOnly = management["localOnly"] switch
        {
            null => legacy,
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
            _ => throw Bad("'management.localOnly' must be true or false"),
        };
        return new RegistrationManagement(localOnly, Duration(management, "cacheDuration"),
            PositiveNumber(management, "timeout"), PositiveNumber(management, "cooldown"));
    }

    private static double? PositiveNumber(JsonObject body, string member)
    {
        if (body[member] is null) return null;
        if (!JsonNumbers.TryGetDouble(body[member], out var value) || !double.IsFinite(value) || value <= 0)
            throw Bad($"'{member}' must be a number greater than 0 (milliseconds)");
        return value;
    }

    private static IsoDuration? Duration(JsonObject body, string member)
    {
        if (Text(body, member) is not { } text) return null;
        try { return IsoDuration.Parse(text); }
        catch (NgsiException) { throw Bad($"'{member}' '{text}' is not an ISO 8601 duration (e.g. PT10M)"); }
    }

    private static string? Text(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Bad($"'{member}' must be a string"),
    };

    private static NgsiException Bad(string reason) => NgsiException.BadRequestData("Invalid context source registration: " + reason);
}
