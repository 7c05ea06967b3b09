using Kontext.Broker.Entities;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Temporal;

/// <summary>
/// Retrieve Temporal Evolution of an Entity: GET /temporal/entities/{id} (clauses 5.7.3, 6.19.3.1). An entity deleted
/// through the entity API keeps its evolution, ending in the deletion instances, and shows deletedAt.
/// </summary>
internal static class RetrieveTemporalEntity
{
    public static async Task HandleAsync(NgsiRequest request, string entityId)
    {
        var http = request.Http;
        var id = EntityRoutes.EntityId(entityId);
        var parameters = TemporalParameters.FromUrl(request);
        var (store, temporal) = await TemporalRoutes.StoresAsync(request, forWrite: false);
        TemporalHead head;
        if (await store.GetEntityAsync(id, http.RequestAborted) is { } current) head = new TemporalHead(current, null);
        else if (await temporal.GetDeletedEntityAsync(id, http.RequestAborted) is { } deleted) head = new TemporalHead(deleted.Entity, deleted.DeletedAt);
        else throw NgsiException.NotFound($"The entity '{id}' has no temporal evolution");
        var types = QueryParameters.List(request, "type");
        if (types.Count > 0 && !types.Any(t => head.Entity.Types.Contains(EntityParser.ExpandAttributeName(t, request.Context))))
            throw NgsiException.NotFound($"The entity '{id}' has none of the requested types");
        EntityMaps.EntityMapUse.Read(request)?.ForRetrieve(id, [], temporal: true); // clause 5.7.3.4
        await TemporalResponse.WriteAsync(request, temporal, [head], parameters, single: true);
    }
}
