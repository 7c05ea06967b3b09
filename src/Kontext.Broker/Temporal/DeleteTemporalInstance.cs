using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Delete Attribute instance from Temporal Representation of an Entity: DELETE /temporal/entities/{id}/attrs/{attrId}/{instanceId}
/// (clauses 5.6.15, 6.22.3.2). The instance is where its id was given: here or at a source registered for the attribute
/// offering deleteAttrInstanceTemporal (clause 4.3.6.3), which is asked too.
/// </summary>
internal static class DeleteTemporalInstance
{
    public static async Task HandleAsync(NgsiRequest request, string entityId, string attrId, string instanceId, ProvisionForwarding provision)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var name = Uri.UnescapeDataString(attrId);
        var attribute = EntityParser.ExpandAttributeName(name, request.Context);
        var instance = Validate.EntityId(Uri.UnescapeDataString(instanceId), "instanceId");
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(RegistrationOperations.DeleteAttrInstanceTemporal, id, attribute),
            new(HttpMethod.Delete, InstanceResource.Of(id, name, instance), ForwardedBody.None));
        var notFound = NgsiError.ResourceNotFound($"The entity '{id}' has no instance '{instance}' of '{name}'");
        if (!await distributed.HeldAsync(distributed.RunsLocallyFor(attribute), () => temporal.DeleteInstanceAsync(id, attribute, instance, http.RequestAborted), notFound, [attribute]))
            throw new NgsiException(notFound);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}

/// <summary>The resource of one attribute instance, relative to a source's NGSI-LD root.</summary>
internal static class InstanceResource
{
    public static string Of(string id, string attribute, string instance) =>
        $"temporal/entities/{HeaderIri.PathSegment(id)}/attrs/{HeaderIri.PathSegment(attribute)}/{HeaderIri.PathSegment(instance)}";
}
