using System.Globalization;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Query Temporal Evolution of Entities: GET /temporal/entities (clauses 5.7.4, 6.18.3.2) and
/// POST /temporal/entityOperations/query (6.24.3.1). The entities are chosen on their history
/// (<see cref="TemporalSelection"/>), paged by limit/offset/count and ordered by id when asked; then the instances of
/// the whole page are read in one store call within the temporal window.
/// </summary>
internal static class QueryTemporalEntities
{
    public static async Task GetAsync(NgsiRequest request, TemporalForwarding forwarding)
    {
        var http = request.Http;
        TemporalProjection.RefuseLinkedFilter(request.Query["q"].ToString());
        RefuseContextSourceFilter(request);
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        await RespondAsync(request, forwarding, query, attrs, TemporalParameters.FromUrl(request, attrs));
    }

    public static async Task PostAsync(HttpContext http, TemporalForwarding forwarding)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var body = request.Body!;
        TemporalProjection.RefuseLinkedFilter(body["q"] is System.Text.Json.Nodes.JsonValue q && q.TryGetValue<string>(out var text) ? text : null);
        var (query, attrs) = EntityQueryRequest.FromBody(request);
        await RespondAsync(request, forwarding, query, attrs, TemporalParameters.FromBody(request, body, attrs));
    }

    private static async Task RespondAsync(NgsiRequest request, TemporalForwarding forwarding, EntityQuery query, List<string> attrs, TemporalParameters parameters)
    {
        if (parameters.Query.TimeRel is null) throw NgsiException.BadRequestData("A temporal query needs timerel and timeAt (clause 5.7.4.4)");
        RequireSelection(request, query, attrs);
        var descending = OrderById(request);
        var page = Pagination.Read(request);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var http = request.Http;
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        // Clause 5.7.4.4 with 4.3.6: sources offering queryTemporal answer too; the pages walk through the merged entities.
        var plan = await forwarding.PlanAsync(request, store, RegistrationOperations.QueryTemporal,
            new EntitySpec(query.Type, query.Ids?.ToList(), query.IdPattern), anyOf, parameters.Query);
        FederatedTemporal? remote = null;
        if (plan is not null)
        {
            var warnings = new ForwardingWarnings();
            remote = await forwarding.QueryAsync(request, plan, parameters, temporal, warnings);
            warnings.WriteTo(http.Response);
        }
        TemporalSelection.Request Selection(EntityQuery q) => new(q, anyOf, parameters, page.Offset, page.Limit, page.Count, descending);
        // Clause 5.7.4.4: a live Entity map fixes the entities; otherwise entityMap=true or a dead reference makes one.
        if (EntityMaps.EntityMapUse.Read(request) is { } maps)
            query = await maps.NarrowTemporalAsync(query, async q => remote is null
                ? await EntityMaps.CreateEntityMap.TemporalMatchesAsync(request, q, attrs, parameters, maps.MaxEntities)
                : (await TemporalSelection.SelectMergedAsync(store, remote, Selection(q), http.RequestAborted)).Select(h => h.Entity.Id).ToList());
        IReadOnlyList<TemporalHead> heads;
        long? total;
        if (remote is null) (heads, total) = await TemporalSelection.SelectAsync(store, temporal, Selection(query), http.RequestAborted);
        else
        {
            var all = await TemporalSelection.SelectMergedAsync(store, remote, Selection(query), http.RequestAborted);
            (heads, total) = (all.Skip(page.Offset).Take(page.Limit).ToList(), page.Count ? all.Count : null);
        }
        if (total is { } count) http.Response.Headers["NGSILD-Results-Count"] = count.ToString(CultureInfo.InvariantCulture);
        page.WriteLinks(http, heads.Count, total);
        await TemporalResponse.WriteAsync(request, remote?.History ?? temporal, heads, parameters, single: false);
    }

    /// <summary>
    /// A temporal query needs a selection narrower than "everything" (clause 5.7.4.4): entity types, attributes with at
    /// least one that is not a system attribute, a q naming one, a geoQ, or local=true. Entity ids alone (or a scopeQ)
    /// are none of them: the query is too wide.
    /// </summary>
    private static void RequireSelection(NgsiRequest request, EntityQuery query, List<string> attrs)
    {
        // By name (attrs) or by the core IRI a q path expands to.
        static bool IsSystem(string name)
        {
            var term = name.StartsWith("https://uri.etsi.org/ngsi-ld/", StringComparison.Ordinal) ? name["https://uri.etsi.org/ngsi-ld/".Length..] : name;
            return Attr.SystemMembers.Contains(term) || term == "observedAt";
        }
        var typed = query.Type is not null || query.Selectors?.Any(s => s.Type is not null) == true;
        var attributes = attrs.Any(a => !IsSystem(a));
        var filtered = query.Q is not null && TemporalFilter.ValueAttributes(query with { Geo = null }).Any(a => !IsSystem(a));
        if (typed || attributes || filtered || query.Geo is not null || QueryParameters.Flag(request, "local")) return;
        throw NgsiException.BadRequestData("A temporal query needs entity types, non-system attributes, a q on one, or a geo-query (or local=true): this one is too wide");
    }

    /// <summary>orderBy on the temporal query may only name the entity id (clause 5.7.4.4): "id", "id;asc" or "id;desc". Null: no ordering.</summary>
    private static bool? OrderById(NgsiRequest request)
    {
        var items = QueryParameters.List(request, "orderBy");
        if (items.Count == 0) return null;
        bool? descending = null;
        foreach (var item in items)
        {
            var parts = item.Split(';', StringSplitOptions.TrimEntries);
            if (parts[0] != "id" || parts.Length > 2 || descending is not null)
                throw NgsiException.BadRequestData($"A temporal query can be ordered by the entity id only, not by '{item}'");
            descending = parts.Length == 2 ? parts[1] switch
            {
                "asc" => false,
                "desc" => true,
                _ => throw NgsiException.BadRequestData($"'{parts[1]}' is not an ordering direction (asc, desc)"),
            } : false;
        }
        return descending;
    }

    /// <summary>csf filters the context sources a query goes to (clause 4.9 grammar); a malformed one is BadRequestData even when there is none.</summary>
    private static void RefuseContextSourceFilter(NgsiRequest request)
    {
        var csf = request.Query["csf"].ToString();
        if (csf.Length > 0) QLanguage.Parse(csf, request.Context);
    }
}
