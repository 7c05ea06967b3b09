using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Partial Attribute Update: PATCH /entities/{entityId}/attrs/{attrId} (clauses 5.6.4, 6.7.3.1).</summary>
internal static class PartialAttributeUpdate
{
    public static async Task HandleAsync(HttpContext http, string entityId, string attrId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        if (attrId == "scope") throw NgsiException.BadRequestData("scope is not an attribute; use Update Attributes, Merge or Replace Entity to change it");
        var attribute = AttributeRoute.Expand(request, attrId);
        if (!request.BodyElement!.Value.EnumerateObject().Any(p => p.Name != "@context"))
            throw NgsiException.BadRequestData("The attribute fragment is empty");
        var fragment = AttributeRoute.Fragment(request, attrId, attribute, ParseMode.Merge);
        // The value is replaced, not merged: NGSI-LD Null inside it would be stored, so it is refused (clause 5.5.4).
        if (Attr.Payload(fragment) is var payload && !Attr.IsNullLanguageMap(payload) && Attr.HasNestedNull(payload))
            throw NgsiException.BadRequestData("NGSI-LD Null inside a value is only allowed in Merge Entity");
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: an attribute that registered sources hold is written there.
        var distributed = await provision.ForwardAsync(request, store, id,
            ProvisionForwarding.Attribute(Kontext.Ngsi.ContextSources.RegistrationOperations.UpdateAttrs, id, attribute),
            new(HttpMethod.Patch, $"entities/{HeaderIri.PathSegment(id)}/attrs/{HeaderIri.PathSegment(Uri.UnescapeDataString(attrId))}{http.Request.QueryString}", ForwardedBody.Whole));
        if (distributed.RunsLocallyFor(attribute)) await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.PartialUpdate(id, attribute, fragment, RetrieveEntity.RequestedTypes(request)), http.RequestAborted), [attribute]);
        if (await distributed.AnswerAttributesAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
