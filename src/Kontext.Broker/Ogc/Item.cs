using System.Text.Json.Nodes;

namespace Kontext.Broker.Ogc;

/// <summary>GET /collections/{collectionId}/items/{featureId} (/req/core/f-op, f-success, f-links; Part 2 crs): one feature.</summary>
internal static class Item
{
    public static async Task GetAsync(HttpContext http, string collectionId, string featureId, CollectionCatalog catalog)
    {
        var request = OgcRequest.Read(http, "GET /collections/{collectionId}/items/{featureId}", ["crs"], features: true);
        var crs = Crs.Parse(request.Single("crs"), "crs");
        var store = await request.TenantStoreAsync();
        var collection = await catalog.FindAsync(store, collectionId, request.Aborted);
        var entity = await store.GetEntityAsync(featureId, request.Aborted);
        // A feature of this collection: the entity has the collection's type and its geometry property.
        if (entity is null || !entity.Types.Contains(collection.TypeIri) || !entity.Attributes.ContainsKey(collection.GeometryAttribute))
            throw OgcException.NotFound($"Collection '{collection.Id}' has no feature '{featureId}'");

        var feature = new FeatureWriter(collection, crs).ToJson(entity);
        var path = OgcRequest.CollectionPath(collection.Id);
        feature["links"] = new JsonArray(
            OgcRequest.Link(request.Url($"{path}/items/{OgcRequest.Segment(featureId)}"), "self", OgcRequest.GeoJson, "This feature"),
            OgcRequest.Link(request.Url(path), "collection", OgcRequest.Json, "The collection"));
        http.Response.Headers["Content-Crs"] = crs.HeaderValue;
        await request.WriteAsync(feature, OgcRequest.GeoJson);
    }
}
