using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Merge Entity: PATCH /entities/{entityId} (clauses 5.6.17, 6.5.3.4), with NGSI-LD Null deleting.</summary>
internal static class MergeEntity
{
    public static async Task HandleAsync(HttpContext http, string entityId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http, allowMergePatch: true);
        var id = EntityRoutes.EntityId(entityId);
        var patch = EntityParser.ParseFragment(request.BodyElement!.Value, request.Context, ParseMode.Merge, id);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: attributes that registered sources hold are merged there.
        var distributed = await provision.ForwardAsync(request, store, id,
            new(Kontext.Ngsi.ContextSources.RegistrationOperations.MergeEntity, ProvisionForwarding.Entity(id, patch.Types), patch.Attributes.Keys.ToHashSet(StringComparer.Ordinal)),
            new(HttpMethod.Patch, $"entities/{HeaderIri.PathSegment(id)}{http.Request.QueryString}", ForwardedBody.Attributes));
        if (distributed.Omit(patch)) await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.Merge(id, patch, RetrieveEntity.RequestedTypes(request)), http.RequestAborted));
        if (await distributed.AnswerEntityAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
