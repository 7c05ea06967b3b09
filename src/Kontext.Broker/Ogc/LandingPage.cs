using System.Text.Json.Nodes;

namespace Kontext.Broker.Ogc;

/// <summary>GET / (/req/core/root-op, root-success; /req/oas30/oas-definition-1): where a client starts.</summary>
internal static class LandingPage
{
    public const string ConformanceRel = "http://www.opengis.net/def/rel/ogc/1.0/conformance";
    public const string DataRel = "http://www.opengis.net/def/rel/ogc/1.0/data";

    public static async Task GetAsync(HttpContext http)
    {
        var request = OgcRequest.Read(http, "GET /", []);
        var store = await request.TenantStoreAsync();
        var tenant = store.Name is null ? "the default tenant" : $"tenant '{store.Name}'";
        await request.WriteAsync(new JsonObject
        {
            ["title"] = "Kontext – OGC API – Features",
            ["description"] = $"The NGSI-LD entities of {tenant} that have a GeoProperty, one collection per entity type, read-only. " +
                              "Properties are the entities' attributes in keyValues form with smart-data-models names.",
            ["links"] = new JsonArray(
                OgcRequest.Link(request.Url(""), "self", OgcRequest.Json, "This document"),
                OgcRequest.Link(request.Url("/api"), "service-desc", OgcRequest.OpenApi, "The API definition (OpenAPI 3.0)"),
                OgcRequest.Link(request.Url("/api.html"), "service-doc", OgcRequest.Html, "The API documentation"),
                OgcRequest.Link(request.Url("/conformance"), "conformance", OgcRequest.Json, "Conformance classes implemented"),
                OgcRequest.Link(request.Url("/conformance"), ConformanceRel, OgcRequest.Json, "Conformance classes implemented"),
                OgcRequest.Link(request.Url("/collections"), "data", OgcRequest.Json, "The feature collections"),
                OgcRequest.Link(request.Url("/collections"), DataRel, OgcRequest.Json, "The feature collections")),
        });
    }
}
