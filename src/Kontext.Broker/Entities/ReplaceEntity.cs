using Kontext.Broker.Http;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Replace Entity: PUT /entities/{entityId} (clauses 5.6.18, 6.5.3.3).</summary>
internal static class ReplaceEntity
{
    public static async Task HandleAsync(HttpContext http, string entityId)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var replacement = EntityParser.ParseEntity(request.Body!, request.Context, ParseMode.Full, expectedId: id);
        var store = await request.TenantStoreAsync(forWrite: false);
        await store.WriteAsync(id, EntityWrites.Replace(id, replacement, RetrieveEntity.RequestedTypes(request)), http.RequestAborted);
        NgsiResponse.NoContent(request);
    }
}
