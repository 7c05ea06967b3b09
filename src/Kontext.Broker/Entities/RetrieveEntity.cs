using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Entities;

/// <summary>Retrieve Entity: GET /entities/{entityId} (clauses 5.7.1, 6.5.3.1).</summary>
internal static class RetrieveEntity
{
    public static async Task HandleAsync(HttpContext http, string entityId)
    {
        var request = await NgsiRequest.ReadAsync(http, allowGeoJson: true);
        var id = EntityRoutes.EntityId(entityId);
        var options = QueryParameters.Render(request);
        var geometry = QueryParameters.GeometryProperty(request);
        var store = await request.TenantStoreAsync(forWrite: false);
        var entity = Transience.Visible(await store.GetEntityAsync(id, http.RequestAborted), DateTimeOffset.UtcNow); // clause 4.22
        if (entity is null || !HasRequestedType(request, entity))
            throw NgsiException.NotFound($"The entity '{id}' does not exist");
        await NgsiResponse.WriteEntityAsync(request, entity, options, geometry);
    }

    /// <summary>The optional type parameter narrows the look-up: an entity of another type is not found.</summary>
    public static bool HasRequestedType(NgsiRequest request, Entity entity)
    {
        var types = QueryParameters.List(request, "type");
        return types.Count == 0 || types.Any(t => entity.Types.Contains(request.Context.ExpandTerm(t)));
    }
}
