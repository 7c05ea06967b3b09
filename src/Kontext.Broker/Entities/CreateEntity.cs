using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Create Entity: POST /entities (clauses 5.6.1, 6.4.3.1).</summary>
internal static class CreateEntity
{
    public static async Task HandleAsync(HttpContext http, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var parsed = EntityParser.ParseEntity(request.BodyElement!.Value, request.Context, ParseMode.Full);
        var store = await request.TenantStoreAsync(forWrite: true);
        // Clause 4.3.6.3: attributes that registered sources hold are created there.
        var what = new ForwardingRequest(RegistrationOperations.CreateEntity, ProvisionForwarding.Entity(parsed.Id, parsed.Types), parsed.Attributes.Keys.ToHashSet(StringComparer.Ordinal));
        var distributed = await provision.ForwardAsync(request, store, parsed.Id, what, new(HttpMethod.Post, "entities", ForwardedBody.Attributes));
        if (distributed.Omit(parsed))
        {
            await distributed.LocalAsync(() => store.WriteAsync(parsed.Id, EntityWrites.Create(parsed, handedOver: true), http.RequestAborted));
        }
        if (await distributed.AnswerEntityAsync(request)) return;
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = EntityRoutes.Location(parsed.Id);
    }
}
