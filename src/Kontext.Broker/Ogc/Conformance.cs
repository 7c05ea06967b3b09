using System.Text.Json.Nodes;

namespace Kontext.Broker.Ogc;

/// <summary>GET /conformance (/req/core/conformance-op, -success): the conformance classes this API implements.</summary>
internal static class Conformance
{
    public static readonly IReadOnlyList<string> Classes =
    [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    ];

    public static async Task GetAsync(HttpContext http)
    {
        var request = OgcRequest.Read(http, "GET /conformance", []);
        await request.TenantStoreAsync();
        await request.WriteAsync(new JsonObject { ["conformsTo"] = new JsonArray(Classes.Select(c => (JsonNode)c).ToArray()) });
    }
}
