using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Delete Temporal Representation of an Entity: DELETE /temporal/entities/{id} (clauses 5.6.16, 6.19.3.2). Removes the
/// entity and its whole evolution in one transaction (unlike DELETE /entities/{id}, which keeps the history). Sources
/// registered for the entity offering deleteTemporal delete theirs too (clause 4.3.6.3).
/// </summary>
internal static class DeleteTemporalEntity
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, ProvisionForwarding provision)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var distributed = await provision.ForwardAsync(request, store, id, new ForwardingRequest(RegistrationOperations.DeleteTemporal, new EntitySpec(Ids: [id]), null),
            new(HttpMethod.Delete, $"temporal/entities/{HeaderIri.PathSegment(id)}", ForwardedBody.None));
        var held = await distributed.HeldAsync(distributed.RunsLocally, async () =>
        {
            var (existed, purged) = await temporal.WriteAndPurgeAsync(id,
                current => current is null ? EntityWrite<bool>.Nothing(false) : EntityWrite<bool>.Delete(true),
                HistoryPurge.WholeEntity, http.RequestAborted);
            return existed || purged > 0;
        }, NgsiError.ResourceNotFound($"The entity '{id}' has no temporal evolution"));
        if (!held) throw NgsiException.NotFound($"The entity '{id}' has no temporal evolution");
        if (await distributed.AnswerEntityAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
