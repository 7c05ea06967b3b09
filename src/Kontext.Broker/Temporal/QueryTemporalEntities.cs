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
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        await RespondAsync(request, query, attrs, TemporalParameters.FromUrl(request, attrs));
    }

    public static async Task PostAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var (query, attrs) = EntityQueryRequest.FromBody(request);
        var body = request.Body!;
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
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var result = await store.QueryAsync(new EntityPageRequest(query, page.Offset, page.Limit, page.Count, anyOf), request.Http.RequestAborted);
        var http = request.Http;
        if (result.TotalCount is { } total) http.Response.Headers["NGSILD-Results-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(http, result.Entities.Count, result.TotalCount);
        await TemporalResponse.WriteAsync(request, temporal, result.Entities.Select(e => new TemporalHead(e, null)).ToList(), parameters, single: false);
    }
}
