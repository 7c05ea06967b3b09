using Kontext.Broker.ContextSources;
using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Add Attributes to Temporal Representation of an Entity: POST /temporal/entities/{id}/attrs (clauses 5.6.12, 6.20.3.1).
/// The instances of attributes that sources offering appendAttrsTemporal are registered for go there (clause 4.3.6.3).
/// </summary>
internal static class AppendTemporalAttributes
{
    public static async Task HandleAsync(HttpContext http, string entityId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var input = TemporalEntityInput.Parse(request.Body!, request.Context, id);
        if (input.InstanceCount == 0) throw NgsiException.BadRequestData("The body carries no attribute instances");
        var (store, _) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        var what = new ForwardingRequest(RegistrationOperations.AppendAttrsTemporal, ProvisionForwarding.Entity(id, input.Types), input.Instances.Keys.ToHashSet(StringComparer.Ordinal));
        var distributed = await provision.ForwardAsync(request, store, id, what,
            new(HttpMethod.Post, $"temporal/entities/{HeaderIri.PathSegment(id)}/attrs", ForwardedBody.Attributes));
        if (distributed.Omit(input))
            await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.AddTemporalInstances(input, mustExist: true), http.RequestAborted), [.. input.Instances.Keys]);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
