using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>Context source registration (clause 5.9) and discovery (clause 5.10) over HTTP: /csourceRegistrations.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RegistrationApiTests(BrokerFixture fx) : IAsyncLifetime
{
    public const string Registrations = "/ngsi-ld/v1/csourceRegistrations";
    private const string Ex = "http://example.org/";
    private readonly HttpClient _client = fx.Client;
    private readonly string _tenant = "csr-" + Guid.NewGuid().ToString("N")[..8];
    private ContextServer _contexts = null!;
    private string ContextLink = "";

    public async Task InitializeAsync()
    {
        _contexts = await ContextServer.StartAsync();
        ContextLink = Api.Link(_contexts.Serve("/user.jsonld", """{"@context":{"@vocab":"http://example.org/"}}"""));
    }

    public async Task DisposeAsync() => await _contexts.DisposeAsync();

    public static string Registration(string id, string information = """[{"entities":[{"type":"Vehicle"}]}]""", string extra = "") =>
        $$"""{"id":"{{id}}","type":"ContextSourceRegistration","endpoint":"http://fleet.example:1026","information":{{information}}{{extra}}}""";

    private async Task<HttpResponseMessage> RegisterAsync(string json, string? link = null, string contentType = "application/json") =>
        await _client.Send(HttpMethod.Post, Registrations, json, contentType, link, tenant: _tenant);

    private async Task<string> RegisterOkAsync(string json, string? link = null)
    {
        var response = await RegisterAsync(json, link);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    private async Task<JsonArray> QueryAsync(string query, string? link = null)
    {
        var response = await _client.Send(HttpMethod.Get, Registrations + "?" + query, link: link, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray();
    }

    private static IEnumerable<string> Ids(JsonArray registrations) => registrations.Select(r => r!["id"]!.GetValue<string>());

    [Fact]
    public async Task Register_context_source_returns_201_with_location_and_retrieve_returns_it_with_defaults()
    {
        var id = Api.NewId("ContextSourceRegistration");
        var location = await RegisterOkAsync(Registration(id, extra: ""","expiresAt":"2099-01-01T00:00:00Z","contextSourceInfo":[{"key":"X-Auth","value":"a"}]"""));

        location.Should().Be($"{Registrations}/{id}");
        var body = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
        body["id"]!.GetValue<string>().Should().Be(id);
        body["type"]!.GetValue<string>().Should().Be("ContextSourceRegistration");
        body["endpoint"]!.GetValue<string>().Should().Be("http://fleet.example:1026");
        body["expiresAt"]!.GetValue<string>().Should().Be("2099-01-01T00:00:00Z");
        body["mode"]!.GetValue<string>().Should().Be("inclusive");
        body["operations"]!.AsArray().Select(o => o!.GetValue<string>()).Should().Equal("federationOps");
        body["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        body["contextSourceInfo"]![0]!["key"]!.GetValue<string>().Should().Be("X-Auth");
    }

    [Fact]
    public async Task Names_are_expanded_with_the_writers_context_and_compacted_with_the_readers()
    {
        var id = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(id, """[{"entities":[{"type":"Vehicle"}],"propertyNames":["speed"]}]""", ""","brand":"X" """), ContextLink);

        var withContext = await (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", link: ContextLink, tenant: _tenant)).JsonAsync();
        var coreOnly = await (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", tenant: _tenant)).JsonAsync();
        var ldJson = await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", accept: "application/ld+json", tenant: _tenant);

        withContext["information"]![0]!["propertyNames"]![0]!.GetValue<string>().Should().Be("speed");
        coreOnly["information"]![0]!["propertyNames"]![0]!.GetValue<string>().Should().Be(Ex + "speed");
        coreOnly["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be(Ex + "Vehicle");
        coreOnly[Ex + "brand"]!.GetValue<string>().Should().Be("X");
        ldJson.Content.Headers.ContentType!.MediaType.Should().Be("application/ld+json");
        (await ldJson.JsonAsync()).ContainsKey("@context").Should().BeTrue();
    }

    [Fact]
    public async Task Register_an_existing_registration_returns_409()
    {
        var id = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(id));

        await (await RegisterAsync(Registration(id))).ShouldBeProblemAsync(HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Theory]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example"}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","information":null}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","information":[{"entities":[{"type":"V"}]}],"expiresAt":"2018-11-29T14:53:15Z"}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","information":[{"entities":[{"type":"V"}]}],"management":{"cooldown":0}}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","information":[{"entities":[{"type":"V"}]}],"contextSourceInfo":[{"key":"X","value":1}]}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","mode":"auxiliary","operations":["updateEntity"],"information":[{"entities":[{"type":"V"}]}]}""")]
    [InlineData("""{"type":"ContextSourceRegistration","endpoint":"http://a.example","mode":"exclusive","information":[{"entities":[{"type":"V"}],"propertyNames":["p"]}]}""")]
    public async Task Register_an_invalid_registration_returns_400_BadRequestData(string json) =>
        await (await RegisterAsync(json)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");

    [Fact]
    public async Task Register_with_an_ld_json_body_without_context_returns_400() =>
        await (await RegisterAsync(Registration(Api.NewId("ContextSourceRegistration")), contentType: "application/ld+json"))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");

    [Fact]
    public async Task Retrieve_with_an_invalid_id_returns_400_and_an_unknown_id_404()
    {
        await RegisterOkAsync(Registration(Api.NewId("ContextSourceRegistration"))); // the tenant exists
        await (await _client.Send(HttpMethod.Get, $"{Registrations}/invalidUri", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Get, $"{Registrations}/urn:ngsi-ld:ContextSourceRegistration:none", tenant: _tenant))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Update_replaces_members_and_null_removes_expiresAt()
    {
        var id = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(id, extra: ""","expiresAt":"2099-01-01T00:00:00Z" """));

        var response = await _client.Send(HttpMethod.Patch, $"{Registrations}/{id}", """{"endpoint":"http://new.example:1026","expiresAt":null}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var body = await (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", tenant: _tenant)).JsonAsync();
        body["endpoint"]!.GetValue<string>().Should().Be("http://new.example:1026");
        body.ContainsKey("expiresAt").Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"information":null}""", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("""{"type":"building"}""", HttpStatusCode.BadRequest, "BadRequestData")]
    public async Task Update_that_breaks_the_registration_returns_400(string fragment, HttpStatusCode status, string error)
    {
        var id = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(id));

        await (await _client.Send(HttpMethod.Patch, $"{Registrations}/{id}", fragment, tenant: _tenant)).ShouldBeProblemAsync(status, error);
    }

    [Fact]
    public async Task Update_or_delete_an_unknown_registration_returns_404()
    {
        await RegisterOkAsync(Registration(Api.NewId("ContextSourceRegistration")));
        var unknown = $"{Registrations}/urn:ngsi-ld:ContextSourceRegistration:none";

        await (await _client.Send(HttpMethod.Patch, unknown, """{"endpoint":"http://x.example"}""", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, unknown, tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Delete_returns_204_and_the_registration_is_gone()
    {
        var id = Api.NewId("ContextSourceRegistration");
        var location = await RegisterOkAsync(Registration(id));

        (await _client.Send(HttpMethod.Delete, location, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Query_selects_by_type_attrs_id_and_csf()
    {
        var vehicles = Api.NewId("ContextSourceRegistration");
        var buildings = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(vehicles, """[{"entities":[{"type":"Vehicle"}],"propertyNames":["speed"]}]"""));
        await RegisterOkAsync(Registration(buildings, """[{"entities":[{"type":"Building","id":"urn:ngsi-ld:Building:1"}],"propertyNames":["name"]}]""").Replace("fleet.example", "city.example"));

        Ids(await QueryAsync("type=Vehicle")).Should().Equal(vehicles);
        Ids(await QueryAsync("attrs=speed")).Should().Equal(vehicles);
        Ids(await QueryAsync("id=urn:ngsi-ld:Building:1")).Should().Equal([vehicles, buildings], "a type-only registration covers every id");
        Ids(await QueryAsync("type=Building&id=urn:ngsi-ld:Building:2")).Should().BeEmpty();
        Ids(await QueryAsync("type=Vehicle,Building&csf=" + Uri.EscapeDataString("endpoint==\"http://city.example:1026\""))).Should().Equal(buildings);
    }

    [Fact]
    public async Task Query_without_a_selector_or_with_a_malformed_one_returns_400()
    {
        await RegisterOkAsync(Registration(Api.NewId("ContextSourceRegistration")));
        foreach (var query in new[] { "", "?id=invalidUri", "?q=(broken", "?georel=within", "?type=Vehicle&timerel=before" })
            await (await _client.Send(HttpMethod.Get, Registrations + query, tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Query_pages_with_limit_offset_count_and_links()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(Api.NewId("ContextSourceRegistration"));
            await RegisterOkAsync(Registration(ids[^1]));
        }

        var response = await _client.Send(HttpMethod.Get, Registrations + "?type=Vehicle&limit=1&offset=1&count=true", tenant: _tenant);
        var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        Ids(page).Should().Equal(ids[1]);
        response.Headers.GetValues("NGSILD-Results-Count").Should().Equal("3");
        var links = response.Headers.GetValues("Link").ToList();
        links.Should().Contain($"<{Registrations}?type=Vehicle&count=true&limit=1&offset=2>; rel=\"next\"; type=\"application/ld+json\"");
        links.Should().Contain($"<{Registrations}?type=Vehicle&count=true&limit=1&offset=0>; rel=\"prev\"; type=\"application/ld+json\"");
    }

    [Fact]
    public async Task An_expired_registration_vanishes()
    {
        var id = Api.NewId("ContextSourceRegistration");
        var soon = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        await RegisterOkAsync(Registration(id, extra: $$""","expiresAt":"{{soon}}" """));

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        Ids(await QueryAsync("type=Vehicle")).Should().NotContain(id);
        (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Registrations_belong_to_their_tenant()
    {
        var id = Api.NewId("ContextSourceRegistration");
        await RegisterOkAsync(Registration(id));

        (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}", tenant: _tenant + "-other")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.Send(HttpMethod.Get, $"{Registrations}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_exclusive_registration_conflicts_with_an_exclusive_or_redirect_one_over_the_same_entity_and_attributes()
    {
        var entity = Api.NewId("Vehicle");
        var information = $$"""[{"entities":[{"type":"Vehicle","id":"{{entity}}"}],"propertyNames":["speed"]}]""";
        await RegisterOkAsync(Registration(Api.NewId("ContextSourceRegistration"), information, ""","mode":"exclusive" """));

        var second = await RegisterAsync(Registration(Api.NewId("ContextSourceRegistration"), information, ""","mode":"redirect" """));

        await second.ShouldBeProblemAsync(HttpStatusCode.Conflict, "Conflict");
        (await RegisterAsync(Registration(Api.NewId("ContextSourceRegistration"), information, ""","mode":"inclusive" """))).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_proxied_registration_over_a_local_entity_is_a_Conflict()
    {
        var entity = Api.NewId("Building");
        await _client.CreateOkAsync($$"""{"id":"{{entity}}","type":"Building","name":{"type":"Property","value":"Town hall"} }""", tenant: _tenant);

        var redirect = await RegisterAsync(Registration(Api.NewId("ContextSourceRegistration"), $$"""[{"entities":[{"type":"Building","id":"{{entity}}"} ]}]""", ""","mode":"redirect" """));
        var exclusive = await RegisterAsync(Registration(Api.NewId("ContextSourceRegistration"), $$"""[{"entities":[{"type":"Building","id":"{{entity}}"}],"propertyNames":["name"]}]""", ""","mode":"exclusive" """));

        await redirect.ShouldBeProblemAsync(HttpStatusCode.Conflict, "Conflict");
        (await exclusive.Content.ReadAsStringAsync()).Should().Contain("Conflict");
        exclusive.StatusCode.Should().Be(HttpStatusCode.Conflict);
    }
}
