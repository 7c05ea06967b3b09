using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Create or Update Temporal Representation of an Entity: POST /temporal/entities (clauses 5.6.11, 6.18.3.1).
/// 201 when the entity is new, 204 when instances were added to an existing one. Every instance goes into the history;
/// the entity's current state takes the latest instance of each attribute (see <see cref="TemporalWrites"/>). The
/// instances of attributes that sources offering upsertTemporal are registered for go there (clause 4.3.6.3).
/// </summary>
internal static class CreateTemporalEntity
{
    public static async Task HandleAsync(HttpContext http, ProvisionForwarding provision)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var input = TemporalEntityInput.Parse(request.Body!, request.Context, urlId: null);
        var (store, _) = await TemporalRoutes.StoresAsync(request, forWrite: true);
        var what = new ForwardingRequest(RegistrationOperations.UpsertTemporal, ProvisionForwarding.Entity(input.Id, input.Types), input.Instances.Keys.ToHashSet(StringComparer.Ordinal));
        var distributed = await provision.ForwardAsync(request, store, input.Id, what, new(HttpMethod.Post, "temporal/entities", ForwardedBody.Attributes));
        // Written only at sources, it is answered as created there: which of them held it before is not known here.
        var created = !distributed.Omit(input)
            || await distributed.LocalAsync(() => store.WriteAsync(input.Id, EntityWrites.AddTemporalInstances(input, mustExist: false), http.RequestAborted));
        if (await distributed.AnswerEntityAsync(request)) return;
        if (created)
        {
            http.Response.StatusCode = StatusCodes.Status201Created;
            http.Response.Headers.Location = TemporalRoutes.Location(input.Id);
        }
        else http.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
