using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.EntityMaps;

/// <summary>Delete EntityMap: DELETE /entityMaps/{entityMapId} (clauses 5.14.3, 6.32.3.3); 204.</summary>
internal static class DeleteEntityMap
{
    public static async Task HandleAsync(NgsiRequest request, string entityMapId, EntityMapStore maps)
    {
        var http = request.Http;
        var id = EntityMapRoutes.Id(entityMapId);
        if (!maps.Delete(request.Tenant, id)) throw NgsiException.NotFound($"The Entity map '{id}' does not exist");
        NgsiResponse.NoContent(request);
    }
}
