using System.Text.Json;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Broker.Temporal;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.EntityMaps;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.EntityMaps;

/// <summary>
/// Create EntityMap for Query Entities, GET /entityMaps (clauses 5.14.4, 6.34.3.1), and for Query Temporal Evolution of
/// Entities, GET /temporal/entityMaps (5.14.5, 6.35.3.1): the query runs (forwarded like Query Entities), its matches
/// become a new map (local ones under "@none"), answered 201 with the map and its URI in NGSILD-EntityMap.
/// </summary>
internal static class CreateEntityMap
{
    public static async Task ForQueryAsync(NgsiRequest request, EntityMapStore maps, EntityForwarding forwarding)
    {
        var http = request.Http;
        var (query, attrs) = EntityQueryRequest.FromUrl(request); // too wide a query is BadRequestData here (5.14.4.4)
        var end = LifetimeEnd(request, maps);
        var store = await request.TenantStoreAsync(forWrite: false);
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var plan = await forwarding.PlanAsync(request, store, new ForwardingRequest(RegistrationOperations.QueryEntity,
            new EntitySpec(query.Type, query.Ids?.ToList(), query.IdPattern), anyOf));
        var warnings = new ForwardingWarnings();
        var candidates = await forwarding.CandidatesAsync(request, plan, store, new EntityPageRequest(query, 0, 0, false, anyOf), maps.Options.MaxEntities, warnings);
        warnings.WriteTo(http.Response);
        await WriteAsync(request, maps.Create(request.Tenant, candidates.Entries(), temporal: false, end));
    }

    public static async Task ForTemporalQueryAsync(NgsiRequest request, EntityMapStore maps)
    {
        var http = request.Http;
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        var parameters = TemporalParameters.FromUrl(request, attrs);
        if (parameters.Query.TimeRel is null) throw NgsiException.BadRequestData("A temporal Entity map needs a temporal query: timerel and timeAt (clause 5.14.5.4)");
        var end = LifetimeEnd(request, maps);
        var ids = await TemporalMatchesAsync(request, query, attrs, parameters, maps.Options.MaxEntities);
        await WriteAsync(request, maps.Create(request.Tenant, ids.Select(id => new EntityMapEntry(id, [EntityMap.Local])).ToList(), temporal: true, end));
    }

    /// <summary>The ids of every entity a temporal query matches, up to <paramref name="max"/> (beyond: TooManyResults).</summary>
    public static async Task<IReadOnlyList<string>> TemporalMatchesAsync(NgsiRequest request, EntityQuery query, List<string> attrs, TemporalParameters parameters, int max)
    {
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var (heads, _) = await TemporalSelection.SelectAsync(store, temporal,
            new TemporalSelection.Request(query, EntityQueryRequest.AnyOf(request, attrs), parameters, 0, max + 1, false, null), request.Http.RequestAborted);
        if (heads.Count > max) throw new NgsiException(NgsiError.TooManyResults($"An Entity map holds at most {max} entities; narrow the query"));
        return heads.Select(h => h.Entity.Id).ToList();
    }

    private static DateTimeOffset? LifetimeEnd(NgsiRequest request, EntityMapStore maps) =>
        request.Query["entityMapLifetime"].ToString() is { Length: > 0 } lifetime ? EntityMap.LifetimeEnd(lifetime, maps.Now) : null;

    private static async Task WriteAsync(NgsiRequest request, EntityMap map)
    {
        var http = request.Http;
        var body = map.ToJson();
        if (await NgsiResponse.PrepareAsync(request, StatusCodes.Status201Created) is { } context) body["@context"] = context;
        http.Response.Headers[EntityMapUse.Header] = EntityMapUse.Location(map.Id);
        http.Response.Headers.Location = EntityMapUse.Location(map.Id);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        body.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }
}
