using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.Temporal;

/// <summary>Add Attributes to Temporal Representation of an Entity: POST /temporal/entities/{id}/attrs (clauses 5.6.12, 6.20.3.1).</summary>
internal static class AppendTemporalAttributes
{
    public static async Task HandleAsync(HttpContext http, string entityId)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = EntityRoutes.EntityId(entityId);
        var input = TemporalEntityInput.Parse(request.Body!, request.Context, id);
        if (input.InstanceCount == 0) throw NgsiException.BadRequestData("The body carries no attribute instances");
        var (store, _) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        await store.WriteAsync(id, EntityWrites.AddTemporalInstances(input, mustExist: true), http.RequestAborted);
        NgsiResponse.NoContent(request);
    }
}
