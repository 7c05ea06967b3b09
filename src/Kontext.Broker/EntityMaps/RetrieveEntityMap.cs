using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.EntityMaps;

/// <summary>Retrieve EntityMap: GET /entityMaps/{entityMapId} (clauses 5.14.1, 6.32.3.1); an expired map cannot be accessed (5.5.14).</summary>
internal static class RetrieveEntityMap
{
    public static async Task HandleAsync(NgsiRequest request, string entityMapId, EntityMapStore maps)
    {
        var http = request.Http;
        var id = EntityMapRoutes.Id(entityMapId);
        var map = maps.Find(request.Tenant, id) ?? throw NgsiException.NotFound($"The Entity map '{id}' does not exist");
        var body = map.ToJson();
        if (await NgsiResponse.PrepareAsync(request) is { } context) body["@context"] = context;
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        body.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }
}
