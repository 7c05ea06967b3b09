using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Replace Attribute: PUT /entities/{entityId}/attrs/{attrId} (clauses 5.6.19, 6.7.3.3).</summary>
internal static class ReplaceAttribute
{
    public static async Task HandleAsync(HttpContext http, string entityId, string attrId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        if (attrId == "scope") throw NgsiException.BadRequestData("scope is not an attribute; use Merge or Replace Entity to change it");
        var attribute = AttributeRoute.Expand(request, attrId);
        var replacement = AttributeRoute.Fragment(request, attrId, attribute, ParseMode.Full);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: an attribute that registered sources hold is written there.
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(Kontext.Ngsi.ContextSources.RegistrationOperations.ReplaceAttrs, id, attribute),
            new(HttpMethod.Put, $"entities/{HeaderIri.PathSegment(id)}/attrs/{HeaderIri.PathSegment(Uri.UnescapeDataString(attrId))}{http.Request.QueryString}", ForwardedBody.Whole));
        if (distributed.RunsLocallyFor(attribute)) await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.ReplaceAttribute(id, attribute, replacement, RetrieveEntity.RequestedTypes(request)), http.RequestAborted), [attribute]);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
