using System.Text.Json;
using Kontext.Broker.ContextSources;
using Kontext.Broker.EntityMaps;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>
/// Query Entities: GET /entities (clauses 5.7.2, 6.4.3.2) and POST /entityOperations/query (5.7.2, 6.23.3.1),
/// one page at a time in a stable order.
/// </summary>
internal static class QueryEntities
{
    /// <summary>The query parameters of Table 6.4.3.2-1.</summary>
    private static readonly HashSet<string> GetParameters = new(StringComparer.Ordinal)
    {
        "id", "type", "idPattern", "attrs", "pick", "omit", "q", "csf", "georel", "geometry", "coordinates", "geoproperty",
        "geometryProperty", "lang", "scopeQ", "options", "format", "limit", "offset", "count", "local", "via", "datasetId",
        "join", "joinLevel", "containedBy", "entityMap", "expandValues", "orderBy", "orderFrom", "collation", "jsonKeys",
        "doNotCompact", "splitEntities",
    };

    /// <summary>The URL parameters of POST /entityOperations/query (clause 6.23.3.1); the rest is in the body.</summary>
    private static readonly HashSet<string> PostParameters = new(StringComparer.Ordinal)
    {
        "options", "format", "limit", "offset", "count", "local", "via", "lang", "geometryProperty", "datasetId", "entityMap",
        "jsonKeys", "doNotCompact", "splitEntities",
    };

    /// <summary>Linked entities a linked-entity q term (rel{attr}) may match; beyond, the query is too complex.</summary>
    private const int MaxLinkedMatches = 1000;

    /// <summary>Matching entities an ordered query may sort in memory.</summary>
    private const int MaxOrderedMatches = 10_000;

    public static async Task GetAsync(HttpContext http, EntityForwarding forwarding)
    {
        var request = await NgsiRequest.ReadAsync(http, allowGeoJson: true);
        QueryParameters.RejectUnknown(request, GetParameters);
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        CheckContextSourceFilter(request.Query["csf"].ToString());
        await RespondAsync(request, forwarding, query, attrs, EntityView.FromUrl(request, attrs), distributed: true);
    }

    public static async Task PostAsync(HttpContext http, EntityForwarding forwarding)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http, allowGeoJson: true);
        QueryParameters.RejectUnknown(request, PostParameters);
        var body = request.Body!;
        // Table 5.2.23-1: temporalQ belongs to the Query Temporal Evolution of Entities operation only.
        if (body.ContainsKey("temporalQ"))
            throw NgsiException.BadRequestData("temporalQ is only for POST /temporal/entityOperations/query");
        var (query, attrs) = EntityQueryRequest.FromBody(request);
        if (body["csf"] is { } csf) CheckContextSourceFilter(csf.ToString());
        await RespondAsync(request, forwarding, query, attrs, EntityView.FromBody(request, attrs), distributed: true);
    }

    private static async Task RespondAsync(NgsiRequest request, EntityForwarding forwarding, EntityQuery query, List<string> attrs, EntityView view, bool distributed)
    {
        var page = Pagination.Read(request);
        var store = await request.TenantStoreAsync(forWrite: false);
        var cancellation = request.Http.RequestAborted;
        if (LinkedQuery.Depth(query.Q) is var depth and > 0)
        {
            JoinRequest.CheckDepth(view.Join, depth, "q");
            query = query with { Q = await LinkedQuery.ResolveAsync(query.Q!, (linked, ct) => MatchingIdsAsync(store, linked, ct), cancellation) };
        }
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var plan = distributed
            ? await forwarding.PlanAsync(request, store, new ForwardingRequest(RegistrationOperations.QueryEntity,
                new EntitySpec(query.Type, query.Ids?.ToList(), query.IdPattern), anyOf) { Geo = query.Geo })
            : null;
        var warnings = new ForwardingWarnings();
        var maps = EntityMapUse.Read(request); // clause 5.5.14: an Entity map fixes the entities the pages walk through
        var pageRequest = new EntityPageRequest(query, page.Offset, page.Limit, page.Count, anyOf);
        if (maps is null && plan is null && view.Order is null && store is IStoredEntityReader documents && view.RendersStored(request))
        {
            var stored = await documents.QueryStoredAsync(pageRequest, cancellation);
            // An entity with transient instances sends the page the Entity way, which drops those that expired (clause 4.22).
            if (!stored.Entities.Any(e => e.HasTransientInstance))
            {
                await RespondStoredAsync(request, page, view.Render, stored);
                return;
            }
        }
        var result = maps is not null
            ? await maps.PageAsync(query, q => forwarding.CandidatesAsync(request, plan, store, new EntityPageRequest(q, 0, 0, false, anyOf), maps.MaxEntities, warnings), view.Order, page)
            : plan is not null
            ? await DistributedPageAsync(request, forwarding, plan, store, new EntityPageRequest(query, 0, MaxOrderedMatches + 1, false, anyOf), view.Order, page, warnings)
            : view.Order is { } order
            ? await OrderedPageAsync(store, new EntityPageRequest(query, 0, MaxOrderedMatches + 1, false, anyOf), order, page, cancellation)
            : await store.QueryAsync(pageRequest, cancellation);
        var now = DateTimeOffset.UtcNow; // what expired since the reaper's last round is gone already (clause 4.22)
        result = result with { Entities = result.Entities.Select(e => Transience.Visible(e, now)).OfType<Entity>().ToList() };
        // An entity of which the projection leaves nothing is left out, not sent as {} (clause 4.21).
        var fields = view.Render.Fields;
        var entities = result.Entities.Where(e => !fields.LeavesNothingOf(e)).ToList();
        var render = await view.WithLinkedEntitiesAsync(store, entities, cancellation);

        var http = request.Http;
        warnings.WriteTo(http.Response);
        var bodyContext = await PrepareAsync(request, page, result.Entities.Count, result.TotalCount);
        var renderer = new EntityRenderer(request.Context, render);
        var linked = render.Joined is { Mode: JoinMode.Flat } joined ? joined.Flat : [];
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        if (request.Media == ResponseMedia.GeoJson)
        {
            new GeoJsonRenderer(renderer, view.GeometryProperty)
                .WriteFeatureCollection(writer, [.. entities.Select(e => (e, fields)), .. linked], bodyContext);
        }
        else
        {
            writer.WriteStartArray();
            foreach (var entity in entities) renderer.WriteEntity(writer, entity, bodyContext);
            foreach (var (entity, projection) in linked) renderer.WriteEntity(writer, entity, projection, bodyContext);
            writer.WriteEndArray();
        }
        await writer.FlushAsync(http.RequestAborted);
    }

    /// <summary>
    /// The page written straight from the stored documents (<see cref="EntityView.RendersStored"/>, no entity with a
    /// transient instance): the Entity path's answer, with its rules for the stored view.
    /// </summary>
    private static async Task RespondStoredAsync(NgsiRequest request, Pagination page, RenderOptions render, StoredEntityPage stored)
    {
        var now = DateTimeOffset.UtcNow; // what expired since the reaper's last round is gone already (clause 4.22)
        var visible = stored.Entities.Where(e => Transience.Visible(e, now) is not null).ToList();
        var bodyContext = await PrepareAsync(request, page, visible.Count, stored.TotalCount);
        var renderer = new EntityRenderer(request.Context, render);
        await using var writer = new Utf8JsonWriter(request.Http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var entity in visible)
        {
            // An entity of which the projection leaves nothing is left out, not sent as {} (clause 4.21).
            if (!EntityRenderer.LeavesNothingOf(render.Fields, entity)) renderer.WriteEntity(writer, entity, bodyContext);
        }
        writer.WriteEndArray();
        await writer.FlushAsync(request.Http.RequestAborted);
    }

    /// <summary>
    /// A page answer's headers: the count, the paging links (by the entities the page held before projection) and the
    /// response's own (<see cref="NgsiResponse.PrepareAsync"/>); gives the @context to embed in each entity, if any.
    /// </summary>
    private static ValueTask<System.Text.Json.Nodes.JsonNode?> PrepareAsync(NgsiRequest request, Pagination page, int entities, long? total)
    {
        if (total is { } count) request.Http.Response.Headers["NGSILD-Results-Count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(request, entities, total);
        return NgsiResponse.PrepareAsync(request);
    }

    /// <summary>
    /// A page of an ordered query (clause 4.23): every match is read (at most <see cref="MaxOrderedMatches"/>; beyond,
    /// TooManyResults), sorted, then paged. Stores page in creation order only, so the order is applied here.
    /// </summary>
    private static async Task<EntityPage> OrderedPageAsync(ITenantStore store, EntityPageRequest all, EntityOrdering order, Pagination page, CancellationToken cancellationToken)
    {
        var matches = await store.QueryAsync(all, cancellationToken);
        if (matches.Entities.Count > MaxOrderedMatches)
            throw new NgsiException(NgsiError.TooManyResults($"orderBy sorts at most {MaxOrderedMatches} matching entities; narrow the query"));
        var sorted = order.Sort(matches.Entities);
        return new EntityPage(sorted.Skip(page.Offset).Take(page.Limit).ToList(), page.Count ? sorted.Count : null);
    }

    /// <summary>
    /// A page of a distributed query (clause 4.3.6): local matches and each source's are merged by entity id, local
    /// entities first in creation order, then those only sources hold, and paged. A page that does not need every match
    /// reads only the first offset + limit + 1 of each party (<see cref="EntityForwarding.PageAsync"/>).
    /// </summary>
    private static async Task<EntityPage> DistributedPageAsync(NgsiRequest request, EntityForwarding forwarding, ForwardingPlan plan, ITenantStore store,
        EntityPageRequest all, EntityOrdering? order, Pagination page, ForwardingWarnings warnings)
    {
        if (order is null && EntityForwarding.Pages(request, page))
        {
            var first = await store.QueryAsync(all with { Offset = 0, Limit = page.Offset + page.Limit + 1 }, request.Http.RequestAborted);
            return new EntityPage(await forwarding.PageAsync(request, plan, first.Entities, page.Offset, page.Limit, warnings), null);
        }
        // Clause 5.7.2.4: a split query's filters hold on the merged entities, so local data is read without them too.
        var local = await store.QueryAsync(EntityForwarding.IsSplit(request) ? all with { Query = EntityForwarding.WithoutFilters(all.Query) } : all, request.Http.RequestAborted);
        if (local.Entities.Count > MaxOrderedMatches)
            throw new NgsiException(NgsiError.TooManyResults($"A distributed query merges at most {MaxOrderedMatches} local matches; narrow the query"));
        var merged = await forwarding.QueryAsync(request, plan, local.Entities, warnings, all.Query);
        var sorted = order is null ? merged : order.Sort(merged);
        return new EntityPage(sorted.Skip(page.Offset).Take(page.Limit).ToList(), page.Count ? sorted.Count : null);
    }

    /// <summary>The ids of the entities matching the inner query of a linked-entity q term.</summary>
    private static async Task<IReadOnlyList<string>> MatchingIdsAsync(ITenantStore store, EntityQuery query, CancellationToken cancellationToken)
    {
        var page = await store.QueryAsync(new EntityPageRequest(query, 0, MaxLinkedMatches + 1, false), cancellationToken);
        if (page.Entities.Count > MaxLinkedMatches)
            throw new NgsiException(NgsiError.TooComplexQuery($"A linked-entity term of q matches more than {MaxLinkedMatches} entities; narrow it"));
        return page.Entities.Select(e => e.Id).ToList();
    }

    /// <summary>
    /// csf (clause 4.9 syntax) filters the context sources a query is forwarded to; this broker forwards to none, but a
    /// filter that is not valid q syntax is still BadRequestData (clause 5.7.2.4).
    /// </summary>
    private static void CheckContextSourceFilter(string csf)
    {
        if (string.IsNullOrWhiteSpace(csf)) return;
        try { QLanguage.Parse(csf, Kontext.Ngsi.JsonLd.ContextProcessor.Core); }
        catch (NgsiException e) { throw NgsiException.BadRequestData("csf: " + e.Error.Detail); }
    }
}
