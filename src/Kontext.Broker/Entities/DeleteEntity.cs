using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Delete Entity: DELETE /entities/{entityId} (clauses 5.6.6, 6.5.3.2).</summary>
internal static class DeleteEntity
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, ProvisionForwarding provision)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: sources registered for the entity delete it too; local data need not hold it then. A type selector
        // (clause 5.6.6.4) leaves out registrations for other types.
        var what = new ForwardingRequest(RegistrationOperations.DeleteEntity, new EntitySpec(RetrieveEntity.TypeSelector(request), [id]), null);
        var distributed = await provision.ForwardAsync(request, store, id, what, new(HttpMethod.Delete, $"entities/{HeaderIri.PathSegment(id)}", ForwardedBody.None));
        if (distributed.RunsLocally)
        {
            await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.Delete(id, RetrieveEntity.RequestedTypes(request)), http.RequestAborted));
        }
        if (await distributed.AnswerEntityAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
