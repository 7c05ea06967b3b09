using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// The OGC API under the NGSI-LD API's tenants and access control: NGSILD-Tenant selects the tenant, the read right on
/// it is needed, and every refusal — also those made before an OGC handler runs — is an OGC exception document.
/// </summary>
public sealed class OgcAccessTests : IAsyncLifetime
{
    private const string Reader = "ogc-reader-key-0123456789";   // read on city
    private const string Sensor = "ogc-sensor-key-0123456789";   // write only, on city
    private const string Admin = "ogc-admin-key-0123456789";
    private BrokerFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext:Auth:Mode"] = "apikey",
        };
        void Key(string name, string key, string tenant, string role)
        {
            settings[$"Kontext:Auth:ApiKeys:{name}:Key"] = key;
            settings[$"Kontext:Auth:ApiKeys:{name}:Tenants:0"] = tenant;
            settings[$"Kontext:Auth:ApiKeys:{name}:Roles:0"] = role;
        }
        Key("reader", Reader, "city", "read");
        Key("sensor", Sensor, "city", "write");
        Key("admin", Admin, "*", "admin");
        _factory = new BrokerFactory(settings: settings);
        _client = _factory.CreateClient();
        var seed = _factory.CreateClient();
        seed.DefaultRequestHeaders.Add("X-Api-Key", Admin);
        await seed.SeedAsync("city", Ogc.FloodMonitoring("urn:ngsi-ld:FloodMonitoring:acl-1", 16.4, 48.2, 1.0, "2025-05-20T08:00:00Z"));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _factory.DeleteData();
    }

    private async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> GetAsync(string path, string? key, string? tenant = "city")
    {
        var request = Api.Request(HttpMethod.Get, "/ogc" + path, tenant: tenant);
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        var response = await _client.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject(), response);
    }

    [Fact]
    public async Task A_reader_of_the_tenant_reads_its_features()
    {
        var (status, page, _) = await GetAsync("/collections/FloodMonitoring/items", Reader);
        status.Should().Be(HttpStatusCode.OK);
        page.FeatureIds().Should().Equal("urn:ngsi-ld:FloodMonitoring:acl-1");
    }

    [Theory]
    [InlineData("")]
    [InlineData("/conformance")]
    [InlineData("/api")]
    [InlineData("/collections")]
    [InlineData("/collections/FloodMonitoring/items")]
    public async Task Without_a_credential_every_resource_is_401_as_an_ogc_exception(string path)
    {
        var (status, body, response) = await GetAsync(path, key: null);
        status.Should().Be(HttpStatusCode.Unauthorized);
        body["code"]!.GetValue<string>().Should().Be("NotAuthorized");
        body["description"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        response.Headers.WwwAuthenticate.Should().Contain(new AuthenticationHeaderValue("ApiKey", "realm=\"kontext\""));
    }

    [Fact]
    public async Task Without_the_read_right_or_on_another_tenant_it_is_403()
    {
        var (status, body, _) = await GetAsync("/collections", Sensor);
        status.Should().Be(HttpStatusCode.Forbidden);
        body["code"]!.GetValue<string>().Should().Be("Forbidden");
        (await GetAsync("/collections", Reader, tenant: "harbour")).Status.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Api_definition_documents_the_api_key_scheme()
    {
        var (_, api, _) = await GetAsync("/api", Reader);
        api["components"]!["securitySchemes"]!["apiKey"]!["name"]!.GetValue<string>().Should().Be("X-Api-Key");
        api["security"]![0]!.AsObject().ContainsKey("apiKey").Should().BeTrue();
        api["paths"]!["/collections"]!["get"]!["responses"]!.AsObject().Select(r => r.Key).Should().Contain(["401", "403"]);
    }

    [Fact]
    public async Task Unknown_tenant_is_404_and_an_invalid_tenant_name_400()
    {
        var (status, body, _) = await GetAsync("/collections", Admin, tenant: "nowhere");
        status.Should().Be(HttpStatusCode.NotFound);
        body["code"]!.GetValue<string>().Should().Be("NotFound");
        (await GetAsync("/collections", Admin, tenant: "bad tenant!")).Status.Should().Be(HttpStatusCode.BadRequest);
    }
}

/// <summary>Routing under the mount: unknown paths, methods and the configurable mount (Kontext:Ogc:BasePath).</summary>
[Collection(OgcCollection.Name)]
public sealed class OgcRoutingTests(OgcFixture fx)
{
    [Fact]
    public async Task Unknown_path_under_the_mount_is_404_as_an_ogc_exception()
    {
        await fx.Client.ShouldBeOgcExceptionAsync("/nothing/here", null, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Writing_is_405_as_an_ogc_exception_the_api_is_read_only()
    {
        var response = await fx.Client.Send(HttpMethod.Post, "/ogc/collections", "{}");
        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]!.GetValue<string>().Should().Be("OperationNotSupported");
    }

    [Fact]
    public async Task The_ngsi_ld_api_keeps_its_problem_details()
    {
        var response = await fx.Client.Send(HttpMethod.Get, "/ngsi-ld/v1/nothing");
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["type"]!.GetValue<string>().Should().StartWith("https://uri.etsi.org/ngsi-ld/errors/");
    }

    [Fact]
    public async Task Mount_is_configurable_and_links_follow_it()
    {
        await using var factory = new BrokerFactory(settings: new Dictionary<string, string?> { ["Kontext:Ogc:BasePath"] = "/features" });
        try
        {
            var client = factory.CreateClient();
            var response = await client.GetAsync("/features");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var landing = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            new Uri(landing.LinkOf("data")!["href"]!.GetValue<string>()).AbsolutePath.Should().Be("/features/collections");
            (await client.GetAsync("/ogc/collections")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Theory]
    [InlineData("/two/segments")]
    [InlineData("/ngsi-ld")]
    [InlineData("ogc")]
    public async Task Broker_refuses_to_start_with_an_unusable_mount(string basePath)
    {
        var factory = new BrokerFactory(settings: new Dictionary<string, string?> { ["Kontext:Ogc:BasePath"] = basePath });
        try
        {
            var start = () => factory.CreateClient();
            start.Should().Throw<Exception>().Where(e => e.ToString().Contains("Kontext:Ogc"));
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }
}
