using Kontext.Broker.Http;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Create or Update Temporal Representation of an Entity: POST /temporal/entities (clauses 5.6.11, 6.18.3.1).
/// 201 when the entity is new, 204 when instances were added to an existing one. Every instance goes into the history;
/// the entity's current state takes the latest instance of each attribute (see <see cref="TemporalWrites"/>).
/// </summary>
internal static class CreateTemporalEntity
{
    public static async Task HandleAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var input = TemporalEntityInput.Parse(request.Body!, request.Context, urlId: null);
        var (store, _) = await TemporalRoutes.StoresAsync(request, forWrite: true);
        var created = await store.WriteAsync(input.Id, EntityWrites.AddTemporalInstances(input, mustExist: false), http.RequestAborted);
        if (created)
        {
            http.Response.StatusCode = StatusCodes.Status201Created;
            http.Response.Headers.Location = TemporalRoutes.Location(input.Id);
        }
        else http.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
