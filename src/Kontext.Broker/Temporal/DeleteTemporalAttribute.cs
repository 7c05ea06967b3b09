using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Delete Attribute from Temporal Representation of an Entity: DELETE /temporal/entities/{id}/attrs/{attrId}
/// (clauses 5.6.13, 6.21.3.1), with datasetId or deleteAll=true. The attribute's instances leave the history and the
/// attribute leaves the current state, in one transaction. Sources registered for the attribute offering
/// deleteAttrsTemporal delete theirs too (clause 4.3.6.3).
/// </summary>
internal static class DeleteTemporalAttribute
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, string attrId, ProvisionForwarding provision)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var attribute = EntityParser.ExpandAttributeName(Uri.UnescapeDataString(attrId), request.Context);
        var deleteAll = QueryParameters.Flag(request, "deleteAll");
        var datasetId = request.Query["datasetId"].ToString() is { Length: > 0 } ds ? Validate.EntityId(ds, "datasetId") : null;
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(RegistrationOperations.DeleteAttrsTemporal, id, attribute),
            new(HttpMethod.Delete, $"temporal/entities/{HeaderIri.PathSegment(id)}/attrs/{HeaderIri.PathSegment(Uri.UnescapeDataString(attrId))}{http.Request.QueryString}", ForwardedBody.None));
        var notFound = NgsiError.ResourceNotFound($"The entity '{id}' has no temporal evolution of '{attrId}'{(datasetId is null ? "" : $" with datasetId '{datasetId}'")}");
        var held = await distributed.HeldAsync(distributed.RunsLocallyFor(attribute), async () =>
        {
            var (removed, purged) = await temporal.WriteAndPurgeAsync(id, EntityWrites.DeleteAttributeIfPresent(attribute, datasetId, deleteAll), new HistoryPurge(attribute, datasetId, deleteAll), http.RequestAborted);
            return removed || purged > 0;
        }, notFound, [attribute]);
        if (!held) throw new NgsiException(notFound);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
