using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Security;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Ogc;

/// <summary>
/// GET /api: the OpenAPI 3.0 definition of this API for the request's tenant (/req/oas30/*). Each collection has its
/// own paths, so its items operation declares its property filters by name: a client (GDAL's OAPIF driver does) reads
/// them to send filters to the server, and any other query parameter is refused as undeclared. Every status code an
/// operation can answer is listed, and the security schemes when access control is on.
/// </summary>
internal static class ApiDefinition
{
    public const string Version = "3.0.3";

    public static async Task GetAsync(HttpContext http, CollectionCatalog catalog, IOptions<KontextOptions> kontext)
    {
        var request = OgcRequest.Read(http, "GET /api", []);
        var store = await request.TenantStoreAsync();
        var collections = await catalog.ListAsync(store, request.Aborted);
        await request.WriteAsync(Build(request, collections, kontext.Value.Auth), OgcRequest.OpenApi);
    }

    public static JsonObject Build(OgcRequest request, IReadOnlyList<FeatureCollectionInfo> collections, AuthOptions auth)
    {
        var secured = AuthModeSetting.Parse(auth.Mode) != AuthModes.None;
        var paths = new JsonObject
        {
            ["/"] = Get("getLandingPage", "The landing page", ["Capabilities"], [], Ok("landingPage", OgcRequest.Json), secured),
            ["/conformance"] = Get("getConformanceDeclaration", "The conformance classes this API implements", ["Capabilities"], [],
                Ok("confClasses", OgcRequest.Json), secured),
            ["/api"] = Get("getApiDefinition", "This API definition", ["Capabilities"], [],
                Content(OgcRequest.OpenApi, new JsonObject { ["type"] = "object" }, "The OpenAPI 3.0 definition"), secured),
            ["/api.html"] = Get("getApiDocumentation", "This API definition as a web page", ["Capabilities"], [],
                Content(OgcRequest.Html, new JsonObject { ["type"] = "string" }, "The API documentation"), secured, noFormat: true),
            ["/collections"] = Get("getCollections", "The feature collections: one per NGSI-LD entity type with a GeoProperty", ["Capabilities"], [],
                Ok("collections", OgcRequest.Json), secured),
        };
        foreach (var (collection, index) in collections.Select((c, i) => (c, i)))
        {
            var path = OgcRequest.CollectionPath(collection.Id);
            string[] tag = [collection.Title];
            paths[path] = Get($"describeCollection{index}", $"The {collection.Title} collection", tag, [], Ok("collection", OgcRequest.Json), secured, collection: true);
            var itemParameters = new List<JsonNode>
            {
                Ref("limit"), Ref("offset"), Ref("bbox"), Ref("bbox-crs"), Ref("datetime"), Ref("crs"),
            };
            foreach (var name in collection.Properties.Keys.Where(n => !ItemsQuery.FixedParameters.Contains(n) && n != "f"))
                itemParameters.Add(new JsonObject
                {
                    ["name"] = name,
                    ["in"] = "query",
                    ["required"] = false,
                    ["description"] = $"Only features whose {name} equals this value (several: any of them)",
                    ["schema"] = new JsonObject { ["type"] = "string" },
                    ["style"] = "form",
                    ["explode"] = true,
                });
            paths[path + "/items"] = Get($"getFeatures{index}", $"The {collection.Title} features, one page at a time", tag, itemParameters,
                Ok("featureCollectionGeoJSON", OgcRequest.GeoJson, crsHeader: true), secured, collection: true, features: true);
            paths[path + "/items/{featureId}"] = Get($"getFeature{index}", $"One {collection.Title} feature", tag,
                [Ref("featureId"), Ref("crs")], Ok("featureGeoJSON", OgcRequest.GeoJson, crsHeader: true), secured, collection: true, features: true);
        }

        var document = new JsonObject
        {
            ["openapi"] = Version,
            ["info"] = new JsonObject
            {
                ["title"] = "Kontext – OGC API – Features",
                ["version"] = "1.0.0",
                ["description"] = "A read-only OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS by reference) over the " +
                                  "NGSI-LD entities that have a GeoProperty. The tenant is chosen with the NGSILD-Tenant header, as in the NGSI-LD API; " +
                                  "this definition describes the collections of the tenant it was requested for.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = request.BaseUrl }),
            ["paths"] = paths,
            ["components"] = ApiComponents.Build(request.Options, auth),
        };
        if (secured) document["security"] = ApiComponents.Security(auth);
        return document;
    }

    private static JsonObject Get(string operationId, string summary, string[] tags, IEnumerable<JsonNode> parameters, JsonObject ok,
        bool secured, bool collection = false, bool features = false, bool noFormat = false)
    {
        var all = new JsonArray(parameters.Select(p => p.DeepClone()).ToArray());
        all.Add(Ref("tenant"));
        if (!noFormat) all.Add(Ref(features ? "f-features" : "f"));
        var responses = new JsonObject { ["200"] = ok, ["400"] = ResponseRef("InvalidParameter"), ["404"] = ResponseRef("NotFound") };
        if (secured)
        {
            responses["401"] = ResponseRef("Unauthorized");
            responses["403"] = ResponseRef("Forbidden");
        }
        responses["500"] = ResponseRef("ServerError");
        return new JsonObject
        {
            ["get"] = new JsonObject
            {
                ["operationId"] = operationId,
                ["summary"] = summary,
                ["tags"] = new JsonArray(tags.Select(t => (JsonNode)t).ToArray()),
                ["parameters"] = all,
                ["responses"] = responses,
            },
        };
    }

    private static JsonObject Ok(string schema, string mediaType, bool crsHeader = false)
    {
        var response = Content(mediaType, new JsonObject { ["$ref"] = "#/components/schemas/" + schema }, "Success");
        if (crsHeader)
            response["headers"] = new JsonObject
            {
                ["Content-Crs"] = new JsonObject
                {
                    ["description"] = "The CRS of the geometries, as a URI in angle brackets",
                    ["schema"] = new JsonObject { ["type"] = "string" },
                },
            };
        return response;
    }

    private static JsonObject Content(string mediaType, JsonObject schema, string description) => new()
    {
        ["description"] = description,
        ["content"] = new JsonObject { [mediaType] = new JsonObject { ["schema"] = schema } },
    };

    private static JsonObject Ref(string parameter) => new() { ["$ref"] = "#/components/parameters/" + parameter };

    private static JsonObject ResponseRef(string response) => new() { ["$ref"] = "#/components/responses/" + response };
}
