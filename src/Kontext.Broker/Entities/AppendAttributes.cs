using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>Append Entity Attributes: POST /entities/{entityId}/attrs (clauses 5.6.3, 6.6.3.1).</summary>
internal static class AppendAttributes
{
    public static async Task HandleAsync(HttpContext http, string entityId, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var noOverwrite = QueryParameters.Options(request, "noOverwrite").Contains("noOverwrite");
        var fragment = EntityParser.ParseFragment(request.BodyElement!.Value, request.Context, ParseMode.Full, id);
        var store = await request.TenantStoreAsync(forWrite: false);
        // Clause 4.3.6.3: attributes that registered sources hold are written there.
        var what = new ForwardingRequest(RegistrationOperations.AppendAttrs, ProvisionForwarding.Entity(id, fragment.Types), fragment.Attributes.Keys.ToHashSet(StringComparer.Ordinal));
        var distributed = await provision.ForwardAsync(request, store, id, what,
            new(HttpMethod.Post, $"entities/{HeaderIri.PathSegment(id)}/attrs{http.Request.QueryString}", ForwardedBody.Attributes));
        var result = !distributed.Omit(fragment) ? new UpdateResult() : await distributed.LocalAsync(() => store.WriteAsync(id, EntityWrites.Append(id, fragment, noOverwrite, RetrieveEntity.RequestedTypes(request)), http.RequestAborted), [.. fragment.Attributes.Keys]) ?? new UpdateResult();
        if (await distributed.AnswerAttributesAsync(request, result)) return;
        if (result.IsComplete) NgsiResponse.NoContent(request);
        else await NgsiResponse.WriteUpdateResultAsync(request, result);
    }
}
