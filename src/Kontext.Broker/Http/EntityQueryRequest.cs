using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Http;

/// <summary>
/// The entity-selecting part of a query, read from the URL (GET, DELETE) or from a Query body (POST .../query, clause
/// 5.2.23): one reader for the entity and the temporal APIs, and for Purge Entities.
/// </summary>
internal static class EntityQueryRequest
{
    /// <summary>type, id, idPattern, q, scopeQ, georel/geometry/coordinates/geoproperty, expandValues and attrs from the URL.</summary>
    public static (EntityQuery Query, List<string> Attrs) FromUrl(NgsiRequest request)
    {
        var q = request.Query;
        var type = Text(q["type"]);
        var query = EntityQuery.Parse(new EntityQueryParameters(
            type, Text(q["id"]), Text(q["idPattern"]), Text(q["q"]), Text(q["scopeQ"]),
            Text(q["georel"]), Text(q["geometry"]), Text(q["coordinates"]), Text(q["geoproperty"]),
            ExpandValues: Text(q["expandValues"]) ?? ""), request.Context);
        Contexts.DefaultVocabularyHint.CheckQueryTypes(request.Http, type, request.Context);
        var attrs = QueryParameters.List(request, "attrs");
        var anyType = type?.Trim() == EntityQueryParameters.AnyType;
        // Table 6.4.3.2-1: type=* implies local=true, which must then not be set to false.
        if (anyType && q["local"].ToString() == "false")
            throw NgsiException.BadRequestData("type=* implies local=true; it cannot be combined with local=false");
        CheckNotTooWide(request, query with { Type = anyType ? new TypeIs("*") : query.Type }, attrs,
            local: anyType || QueryParameters.Flag(request, "local"));
        return (query, attrs);
    }

    /// <summary>entities, q, scopeQ, geoQ, expandValues and attrs from a Query body.</summary>
    public static (EntityQuery Query, List<string> Attrs) FromBody(NgsiRequest request)
    {
        var body = request.Body!;
        if (body["type"] is { } t && !(t is JsonValue tv && tv.TryGetValue<string>(out var typeName) && typeName == "Query"))
            throw NgsiException.BadRequestData("The body of a query must be of type Query");
        var parameters = EntityQueryParameters.FromBody(body) with { ExpandValues = BodyNames(body, "expandValues") ?? "" };
        var query = EntityQuery.Parse(parameters, request.Context)
                    with { Selectors = EntitySelector.ParseList(body["entities"], request.Context, typeRequired: true) };
        var attrs = body["attrs"] switch
        {
            null => [],
            JsonArray a when a.Count > 0 && a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("'attrs' must be a non-empty array of attribute names"),
        };
        return (query, attrs);
    }

    /// <summary>The attrs list as the store's "has at least one of these attributes" filter (null: no filter).</summary>
    public static IReadOnlySet<string>? AnyOf(NgsiRequest request, List<string> attrs) =>
        attrs.Count == 0 ? null : attrs.Select(a => EntityParser.ExpandAttributeName(a, request.Context)).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// A query must narrow the entities down (clauses 5.7.2.4, 5.6.21.4): by entity type, by attrs or q naming at least
    /// one attribute that is not a system one, by a geo-query, or be limited to the local scope. Entity ids and scopes
    /// alone do not qualify. Otherwise: BadRequestData (too wide).
    /// </summary>
    private static void CheckNotTooWide(NgsiRequest request, EntityQuery query, List<string> attrs, bool local)
    {
        if (local || query.Type is not null || query.Geo is not null) return;
        if (attrs.Any(a => !IsSystemName(request, a))) return;
        if (query.Q is { } q && AttributesOf(q).Any(a => !SystemAttributes(request).Contains(a))) return;
        throw NgsiException.BadRequestData(
            "The query is too wide: it needs type, attrs or q naming a non-system attribute, a geo-query, or local=true");
    }

    private static readonly string[] SystemNames = ["id", "type", "scope", "createdAt", "modifiedAt", "deletedAt", "observedAt", "expiresAt"];

    private static bool IsSystemName(NgsiRequest request, string name) =>
        SystemNames.Contains(name) || SystemAttributes(request).Contains(request.Context.ExpandTerm(name));

    private static HashSet<string> SystemAttributes(NgsiRequest request) =>
        SystemNames.Select(request.Context.ExpandTerm).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<string> AttributesOf(QExpr expr) => expr switch
    {
        QAnd and => and.Operands.SelectMany(AttributesOf),
        QOr or => or.Operands.SelectMany(AttributesOf),
        QExists exists => [exists.Path.Attribute],
        QComparison comparison => [comparison.Path.Attribute],
        _ => [],
    };

    /// <summary>A list of names in a body: an array of strings or one comma-separated string.</summary>
    private static string? BodyNames(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray a when a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String) => string.Join(",", a.Select(x => x!.GetValue<string>())),
        _ => throw NgsiException.BadRequestData($"'{member}' must be an array of attribute names"),
    };

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : string.Join(",", values.ToArray());
}
