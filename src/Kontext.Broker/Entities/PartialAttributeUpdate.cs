using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Partial Attribute Update: PATCH /entities/{entityId}/attrs/{attrId} (clauses 5.6.4, 6.7.3.1).</summary>
internal static class PartialAttributeUpdate
{
    public static async Task HandleAsync(HttpContext http, string entityId, string attrId)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var attribute = AttributeRoute.Expand(request, attrId);
        if (request.Body!.Count == 0 || request.Body.All(p => p.Key == "@context"))
            throw NgsiException.BadRequestData("The attribute fragment is empty");
        var fragment = AttributeRoute.Fragment(request, attrId, attribute, ParseMode.Merge);
        var store = await request.TenantStoreAsync(forWrite: false);
        await store.WriteAsync(id, current =>
        {
            if (current is null) throw NgsiException.NotFound($"The entity '{id}' does not exist");
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            operations.PartialUpdate(current, attribute, fragment);
            return EntityWrite<bool>.Upsert(current, operations.Changes, true);
        }, http.RequestAborted);
        NgsiResponse.NoContent(request);
    }
}
