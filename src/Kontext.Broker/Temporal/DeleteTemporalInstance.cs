using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Temporal;

/// <summary>Delete Attribute instance from Temporal Representation of an Entity: DELETE /temporal/entities/{id}/attrs/{attrId}/{instanceId} (clauses 5.6.15, 6.22.3.2).</summary>
internal static class DeleteTemporalInstance
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, string attrId, string instanceId)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var name = Uri.UnescapeDataString(attrId);
        var attribute = EntityParser.ExpandAttributeName(name, request.Context);
        var instance = Validate.EntityId(Uri.UnescapeDataString(instanceId), "instanceId");
        var (_, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        if (!await temporal.DeleteInstanceAsync(id, attribute, instance, http.RequestAborted))
            throw NgsiException.NotFound($"The entity '{id}' has no instance '{instance}' of '{name}'");
        NgsiResponse.NoContent(request);
    }
}
