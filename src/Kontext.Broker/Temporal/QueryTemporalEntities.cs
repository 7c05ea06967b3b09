using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Query Temporal Evolution of Entities: GET /temporal/entities (clauses 5.7.4, 6.18.3.2) and
/// POST /temporal/entityOperations/query (6.24.3.1). Entities are selected by their current state with the one
/// evaluator (type, id, idPattern, q, geoQ, scopeQ, attrs), paged by limit/offset/count as entity queries are; then the
/// instances of the whole page are read in one store call within the temporal window.
/// </summary>
internal static class QueryTemporalEntities
{
    public static async Task GetAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadAsync(http);
        var q = request.Query;
        var query = EntityQuery.Parse(new EntityQueryParameters(
            Text(q["type"]), Text(q["id"]), Text(q["idPattern"]), Text(q["q"]), Text(q["scopeQ"]),
            Text(q["georel"]), Text(q["geometry"]), Text(q["coordinates"]), Text(q["geoproperty"])), request.Context);
        var attrs = QueryParameters.List(request, "attrs");
        if (query == EntityQuery.All && attrs.Count == 0 && !QueryParameters.Flag(request, "local"))
            throw NgsiException.BadRequestData("A temporal query needs at least one of type, id, idPattern, attrs, q, scopeQ or a geo-query (or local=true)");
        await RespondAsync(request, query, attrs, TemporalParameters.FromUrl(request, attrs));
    }

    public static async Task PostAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var body = request.Body!;
        if (body["type"] is { } t && !(t is JsonValue tv && tv.TryGetValue<string>(out var typeName) && typeName == "Query"))
            throw NgsiException.BadRequestData("The body of a query must be of type Query");
        EquatableArray<EntitySelector>? selectors = null;
        if (body["entities"] is { } entities)
        {
            if (entities is not JsonArray list || list.Count == 0 || list.Any(e => e is not JsonObject))
                throw NgsiException.BadRequestData("'entities' must be a non-empty array of {type, id, idPattern} objects");
            selectors = new(list.Select(e => EntitySelector.Parse(e!.AsObject(), request.Context)));
        }
        var geoQ = body["geoQ"] as JsonObject;
        if (body["geoQ"] is not null && geoQ is null) throw NgsiException.BadRequestData("'geoQ' must be an object");
        var query = EntityQuery.Parse(new EntityQueryParameters(
            Q: String(body, "q"), ScopeQ: String(body, "scopeQ"),
            GeoRel: geoQ is null ? null : String(geoQ, "georel"),
            Geometry: geoQ is null ? null : String(geoQ, "geometry"),
            Coordinates: geoQ?["coordinates"] switch { null => null, JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(), var c => c.ToJsonString() },
            GeoProperty: geoQ is null ? null : String(geoQ, "geoproperty")), request.Context) with { Selectors = selectors };
        var attrs = body["attrs"] switch
        {
            null => [],
            JsonArray a when a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("'attrs' must be an array of attribute names"),
        };
        var temporalQ = body["temporalQ"] switch
        {
            null => null,
            JsonObject o => o,
            _ => throw NgsiException.BadRequestData("'temporalQ' must be an object"),
        };
        await RespondAsync(request, query, attrs, TemporalParameters.FromBody(request, temporalQ, attrs));
    }

    private static async Task RespondAsync(NgsiRequest request, EntityQuery query, List<string> attrs, TemporalParameters parameters)
    {
        var page = Pagination.Read(request);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var anyOf = attrs.Count == 0 ? null : attrs.Select(a => EntityParser.ExpandAttributeName(a, request.Context)).ToHashSet(StringComparer.Ordinal);
        var result = await store.QueryAsync(new EntityPageRequest(query, page.Offset, page.Limit, page.Count, anyOf), request.Http.RequestAborted);
        var http = request.Http;
        if (result.TotalCount is { } total) http.Response.Headers["NGSILD-Results-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(http, result.Entities.Count, result.TotalCount);
        await TemporalResponse.WriteAsync(request, temporal, result.Entities.Select(e => new TemporalHead(e, null)).ToList(), parameters, single: false);
    }

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : string.Join(",", values.ToArray());

    private static string? String(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw NgsiException.BadRequestData($"'{member}' must be a string"),
    };
}
