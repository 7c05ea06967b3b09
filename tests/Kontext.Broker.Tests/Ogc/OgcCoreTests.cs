using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using NJsonSchema;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// OGC API – Features Part 1: landing page (/req/core/root-op, root-success), conformance (/req/core/conformance-op,
/// -success), the API definition (/req/core/api-definition-op, -success; /req/oas30/oas-definition-1, -2, completeness,
/// exceptions-codes) and the link rules (/req/core/fc-rel-type).
/// </summary>
[Collection(OgcCollection.Name)]
public sealed class OgcCoreTests(OgcFixture fx)
{
    private const string Tenant = "ogc-core";

    private Task SeedAsync() => fx.Client.SeedAsync(Tenant,
        Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:core-1", 16.37, 48.20, 1.2, "2025-05-20T08:00:00Z", stationId: "st-1"));

    [Fact]
    public async Task Landing_page_links_the_api_definition_the_documentation_conformance_and_collections()
    {
        await SeedAsync();
        var landing = await fx.Client.OgcOkAsync("", Tenant);
        landing["title"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        landing.LinkOf("self")!.OgcPath().Should().Be("");
        landing.LinkOf("service-desc")!["type"]!.GetValue<string>().Should().Be("application/vnd.oai.openapi+json;version=3.0");
        landing.LinkOf("service-doc")!["type"]!.GetValue<string>().Should().Be("text/html");
        landing.LinkOf("conformance")!.OgcPath().Should().Be("/conformance");
        landing.LinkOf("data")!.OgcPath().Should().Be("/collections");
        landing.LinkOf("http://www.opengis.net/def/rel/ogc/1.0/data")!.OgcPath().Should().Be("/collections");
    }

    [Fact]
    public async Task Landing_page_with_a_trailing_slash_is_the_landing_page()
    {
        await SeedAsync();
        (await fx.Client.OgcOkAsync("/", Tenant)).LinkOf("service-desc").Should().NotBeNull();
    }

    [Fact]
    public async Task Conformance_declares_core_geojson_oas30_and_crs()
    {
        await SeedAsync();
        var conformance = await fx.Client.OgcOkAsync("/conformance", Tenant);
        conformance["conformsTo"]!.AsArray().Select(c => c!.GetValue<string>()).Should().BeEquivalentTo(
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs");
    }

    [Fact]
    public async Task Api_definition_is_an_openapi_3_0_document_valid_against_the_oas_schema()
    {
        await SeedAsync();
        var response = await fx.Client.Send(HttpMethod.Get, "/ogc/api", tenant: Tenant, accept: "application/vnd.oai.openapi+json;version=3.0");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Contain("application/vnd.oai.openapi+json").And.Contain("version=3.0");
        var text = await response.Content.ReadAsStringAsync();
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.Fixtures, "openapi", "oas-3.0-schema.json"));
        schema.Validate(text).Select(e => e.ToString()).Should().BeEmpty();
        JsonNode.Parse(text)!["openapi"]!.GetValue<string>().Should().StartWith("3.0.");
    }

    [Fact]
    public async Task Api_definition_declares_each_collection_with_its_property_filters()
    {
        await SeedAsync();
        var api = await fx.Client.OgcOkAsync("/api", Tenant);
        var paths = api["paths"]!.AsObject();
        paths.Select(p => p.Key).Should().Contain(["/", "/conformance", "/api", "/api.html", "/collections",
            "/collections/FloodMonitoring", "/collections/FloodMonitoring/items", "/collections/FloodMonitoring/items/{featureId}"]);
        var parameters = paths["/collections/FloodMonitoring/items"]!["get"]!["parameters"]!.AsArray();
        var inline = parameters.Where(p => p!["name"] is not null).Select(p => p!["name"]!.GetValue<string>());
        inline.Should().BeEquivalentTo("currentLevel", "referenceLevel", "stationID"); // not the geometry
        var referenced = parameters.Where(p => p!["$ref"] is not null).Select(p => p!["$ref"]!.GetValue<string>().Split('/')[^1]);
        referenced.Should().Contain(["limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "tenant", "f-features"]);
        api["components"]!["parameters"]!["limit"]!["schema"]!["maximum"]!.GetValue<int>().Should().Be(50);
    }

    [Fact]
    public async Task Api_definition_lists_every_status_an_operation_answers_with_the_exception_schema()
    {
        await SeedAsync();
        var api = await fx.Client.OgcOkAsync("/api", Tenant);
        foreach (var (path, item) in api["paths"]!.AsObject())
        {
            var responses = item!["get"]!["responses"]!.AsObject();
            responses.Select(r => r.Key).Should().Contain(["200", "400", "404", "500"], "GET {0} answers those", path);
            responses["404"]!["$ref"]!.GetValue<string>().Should().Be("#/components/responses/NotFound");
        }
        api["components"]!["responses"]!["NotFound"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>()
            .Should().Be("#/components/schemas/exception");
        api["security"].Should().BeNull("this broker runs without access control");
    }

    [Fact]
    public async Task Api_documentation_is_an_html_page_of_the_same_operations()
    {
        await SeedAsync();
        var response = await fx.Client.Send(HttpMethod.Get, "/ogc/api.html", tenant: Tenant);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var html = await response.Content.ReadAsStringAsync();
        html.Should().StartWith("<!DOCTYPE html>").And.Contain("GET /collections/FloodMonitoring/items").And.Contain("stationID");
    }

    [Fact]
    public async Task Every_link_of_every_resource_has_rel_and_type()
    {
        await SeedAsync();
        foreach (var path in new[] { "", "/collections", "/collections/FloodMonitoring", "/collections/FloodMonitoring/items",
                     "/collections/FloodMonitoring/items/urn:ngsi-ld:FloodMonitoring:core-1" })
        {
            var document = await fx.Client.OgcOkAsync(path, Tenant);
            var links = document["links"]!.AsArray().Concat(document["collections"]?.AsArray().SelectMany(c => c!["links"]!.AsArray()) ?? []);
            foreach (var link in links)
            {
                link!["rel"]!.GetValue<string>().Should().NotBeNullOrEmpty();
                link["type"]!.GetValue<string>().Should().NotBeNullOrEmpty();
                Uri.IsWellFormedUriString(link["href"]!.GetValue<string>(), UriKind.Absolute).Should().BeTrue();
            }
        }
    }
}
