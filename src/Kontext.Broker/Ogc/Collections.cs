using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Ogc;

/// <summary>
/// GET /collections and GET /collections/{collectionId} (/req/core/fc-md-*, sfc-md-*; Part 2 /req/crs/fc-md-crs-list,
/// fc-md-storageCrs): one collection per entity type with a GeoProperty, its extent computed from the data.
/// </summary>
internal static class Collections
{
    private const string Gregorian = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian";

    public static async Task ListAsync(HttpContext http, CollectionCatalog catalog, CollectionExtents extents)
    {
        var request = OgcRequest.Read(http, "GET /collections", []);
        var store = await request.TenantStoreAsync();
        var collections = new JsonArray();
        foreach (var collection in await catalog.ListAsync(store, request.Aborted))
            collections.Add(Describe(request, collection, await extents.ExtentAsync(store, collection, request.Aborted), includeSelf: false));
        await request.WriteAsync(new JsonObject
        {
            ["links"] = new JsonArray(OgcRequest.Link(request.Url("/collections"), "self", OgcRequest.Json, "The feature collections")),
            ["collections"] = collections,
        });
    }

    public static async Task GetAsync(HttpContext http, string collectionId, CollectionCatalog catalog, CollectionExtents extents)
    {
        var request = OgcRequest.Read(http, "GET /collections/{collectionId}", []);
        var store = await request.TenantStoreAsync();
        var collection = await catalog.FindAsync(store, collectionId, request.Aborted);
        await request.WriteAsync(Describe(request, collection, await extents.ExtentAsync(store, collection, request.Aborted), includeSelf: true));
    }

    /// <summary>
    /// A collection object. In the list it links to its items; on its own page also to itself, so its links include
    /// all the list's (/req/core/sfc-md-success B).
    /// </summary>
    private static JsonObject Describe(OgcRequest request, FeatureCollectionInfo collection, CollectionExtent extent, bool includeSelf)
    {
        var path = OgcRequest.CollectionPath(collection.Id);
        var links = new JsonArray();
        if (includeSelf) links.Add(OgcRequest.Link(request.Url(path), "self", OgcRequest.Json, "This collection"));
        links.Add(OgcRequest.Link(request.Url(path + "/items"), "items", OgcRequest.GeoJson, $"The {collection.Title} features"));
        var description = new JsonObject
        {
            ["id"] = collection.Id,
            ["title"] = collection.Title,
            ["description"] = $"NGSI-LD entities of type {collection.TypeIri} located by their {collection.Context.CompactIri(collection.GeometryAttribute)} GeoProperty",
            ["links"] = links,
            ["extent"] = Extent(extent),
            ["itemType"] = "feature",
            ["crs"] = new JsonArray(Crs.Supported.Select(c => (JsonNode)c.Uri).ToArray()),
            ["storageCrs"] = Crs.Crs84.Uri,
        };
        return description;
    }

    private static JsonObject Extent(CollectionExtent extent)
    {
        var result = new JsonObject();
        if (extent.Bbox is { } bbox)
            result["spatial"] = new JsonObject
            {
                ["bbox"] = new JsonArray(new JsonArray(bbox.Select(v => (JsonNode)v).ToArray())),
                ["crs"] = Crs.Crs84.Uri,
            };
        result["temporal"] = new JsonObject
        {
            ["interval"] = new JsonArray(new JsonArray(Instant(extent.Start), Instant(extent.End))),
            ["trs"] = Gregorian,
        };
        return result;
    }

    private static JsonNode? Instant(DateTimeOffset? instant) => instant is { } t ? JsonValue.Create(Validate.Format(t)) : null;
}
