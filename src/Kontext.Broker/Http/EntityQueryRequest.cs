using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Http;

/// <summary>
/// The entity-selecting part of a query, read from the URL (GET) or from a Query body (POST .../query, clause 5.2.23):
/// one reader for the entity and the temporal APIs.
/// </summary>
internal static class EntityQueryRequest
{
    /// <summary>type, id, idPattern, q, scopeQ, georel/geometry/coordinates/geoproperty and attrs from the URL.</summary>
    public static (EntityQuery Query, List<string> Attrs) FromUrl(NgsiRequest request)
    {
        var q = request.Query;
        var query = EntityQuery.Parse(new EntityQueryParameters(
            Text(q["type"]), Text(q["id"]), Text(q["idPattern"]), Text(q["q"]), Text(q["scopeQ"]),
            Text(q["georel"]), Text(q["geometry"]), Text(q["coordinates"]), Text(q["geoproperty"])), request.Context);
        Contexts.DefaultVocabularyHint.CheckQueryTypes(request.Http, Text(q["type"]), request.Context);
        var attrs = QueryParameters.List(request, "attrs");
        if (query == EntityQuery.All && attrs.Count == 0 && !QueryParameters.Flag(request, "local"))
            throw NgsiException.BadRequestData("A query needs at least one of type, id, idPattern, attrs, q, scopeQ or a geo-query (or local=true to list every entity)");
        return (query, attrs);
    }

    /// <summary>entities, q, scopeQ, geoQ and attrs from a Query body.</summary>
    public static (EntityQuery Query, List<string> Attrs) FromBody(NgsiRequest request)
    {
        var body = request.Body!;
        if (body["type"] is { } t && !(t is JsonValue tv && tv.TryGetValue<string>(out var typeName) && typeName == "Query"))
            throw NgsiException.BadRequestData("The body of a query must be of type Query");
        var query = EntityQuery.Parse(EntityQueryParameters.FromBody(body), request.Context)
                    with { Selectors = EntitySelector.ParseList(body["entities"], request.Context) };
        var attrs = body["attrs"] switch
        {
            null => [],
            JsonArray a when a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("'attrs' must be an array of attribute names"),
        };
        return (query, attrs);
    }

    /// <summary>The attrs list as the store's "has at least one of these attributes" filter (null: no filter).</summary>
    public static IReadOnlySet<string>? AnyOf(NgsiRequest request, List<string> attrs) =>
        attrs.Count == 0 ? null : attrs.Select(a => Kontext.Ngsi.Model.EntityParser.ExpandAttributeName(a, request.Context)).ToHashSet(StringComparer.Ordinal);

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : string.Join(",", values.ToArray());
}
