using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>
/// Purge Entities: DELETE /entities?type=…&amp;q=…[&amp;keep=…|&amp;drop=…] (clauses 5.6.21, 6.4.3.3). Each matching
/// entity is deleted on its own (atomic per entity, with history and change log), a page at a time, concurrently within
/// a page; with keep or drop only attributes are removed and the entities stay.
/// </summary>
internal static class PurgeEntities
{
    private const int Page = 500;

    public static async Task HandleAsync(NgsiRequest request, ProvisionForwarding provision)
    {
        var http = request.Http;
        var purge = PurgeRequest.Read(request);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: sources registered for the selected entities purge theirs too.
        var distributed = await provision.ForwardAsync(request, store, "*",
            new(Kontext.Ngsi.ContextSources.RegistrationOperations.PurgeEntity, new Kontext.Ngsi.ContextSources.EntitySpec(purge.Query.Type, purge.Query.Ids, purge.Query.IdPattern), null),
            new(HttpMethod.Delete, $"entities{http.Request.QueryString}", ForwardedBody.None));
        if (distributed.RunsLocally) await distributed.LocalAsync(() => RunAsync(store, purge, filter: null, http.RequestAborted));
        if (await distributed.AnswerEntityAsync(request)) return;
        NgsiResponse.NoContent(request);
    }

    /// <summary>Purges what <paramref name="purge"/> selects among the entities <paramref name="filter"/> admits (all when null).</summary>
    public static async Task RunAsync(ITenantStore store, PurgeRequest purge, IReadOnlySet<string>? filter, CancellationToken cancellationToken)
    {
        var offset = 0;
        while (true)
        {
            var page = await store.QueryAsync(new EntityPageRequest(purge.Query, offset, Page, false, purge.AnyOf), cancellationToken);
            var targets = page.Entities.Where(e => filter is null || filter.Contains(e.Id)).ToList();
            // Each write re-checks that the entity still exists; one already gone is simply skipped.
            await Task.WhenAll(targets.Select(entity => store.WriteAsync(entity.Id, EntityWrites.Purge(purge.Keep, purge.Drop), cancellationToken)));
            if (page.Entities.Count < Page) break;
            // Deleted entities leave the result; entities kept (keep/drop, or outside the filter) do not.
            offset += purge.RemovesEntities ? page.Entities.Count - targets.Count : page.Entities.Count;
        }
    }

}

/// <summary>
/// The parameters of a purge, checked before anything is deleted (clause 5.6.21.4): keep and drop exclude each other,
/// Linked Entity retrieval has no place here, and the selection must be narrower than "every entity": a type, an
/// attribute list or a query naming a non-system attribute, a geo-query, a scope query, or local=true. An id or an
/// idPattern alone does not qualify.
/// </summary>
internal sealed record PurgeRequest(EntityQuery Query, IReadOnlySet<string>? AnyOf, IReadOnlySet<string>? Keep, IReadOnlySet<string>? Drop)
{
    private static readonly HashSet<string> SystemAttributes = new(StringComparer.Ordinal)
    {
        "https://uri.etsi.org/ngsi-ld/createdAt", "https://uri.etsi.org/ngsi-ld/modifiedAt", "https://uri.etsi.org/ngsi-ld/deletedAt",
    };

    public bool RemovesEntities => Keep is null && Drop is null;

    public static PurgeRequest Read(NgsiRequest request)
    {
        var keep = QueryParameters.List(request, "keep");
        var drop = QueryParameters.List(request, "drop");
        if (keep.Count > 0 && drop.Count > 0) throw NgsiException.BadRequestData("keep and drop cannot be used together");
        var attrs = QueryParameters.List(request, "attrs");
        var q = request.Query["q"].ToString();
        if (attrs.Any(a => a.Contains('{')) || LinksEntities(q))
            throw NgsiException.BadRequestData("Purge Entities does not retrieve Linked Entities: attrs and q cannot use the {…} form");
        var (query, _) = EntityQueryRequest.FromUrl(request);
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var qualifies = query.Type is not null || query.Geo is not null || query.ScopeQ is not null
                        || anyOf?.Any(a => !SystemAttributes.Contains(a)) == true
                        || query.Q is not null && QAttributes.Of(query.Q).Any(a => !SystemAttributes.Contains(a))
                        || QueryParameters.Flag(request, "local");
        if (!qualifies)
            throw NgsiException.BadRequestData(
                "Purge Entities needs a type, an attrs list or a q naming a non-system attribute, a geo-query, a scopeQ, or local=true; an id or idPattern alone is not enough");
        return new PurgeRequest(query, anyOf,
            keep.Count > 0 ? Expand(request, keep) : null,
            drop.Count > 0 ? Expand(request, drop) : null);
    }

    private static HashSet<string> Expand(NgsiRequest request, List<string> names) =>
        names.Select(n => EntityParser.ExpandAttributeName(n, request.Context)).ToHashSet(StringComparer.Ordinal);

    // The {…} of a Linked Entity query (clause 4.9) outside quoted strings.
    private static bool LinksEntities(string q)
    {
        var quoted = false;
        foreach (var c in q)
        {
            if (c == '"') quoted = !quoted;
            else if (c == '{' && !quoted) return true;
        }
        return false;
    }
}
