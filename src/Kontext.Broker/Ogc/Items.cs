using System.Globalization;
using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Ogc;

/// <summary>
/// GET /collections/{collectionId}/items (/req/core/fc-*, /req/geojson/content; Part 2 crs, bbox-crs, Content-Crs): one
/// page of features with numberMatched, numberReturned, timeStamp and self/next/prev links, streamed as GeoJSON.
/// </summary>
internal static class Items
{
    public static async Task GetAsync(HttpContext http, string collectionId, CollectionCatalog catalog)
    {
        // Which names are parameters depends on the collection (its properties): ItemsQuery checks them.
        var request = OgcRequest.Read(http, "GET /collections/{collectionId}/items", http.Request.Query.Keys, features: true);
        var store = await request.TenantStoreAsync();
        var collection = await catalog.FindAsync(store, collectionId, request.Aborted);
        var query = ItemsQuery.Read(request, collection);
        var page = await store.QueryAsync(query.Page, request.Aborted);
        var returned = page.Entities.Count;
        var matched = page.TotalCount ?? 0;
        var (offset, limit) = (query.Page.Offset, query.Page.Limit);

        http.Response.ContentType = OgcRequest.GeoJson;
        http.Response.Headers["Content-Crs"] = query.Crs.HeaderValue;
        var features = new FeatureWriter(collection, query.Crs);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("type", "FeatureCollection");
        writer.WriteStartArray("features");
        foreach (var entity in page.Entities) features.Write(writer, entity);
        writer.WriteEndArray();
        writer.WriteStartArray("links");
        WriteLink(writer, request.WithParameters(new Dictionary<string, string?>()), "self", "This page");
        if (offset + returned < matched)
            WriteLink(writer, request.WithParameters(Page(offset + limit, limit)), "next", "The next page");
        if (offset > 0)
            WriteLink(writer, request.WithParameters(Page(Math.Max(0, offset - limit), limit)), "prev", "The previous page");
        writer.WriteStartObject();
        writer.WriteString("href", request.Url(OgcRequest.CollectionPath(collection.Id)));
        writer.WriteString("rel", "collection");
        writer.WriteString("type", OgcRequest.Json);
        writer.WriteString("title", "The collection");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteNumber("numberMatched", matched);
        writer.WriteNumber("numberReturned", returned);
        writer.WriteString("timeStamp", Validate.Format(DateTimeOffset.UtcNow));
        writer.WriteEndObject();
        await writer.FlushAsync(request.Aborted);
    }

    private static Dictionary<string, string?> Page(int offset, int limit) => new()
    {
        ["offset"] = offset.ToString(CultureInfo.InvariantCulture),
        ["limit"] = limit.ToString(CultureInfo.InvariantCulture),
    };

    private static void WriteLink(Utf8JsonWriter writer, string href, string rel, string title)
    {
        writer.WriteStartObject();
        writer.WriteString("href", href);
        writer.WriteString("rel", rel);
        writer.WriteString("type", OgcRequest.GeoJson);
        writer.WriteString("title", title);
        writer.WriteEndObject();
    }
}
