using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Replace Entity: PUT /entities/{entityId} (clauses 5.6.18, 6.5.3.3).</summary>
internal static class ReplaceEntity
{
    public static async Task HandleAsync(HttpContext http, string entityId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var replacement = EntityParser.ParseEntity(request.BodyElement!.Value, request.Context, ParseMode.Full, expectedId: id);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: attributes that registered sources hold are replaced there.
        var distributed = await provision.ForwardAsync(request, store, id,
            new(Kontext.Ngsi.ContextSources.RegistrationOperations.ReplaceEntity, ProvisionForwarding.Entity(id, replacement.Types), replacement.Attributes.Keys.ToHashSet(StringComparer.Ordinal)),
            new(HttpMethod.Put, $"entities/{HeaderIri.PathSegment(id)}", ForwardedBody.Attributes));
        if (distributed.Omit(replacement)) await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.Replace(id, replacement, RetrieveEntity.RequestedTypes(request)), http.RequestAborted));
        if (await distributed.AnswerEntityAsync(request)) return;
        NgsiResponse.NoContent(request);
    }
}
