using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Delete Temporal Representation of an Entity: DELETE /temporal/entities/{id} (clauses 5.6.16, 6.19.3.2). Removes the
/// entity and its whole evolution in one transaction (unlike DELETE /entities/{id}, which keeps the history).
/// </summary>
internal static class DeleteTemporalEntity
{
    public static async Task HandleAsync(NgsiRequest request, string entityId)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var (_, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var (existed, purged) = await temporal.WriteAndPurgeAsync(id,
            current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true),
            HistoryPurge.WholeEntity, http.RequestAborted);
        if (!existed && purged == 0) throw NgsiException.NotFound($"The entity '{id}' has no temporal evolution");
        NgsiResponse.NoContent(request);
    }
}
