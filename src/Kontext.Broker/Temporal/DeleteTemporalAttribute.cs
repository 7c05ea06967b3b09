using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Delete Attribute from Temporal Representation of an Entity: DELETE /temporal/entities/{id}/attrs/{attrId}
/// (clauses 5.6.13, 6.21.3.1), with datasetId or deleteAll=true. The attribute's instances leave the history and the
/// attribute leaves the current state, in one transaction.
/// </summary>
internal static class DeleteTemporalAttribute
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, string attrId)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var attribute = EntityParser.ExpandAttributeName(Uri.UnescapeDataString(attrId), request.Context);
        var deleteAll = QueryParameters.Flag(request, "deleteAll");
        var datasetId = request.Query["datasetId"].ToString() is { Length: > 0 } ds ? Validate.EntityId(ds, "datasetId") : null;
        var (_, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var (removed, purged) = await temporal.WriteAndPurgeAsync(id, EntityWrites.DeleteAttributeIfPresent(attribute, datasetId, deleteAll), new HistoryPurge(attribute, datasetId, deleteAll), http.RequestAborted);
        if (!removed && purged == 0) throw NgsiException.NotFound($"The entity '{id}' has no temporal evolution of '{attrId}'{(datasetId is null ? "" : $" with datasetId '{datasetId}'")}");
        NgsiResponse.NoContent(request);
    }
}
