using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Delete Attribute: DELETE /entities/{entityId}/attrs/{attrId}?datasetId=&amp;deleteAll= (clauses 5.6.5, 6.7.3.2).</summary>
internal static class DeleteAttribute
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, string attrId, ProvisionForwarding provision)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var deleteAll = QueryParameters.Flag(request, "deleteAll");
        var datasetId = request.Query["datasetId"].ToString() is { Length: > 0 } d ? d : null;
        if (datasetId is not null && !Validate.IsUri(datasetId)) throw NgsiException.BadRequestData($"datasetId '{datasetId}' is not a URI");
        var attribute = attrId == "scope" ? "scope" : AttributeRoute.Expand(request, attrId);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: an attribute that registered sources hold is written there.
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(Kontext.Ngsi.ContextSources.RegistrationOperations.DeleteAttrs, id, attribute),
            new(HttpMethod.Delete, $"entities/{HeaderIri.PathSegment(id)}/attrs/{HeaderIri.PathSegment(Uri.UnescapeDataString(attrId))}{http.Request.QueryString}", ForwardedBody.None));
        if (distributed.RunsLocallyFor(attribute)) await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.DeleteAttribute(id, attribute, datasetId, deleteAll, RetrieveEntity.RequestedTypes(request)), http.RequestAborted), [attribute]);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
