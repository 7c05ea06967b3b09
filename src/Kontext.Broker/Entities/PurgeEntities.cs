using Kontext.Broker.Http;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>
/// Purge Entities: DELETE /entities?type=…&amp;q=… (clauses 5.6.21, 6.4.3.3). Each matching entity is deleted on its
/// own (atomic per entity, with history and change log), a page at a time, concurrently within a page.
/// </summary>
internal static class PurgeEntities
{
    private const int Page = 500;

    public static async Task HandleAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadAsync(http);
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var store = await request.TenantStoreAsync(forWrite: false);
        while (true)
        {
            var page = await store.QueryAsync(new EntityPageRequest(query, 0, Page, false, anyOf), http.RequestAborted);
            if (page.Entities.Count == 0) break;
            // Each delete re-checks that the entity still exists; one already gone is simply skipped.
            await Task.WhenAll(page.Entities.Select(entity => store.WriteAsync(entity.Id,
                current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true), http.RequestAborted)));
            if (page.Entities.Count < Page) break;
        }
        NgsiResponse.NoContent(request);
    }
}
