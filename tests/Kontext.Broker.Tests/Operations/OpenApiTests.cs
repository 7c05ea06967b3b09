using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Operations.OpenApi;
using Kontext.Broker.Security;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Kontext.Broker.Tests.Operations;

/// <summary>The OpenAPI 3.1 document describes every mapped route and passes the OpenAPI.NET reader's validation.</summary>
[Collection(BrokerCollection.Name)]
public sealed class OpenApiTests(BrokerFixture fx)
{
    private async Task<string> DocumentAsync()
    {
        var response = await fx.Client.GetAsync("/openapi/v1.json");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private List<(string Method, string Pattern)> MappedRoutes() =>
        fx.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["(any method)"]).Select(m => (m, RouteRights.Normalize(e.RoutePattern.RawText ?? ""))))
            .ToList();

    [Fact]
    public async Task Document_is_valid_openapi_3_1()
    {
        var text = await DocumentAsync();
        JsonNode.Parse(text)!["openapi"]!.GetValue<string>().Should().StartWith("3.1");
        var read = OpenApiDocument.Parse(text, "json");
        read.Diagnostic!.Errors.Should().BeEmpty();
        read.Document!.Validate(ValidationRuleSet.GetDefaultRuleSet()).Should().BeEmpty();
        read.Document!.Info!.Title.Should().Contain("Kontext");
    }

    [Fact]
    public async Task Every_mapped_route_is_in_the_document_with_its_method()
    {
        var paths = JsonNode.Parse(await DocumentAsync())!["paths"]!.AsObject();
        // The OGC API – Features mount has its own OpenAPI 3.0 document (Ogc/ApiDefinition), checked by the OGC tests.
        var routes = MappedRoutes().Where(r => !ApiCatalog.Undescribed.Contains(r.Pattern) && !r.Pattern.StartsWith(Kontext.Broker.Ogc.OgcServices.Mount, StringComparison.Ordinal)).ToList();
        routes.Should().HaveCountGreaterThan(55);
        var missing = routes.Where(r => paths[KontextDocumentTransformer.OpenApiPath(r.Pattern)]?[r.Method.ToLowerInvariant()] is null)
            .Select(r => $"{r.Method} {r.Pattern}");
        missing.Should().BeEmpty("every route needs a line in Operations/OpenApi/ApiCatalog.cs");
    }

    [Fact]
    public void Every_described_operation_belongs_to_a_mapped_route()
    {
        ApiCatalog.Operations.Keys.Except(MappedRoutes()).Should().BeEmpty("a stale line in ApiCatalog describes nothing");
    }

    [Fact]
    public async Task Ngsi_operations_name_their_clause_headers_and_problem_details()
    {
        var create = JsonNode.Parse(await DocumentAsync())!["paths"]!["/ngsi-ld/v1/entities"]!["post"]!;
        create["summary"]!.GetValue<string>().Should().Be("Create entity");
        create["description"]!.GetValue<string>().Should().Contain("5.6.1");
        create["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).Should().Contain(["NGSILD-Tenant", "Link"]);
        create["requestBody"]!["content"]!.AsObject().Select(c => c.Key).Should().Contain(["application/json", "application/ld+json"]);
        create["responses"]!["201"]!["headers"]!["Location"].Should().NotBeNull();
        create["responses"]!["4XX"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>().Should().EndWith("ProblemDetails");
    }

    [Fact]
    public async Task Reference_page_is_served_from_the_broker_without_any_cdn()
    {
        var page = await fx.Client.GetAsync("/docs/");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        html.Should().Contain("scalar.js").And.Contain("openapi/v1.json").And.NotContain("https://");
        (await fx.Client.GetAsync("/docs/scalar.js")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
