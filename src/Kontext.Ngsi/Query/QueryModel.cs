using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// The raw query-string values of an entity query, exactly as the HTTP layer (or a subscription) received them;
/// null for absent parameters. <paramref name="ExpandValues"/> lists the attributes whose q values are expanded as
/// terms (clause 4.9); null expands every value (subscriptions, which have no such list).
/// </summary>
public sealed record EntityQueryParameters(
    string? Type = null,
    string? Id = null,
    string? IdPattern = null,
    string? Q = null,
    string? ScopeQ = null,
    string? GeoRel = null,
    string? Geometry = null,
    string? Coordinates = null,
    string? GeoProperty = null,
    string? ExpandValues = null)
{
    /// <summary>The type selector that matches every entity type (Table 6.4.3.2-1).</summary>
    public const string AnyType = "*";

    /// <summary>q, scopeQ and geoQ as they appear in a Query or Subscription body (coordinates as JSON or as text).</summary>
    public static EntityQueryParameters FromBody(System.Text.Json.Nodes.JsonObject body)
    {
        var geoQ = body["geoQ"];
        if (geoQ is not null and not System.Text.Json.Nodes.JsonObject) throw NgsiException.BadRequestData("'geoQ' must be an object");
        var geo = geoQ as System.Text.Json.Nodes.JsonObject;
        return new EntityQueryParameters(
            Q: BodyText(body, "q"), ScopeQ: BodyText(body, "scopeQ"),
            GeoRel: geo is null ? null : BodyText(geo, "georel") ?? "",
            Geometry: geo is null ? null : BodyText(geo, "geometry") ?? "",
            Coordinates: geo?["coordinates"] switch
            {
                null => geo is null ? null : "",
                System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
                var c => c.ToJsonString(),
            },
            GeoProperty: geo is null ? null : BodyText(geo, "geoproperty"));
    }

    private static string? BodyText(System.Text.Json.Nodes.JsonObject body, string member) => body[member] switch
    {
        null => null,
        System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw NgsiException.BadRequestData($"'{member}' must be a string"),
    };
}

/// <summary>
/// One immutable entity query (D3): every part is optional and all given parts must hold. Types, attribute names
/// and vocab terms are already expanded, so the query means the same whatever context later code runs under.
/// </summary>
public sealed record EntityQuery(
    TypeExpr? Type = null,
    EquatableArray<string>? Ids = null,
    string? IdPattern = null,
    QExpr? Q = null,
    ScopeExpr? ScopeQ = null,
    GeoQuery? Geo = null,
    EquatableArray<EntitySelector>? Selectors = null)
{
    /// <summary>A query that every entity matches.</summary>
    public static EntityQuery All { get; } = new();

    /// <summary>Parses and validates the raw parameters; any problem is a BadRequestData.</summary>
    public static EntityQuery Parse(EntityQueryParameters raw, JsonLdContext context)
    {
        var type = Present(raw.Type) is { } t && t.Trim() != EntityQueryParameters.AnyType ? SelectorExpressions.ParseType(t, context) : null;
        var ids = Present(raw.Id) is { } i ? ParseIds(i) : null;
        string? idPattern = null;
        if (Present(raw.IdPattern) is { } pattern)
        {
            if (!SafeRegex.TryGet(pattern, out _, out var problem))
                throw NgsiException.BadRequestData($"idPattern: invalid regular expression: {problem}");
            idPattern = pattern;
        }
        var expandValues = raw.ExpandValues?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => EntityParser.ExpandAttributeName(name, context)).ToHashSet(StringComparer.Ordinal);
        var q = Present(raw.Q) is { } qText ? QLanguage.Parse(qText, context, expandValues) : null;
        var scopeQ = Present(raw.ScopeQ) is { } s ? SelectorExpressions.ParseScope(s) : null;
        GeoQuery? geo = null;
        if (raw.GeoRel is not null || raw.Geometry is not null || raw.Coordinates is not null)
            geo = GeoQuery.Parse(raw.GeoRel, raw.Geometry, raw.Coordinates, raw.GeoProperty, context);
        return new EntityQuery(type, ids, idPattern, q, scopeQ, geo);
    }

    private static string? Present(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static EquatableArray<string> ParseIds(string text)
    {
        var ids = text.Split(',', StringSplitOptions.TrimEntries);
        foreach (var id in ids) Validate.EntityId(id, "id in 'id'");
        return new(ids.Distinct(StringComparer.Ordinal));
    }
}

/// <summary>
/// One entry of the "entities" member of a Query or Subscription (clause 5.2.33): all given parts must hold.
/// An entity query with several selectors matches an entity that any selector matches. id (one or several) takes
/// precedence over idPattern, so a selector never holds both.
/// </summary>
public sealed record EntitySelector(TypeExpr? Type, EquatableArray<string>? Ids, string? IdPattern)
{
    public bool Matches(Entity entity) =>
        (Type is null || SelectorExpressions.Matches(Type, entity.Types))
        && (Ids is null || Ids.Contains(entity.Id))
        && (IdPattern is null || SafeRegex.IsMatch(IdPattern, entity.Id));

    /// <summary>
    /// The "entities" member: null when absent, else a non-empty array of selectors. A Query needs the type of every
    /// selector (Table 5.2.33-1: mandatory); subscriptions have long been accepted without one, so they pass false.
    /// </summary>
    public static EquatableArray<EntitySelector>? ParseList(System.Text.Json.Nodes.JsonNode? entities, JsonLdContext context, bool typeRequired = false)
    {
        if (entities is null) return null;
        if (entities is not System.Text.Json.Nodes.JsonArray list || list.Count == 0 || list.Any(e => e is not System.Text.Json.Nodes.JsonObject))
            throw NgsiException.BadRequestData("'entities' must be a non-empty array of {type, id, idPattern} objects");
        return new(list.Select(e => Parse(e!.AsObject(), context, typeRequired)));
    }

    /// <summary>Parses one selector object: { "type": "T", "id": "urn:..." or ["urn:...", …], "idPattern": "..." }.</summary>
    public static EntitySelector Parse(System.Text.Json.Nodes.JsonObject selector, JsonLdContext context, bool typeRequired = false)
    {
        static string? Text(System.Text.Json.Nodes.JsonNode? node, string member) => node switch
        {
            null => null,
            System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => throw NgsiException.BadRequestData($"entities: '{member}' must be a string"),
        };
        var type = Text(selector["type"], "type");
        var ids = selector["id"] switch
        {
            null => null,
            System.Text.Json.Nodes.JsonArray a when a.Count > 0 && a.All(x => x is System.Text.Json.Nodes.JsonValue xv && xv.TryGetValue<string>(out _)) =>
                a.Select(x => x!.GetValue<string>()).ToArray(),
            var single => [Text(single, "id")!],
        };
        var pattern = Text(selector["idPattern"], "idPattern");
        foreach (var id in ids ?? []) Validate.EntityId(id, "id in 'entities'");
        if (pattern is not null && !SafeRegex.TryGet(pattern, out _, out var problem))
            throw NgsiException.BadRequestData($"entities: invalid idPattern: {problem}");
        if (typeRequired && type is null)
            throw NgsiException.BadRequestData("entities: each entry needs a type (Table 5.2.33-1)");
        if (type is null && ids is null && pattern is null)
            throw NgsiException.BadRequestData("entities: each entry needs a type, an id or an idPattern");
        var typeExpr = type is null || type.Trim() == EntityQueryParameters.AnyType ? null : SelectorExpressions.ParseType(type, context);
        return new EntitySelector(typeExpr, ids is null ? null : new(ids.Distinct(StringComparer.Ordinal)), ids is null ? pattern : null);
    }
}
