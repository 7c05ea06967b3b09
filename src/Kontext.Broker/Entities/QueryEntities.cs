using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Entities;

/// <summary>
/// Query Entities: GET /entities (clauses 5.7.2, 6.4.3.2) and POST /entityOperations/query (5.7.2, 6.23.3.1),
/// one page at a time in a stable order.
/// </summary>
internal static class QueryEntities
{
    public static async Task GetAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadAsync(http, allowGeoJson: true);
        var (query, attrs) = EntityQueryRequest.FromUrl(request);
        await RespondAsync(request, query, attrs);
    }

    public static async Task PostAsync(HttpContext http)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var (query, attrs) = EntityQueryRequest.FromBody(request);
        await RespondAsync(request, query, attrs);
    }

    private static async Task RespondAsync(NgsiRequest request, EntityQuery query, List<string> attrs)
    {
        var render = QueryParameters.Render(request, attrs);
        var geometry = QueryParameters.GeometryProperty(request);
        var page = Pagination.Read(request);
        var store = await request.TenantStoreAsync(forWrite: false);
        var anyOf = EntityQueryRequest.AnyOf(request, attrs);
        var result = await store.QueryAsync(new EntityPageRequest(query, page.Offset, page.Limit, page.Count, anyOf), request.Http.RequestAborted);
        var now = DateTimeOffset.UtcNow; // what expired since the reaper's last round is gone already (clause 4.22)
        result = result with { Entities = result.Entities.Select(e => Transience.Visible(e, now)).OfType<Entity>().ToList() };

        var http = request.Http;
        if (result.TotalCount is { } total) http.Response.Headers["NGSILD-Results-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(http, result.Entities.Count, result.TotalCount);
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        var renderer = new EntityRenderer(request.Context, render);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        if (request.Media == ResponseMedia.GeoJson)
        {
            var features = new GeoJsonRenderer(renderer, geometry);
            writer.WriteStartObject();
            writer.WriteString("type", "FeatureCollection");
            writer.WriteStartArray("features");
            foreach (var entity in result.Entities) features.WriteFeature(writer, entity);
            writer.WriteEndArray();
            if (bodyContext is not null)
            {
                writer.WritePropertyName("@context");
                bodyContext.WriteTo(writer);
            }
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStartArray();
            foreach (var entity in result.Entities) renderer.WriteEntity(writer, entity, bodyContext);
            writer.WriteEndArray();
        }
        await writer.FlushAsync(http.RequestAborted);
    }
}
