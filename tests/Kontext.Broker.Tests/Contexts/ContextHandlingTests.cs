using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>@context from Link header or body (clause 6.3.5), remote fetch rules (D2), compaction to the caller's terms.</summary>
public sealed class ContextHandlingTests : IAsyncLifetime
{
    private const string UserContext = """{"@context":{"ex":"https://example.org/ns#","speed":"ex:speed","Car":"ex:Car","brand":{"@id":"ex:brand"},"kind":{"@id":"ex:kind","@type":"@vocab"},"sporty":"ex:Sporty"}}""";
    private ContextServer _server = null!;
    private BrokerFactory _broker = null!;
    private HttpClient _client = null!;
    private string _contextUrl = "";

    public async Task InitializeAsync()
    {
        _server = await ContextServer.StartAsync();
        _contextUrl = _server.Serve("/ctx.jsonld", UserContext);
        _broker = new BrokerFactory();
        _client = _broker.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
        _broker.DeleteData();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Context_from_Link_header_expands_terms_and_compacts_them_back()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","speed":{"type":"Property","value":120}}""", link: Api.Link(_contextUrl));

        var withContext = await _client.GetEntityAsync(id, link: Api.Link(_contextUrl));
        var withoutContext = await _client.GetEntityAsync(id);

        withContext["type"]!.GetValue<string>().Should().Be("Car");
        withContext["speed"]!["value"]!.GetValue<int>().Should().Be(120);
        withoutContext["type"]!.GetValue<string>().Should().Be("https://example.org/ns#Car");
        withoutContext["https://example.org/ns#speed"]!["value"]!.GetValue<int>().Should().Be(120);
    }

    [Fact]
    public async Task Context_in_the_body_with_ld_json_is_used()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","brand":"Volvo","@context":"{{{{_contextUrl}}}}"}""", contentType: "application/ld+json");

        var entity = await _client.GetEntityAsync(id, link: Api.Link(_contextUrl));

        entity["brand"]!["value"]!.GetValue<string>().Should().Be("Volvo");
    }

    [Fact]
    public async Task Inline_object_and_array_contexts_with_nesting_are_accepted()
    {
        var id = Api.NewId("Car");
        var body = $$$$"""
        {"id":"{{{{id}}}}","type":"Car","speed":1,"color":"red",
         "@context":[{"color":"https://colors.example/color"},"{{{{_contextUrl}}}}","https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}
        """;
        await _client.CreateOkAsync(body, contentType: "application/ld+json");

        var plain = await _client.GetEntityAsync(id);

        plain["https://colors.example/color"]!["value"]!.GetValue<string>().Should().Be("red");
        plain["https://example.org/ns#speed"].Should().NotBeNull();
    }

    [Fact]
    public async Task Ld_json_response_echoes_the_callers_context_without_the_core()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car"}""", link: Api.Link(_contextUrl));

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", link: Api.Link(_contextUrl), accept: "application/ld+json");

        (await response.JsonAsync())["@context"]!.GetValue<string>().Should().Be(_contextUrl);
    }

    [Fact]
    public async Task Json_response_names_the_callers_context_in_the_Link_header()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car"}""", link: Api.Link(_contextUrl));

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", link: Api.Link(_contextUrl));

        response.ContextLink().Should().Be(_contextUrl);
    }

    [Fact]
    public async Task VocabProperty_values_are_expanded_and_compacted_with_the_context()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","kind":{"type":"VocabProperty","vocab":"sporty"}}""", link: Api.Link(_contextUrl));

        var withContext = await _client.GetEntityAsync(id, link: Api.Link(_contextUrl));
        var withoutContext = await _client.GetEntityAsync(id);

        withContext["kind"]!["vocab"]!.GetValue<string>().Should().Be("sporty");
        withoutContext["https://example.org/ns#kind"]!["vocab"]!.GetValue<string>().Should().Be("https://example.org/ns#Sporty");
    }

    [Fact]
    public async Task A_term_created_without_context_is_not_confused_with_the_callers_term()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","speed":5}""");

        var entity = await _client.GetEntityAsync(id, link: Api.Link(_contextUrl));

        entity.ContainsKey("speed").Should().BeFalse("speed means ex:speed in the caller's context");
        entity["ngsi-ld:default-context/speed"]!["value"]!.GetValue<int>().Should().Be(5);
    }

    [Fact]
    public async Task Link_header_together_with_ld_json_is_rejected()
    {
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car","@context":"{{{{_contextUrl}}}}"}""", "application/ld+json", link: Api.Link(_contextUrl));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Ld_json_without_context_in_the_body_is_rejected()
    {
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", "application/ld+json");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Json_with_context_in_the_body_is_rejected()
    {
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car","@context":"{{{{_contextUrl}}}}"}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Unreachable_context_gives_504_LdContextNotAvailable()
    {
        var missing = _server.BaseUrl + "/missing.jsonld";
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", link: Api.Link(missing));
        await response.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
    }

    [Fact]
    public async Task Slow_context_times_out_with_504_instead_of_hanging()
    {
        var slow = _server.Serve("/slow.jsonld", UserContext, delay: TimeSpan.FromSeconds(30));
        var started = DateTime.UtcNow;

        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", link: Api.Link(slow));

        await response.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Document_that_is_not_a_context_gives_400_BadRequestData()
    {
        // Clause 5.5.6: a remote @context that was retrieved but is invalid is BadRequestData, not LdContextNotAvailable.
        var notContext = _server.Serve("/not.json", """{"hello":"world"}""", "application/json");
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", link: Api.Link(notContext));
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    public async Task Context_served_as_plain_json_or_text_is_accepted(string contentType)
    {
        var url = _server.Serve($"/plain-{contentType.Replace('/', '-')}.jsonld", UserContext, contentType);
        var id = Api.NewId("Car");

        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","speed":3}""", link: Api.Link(url));

        (await _client.GetEntityAsync(id))["https://example.org/ns#speed"].Should().NotBeNull();
    }

    [Fact]
    public async Task Remote_context_is_fetched_once_and_cached()
    {
        var url = _server.Serve("/cached.jsonld", UserContext);
        for (var i = 0; i < 5; i++)
            await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", link: Api.Link(url));

        _server.Hits("/cached.jsonld").Should().Be(1);
    }

    [Fact]
    public async Task Fetched_context_survives_a_restart_without_the_network()
    {
        var url = _server.Serve("/kept.jsonld", UserContext);
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","speed":9}""", link: Api.Link(url));
        _server.Serve("/kept.jsonld", "gone", status: 500);

        await using var restarted = new BrokerFactory(_broker.DataDirectory);
        using var client = restarted.CreateClient();
        var entity = await client.GetEntityAsync(id, link: Api.Link(url));

        entity["speed"]!["value"]!.GetValue<int>().Should().Be(9);
    }

    [Theory]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.3.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld")]
    [InlineData("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld")]
    [InlineData("http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld")]
    public async Task Every_core_context_url_is_served_locally(string coreUrl)
    {
        // No network here: any attempt to fetch uri.etsi.org would fail with 504.
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","location":{"type":"Point","coordinates":[1,2]}}""", link: Api.Link(coreUrl));

        var entity = await _client.GetEntityAsync(id, link: Api.Link(coreUrl));

        entity["location"]!["type"]!.GetValue<string>().Should().Be("GeoProperty");
    }

    [Fact]
    public async Task Inline_context_in_the_body_applies_to_that_request()
    {
        var id = Api.NewId("Car");
        var body = $$$$"""{"id":"{{{{id}}}}","type":"Car","@context":{"wheels":"https://example.org/wheels"},"wheels":4}""";

        (await _client.CreateAsync(body, "application/ld+json")).StatusCode.Should().Be(HttpStatusCode.Created);

        (await _client.GetEntityAsync(id))["https://example.org/wheels"]!["value"]!.GetValue<int>().Should().Be(4);
    }

    [Fact]
    public async Task Inline_context_is_hosted_and_named_in_the_Link_header_of_a_json_answer()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Car","wheels":4,"@context":{"wheels":"https://example.org/wheels"}}""", "application/ld+json");
        var query = $$$$"""{"type":"Query","entities":[{"type":"Car","id":"{{{{id}}}}"}],"@context":{"wheels":"https://example.org/wheels"}}""";

        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", query, "application/ld+json", accept: "application/json");

        var entities = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        entities[0]!["wheels"]!["value"]!.GetValue<int>().Should().Be(4);
        var hosted = response.ContextLink();
        hosted.Should().Contain("/ngsi-ld/v1/jsonldContexts/");
        var served = await _client.GetAsync(new Uri(hosted!).PathAndQuery);
        (await served.JsonAsync())["@context"]!["wheels"]!.GetValue<string>().Should().Be("https://example.org/wheels");
    }

    [Fact]
    public async Task Added_context_is_hosted_listed_usable_and_deletable()
    {
        var added = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/jsonldContexts", """{"@context":{"seats":"https://example.org/seats"}}""");
        added.StatusCode.Should().Be(HttpStatusCode.Created);
        var location = added.Headers.Location!.ToString();

        (await (await _client.GetAsync(location)).JsonAsync())["@context"]!["seats"]!.GetValue<string>().Should().Be("https://example.org/seats");
        var list = System.Text.Json.Nodes.JsonNode.Parse(await _client.GetStringAsync("/ngsi-ld/v1/jsonldContexts?details=true&kind=Hosted"))!.AsArray();
        list.Should().Contain(e => location.EndsWith(e!["localId"]!.GetValue<string>()) && e["kind"]!.GetValue<string>() == "Hosted");

        // A client can name the hosted context in a Link header: the broker resolves its own URL without a request.
        var id = Api.NewId("Bus");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Bus","seats":40}""", link: Api.Link("http://localhost" + location));
        (await _client.GetEntityAsync(id))["https://example.org/seats"]!["value"]!.GetValue<int>().Should().Be(40);

        (await _client.Send(HttpMethod.Delete, location)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await _client.Send(HttpMethod.Get, location)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, location)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Cached_remote_context_is_listed_and_reloaded_on_request()
    {
        var url = _server.Serve("/reload.jsonld", UserContext);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car"}""", link: Api.Link(url));
        var cached = System.Text.Json.Nodes.JsonNode.Parse(await _client.GetStringAsync("/ngsi-ld/v1/jsonldContexts?kind=Cached"))!.AsArray();
        cached.Select(u => u!.GetValue<string>()).Should().Contain(url);
        _server.Hits("/reload.jsonld").Should().Be(1);

        var reloaded = await _client.Send(HttpMethod.Delete, "/ngsi-ld/v1/jsonldContexts/" + Uri.EscapeDataString(url) + "?reload=true");

        reloaded.StatusCode.Should().Be(HttpStatusCode.NoContent);
        _server.Hits("/reload.jsonld").Should().Be(2);
    }

    [Theory]
    [InlineData("ngsi-ld-core-context-v1.8.jsonld", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("no-such-context", HttpStatusCode.NotFound, "ResourceNotFound")]
    public async Task Deleting_the_core_or_an_unknown_context_is_refused(string id, HttpStatusCode status, string type)
    {
        var response = await _client.Send(HttpMethod.Delete, "/ngsi-ld/v1/jsonldContexts/" + id);
        await response.ShouldBeProblemAsync(status, type);
    }

    [Theory]
    [InlineData("""{"nothing":1}""", "InvalidRequest")]
    [InlineData("""[{"@context":{}}]""", "InvalidRequest")]
    [InlineData("""{"@context":42}""", "BadRequestData")]
    [InlineData("""{"@context":["https://unreachable.invalid/ctx.jsonld",7]}""", "BadRequestData")]
    public async Task Adding_something_that_is_not_a_context_is_400(string body, string type)
    {
        // A payload without @context is not this request (InvalidRequest); an @context of the wrong shape is refused
        // before any of its URLs is fetched (BadRequestData, not 504).
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/jsonldContexts", body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, type);
    }

    [Theory]
    [InlineData("ngsi-ld-core-context-v1.8.jsonld")]
    [InlineData("ngsi-ld-core-context-v1.9.jsonld")]
    public async Task Bundled_core_contexts_are_served_by_the_broker(string name)
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/jsonldContexts/" + name);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.JsonAsync())["@context"]!["Property"]!.GetValue<string>().Should().Be("ngsi-ld:Property");
    }

    [Fact]
    public async Task Smart_data_models_context_from_the_fixtures_compacts_real_terms()
    {
        var contextFile = Path.Combine(RepoPaths.Fixtures, "contexts", "smart-data-models", "dataModel.Environment", "context.jsonld");
        var url = _server.Serve("/sdm-environment.jsonld", await File.ReadAllTextAsync(contextFile));
        var example = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Fixtures, "smart-data-models", "Environment", "AirQualityObserved", "examples", "example-normalized.jsonld")))!.AsObject();
        example.Remove("@context");
        var id = example["id"]!.GetValue<string>() + Guid.NewGuid().ToString("N");
        example["id"] = id;

        await _client.CreateOkAsync(example.ToJsonString(), link: Api.Link(url));
        var back = await _client.GetEntityAsync(id, link: Api.Link(url));
        var expanded = await _client.GetEntityAsync(id);

        back["type"]!.GetValue<string>().Should().Be("AirQualityObserved");
        back["no2"]!["value"]!.GetValue<int>().Should().Be(69);
        expanded["https://smartdatamodels.org/dataModel.Environment/no2"].Should().NotBeNull();
        expanded["type"]!.GetValue<string>().Should().StartWith("https://");
        expanded["type"]!.GetValue<string>().Should().Be("https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
    }
}
