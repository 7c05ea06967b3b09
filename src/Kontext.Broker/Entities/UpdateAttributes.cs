using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Update Entity Attributes: PATCH /entities/{entityId}/attrs (clauses 5.6.2, 6.6.3.2).</summary>
internal static class UpdateAttributes
{
    public static async Task HandleAsync(HttpContext http, string entityId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        // Update mode reads NGSI-LD Null, which deletes the instance it names (clause 5.6.2 since v1.6). The target is the
        // URL's entity (clause 5.6.2.3): an id the fragment carries is not read.
        var fragment = EntityParser.ParseFragment(request.BodyElement!.Value, request.Context, ParseMode.Update, id, readsId: false);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: attributes that registered sources hold are written there.
        var what = new ForwardingRequest(RegistrationOperations.UpdateAttrs, ProvisionForwarding.Entity(id, fragment.Types), fragment.Attributes.Keys.ToHashSet(StringComparer.Ordinal));
        var distributed = await provision.ForwardAsync(request, store, id, what,
            new(HttpMethod.Patch, $"entities/{HeaderIri.PathSegment(id)}/attrs{http.Request.QueryString}", ForwardedBody.Attributes));
        var result = !distributed.Omit(fragment) ? new UpdateResult() : await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.UpdateAttributes(id, fragment, RetrieveEntity.RequestedTypes(request), handedOver: true), http.RequestAborted),
            distributed.Forwarded ? [.. fragment.Attributes.Keys] : null) ?? new UpdateResult(); // the names only name a part of a forwarded write's answer
        if (await distributed.AnswerAttributesAsync(request, result)) return;
        if (result.IsComplete) NgsiResponse.NoContent(request);
        else await NgsiResponse.WriteUpdateResultAsync(request, result);
    }
}
