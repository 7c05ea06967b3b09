using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>GET /types, /types/{type}, /attributes, /attributes/{attrId} (clauses 5.7.5–5.7.10).</summary>
public sealed class TypesAndAttributesTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private const string Context = """{"@context":{"Bus":"https://example.org/Bus","speed":"https://example.org/speed"}}""";
    private readonly HttpClient _client;
    private readonly string _tenant = "types-" + Guid.NewGuid().ToString("N")[..8];

    public TypesAndAttributesTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Bus:1","type":"Bus","speed":1,"driver":{"type":"Relationship","object":"urn:ngsi-ld:P:1"},"@context":{"Bus":"https://example.org/Bus","speed":"https://example.org/speed"}}""", "application/ld+json", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Bus:2","type":"Bus","speed":2,"@context":{"Bus":"https://example.org/Bus","speed":"https://example.org/speed"}}""", "application/ld+json", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Car:1","type":"Car","speed":{"type":"Property","value":3},"color":"red"}""", tenant: _tenant);
        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Car:2","type":"Car","color":"blue"}""", tenant: _tenant);
        await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Car:2", tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonNode> GetAsync(string path, string? link = null)
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/" + path, tenant: _tenant, link: link);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Types_lists_every_type_in_use_compacted()
    {
        var list = await GetAsync("types");

        list["type"]!.GetValue<string>().Should().Be("EntityTypeList");
        list["typeList"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("https://example.org/Bus", "Car");
    }

    [Fact]
    public async Task Types_are_compacted_with_the_callers_context()
    {
        var server = await ContextServer.StartAsync();
        await using var _ = server;
        var url = server.Serve("/bus.jsonld", Context);

        var list = await GetAsync("types", Api.Link(url));

        list["typeList"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Bus", "Car");
    }

    [Fact]
    public async Task Types_with_details_name_their_attributes()
    {
        var details = (await GetAsync("types?details=true")).AsArray();

        var car = details.Single(d => d!["typeName"]!.GetValue<string>() == "Car")!;
        car["type"]!.GetValue<string>().Should().Be("EntityType");
        car["attributeNames"]!.AsArray().Select(a => a!.GetValue<string>()).Should().BeEquivalentTo("speed", "color");
    }

    [Fact]
    public async Task Type_info_counts_entities_and_describes_attributes()
    {
        var info = await GetAsync("types/https%3A%2F%2Fexample.org%2FBus");

        info["type"]!.GetValue<string>().Should().Be("EntityTypeInfo");
        info["entityCount"]!.GetValue<int>().Should().Be(2);
        var driver = info["attributeDetails"]!.AsArray().Single(a => a!["attributeName"]!.GetValue<string>() == "driver")!;
        driver["attributeTypes"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Relationship");
    }

    [Fact]
    public async Task Unknown_type_is_404()
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/types/Plane", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Attributes_lists_every_attribute_in_use()
    {
        var list = await GetAsync("attributes");

        list["type"]!.GetValue<string>().Should().Be("AttributeList");
        list["attributeList"]!.AsArray().Select(a => a!.GetValue<string>())
            .Should().BeEquivalentTo("https://example.org/speed", "speed", "color", "driver");
    }

    [Fact]
    public async Task Attribute_info_counts_entities_and_names_types()
    {
        var info = await GetAsync("attributes/color");

        info["attributeCount"]!.GetValue<int>().Should().Be(1, "the blue car was deleted");
        info["typeNames"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Car");
        info["attributeTypes"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Property");
    }

    [Fact]
    public async Task Attributes_with_details_name_their_types()
    {
        var details = (await GetAsync("attributes?details=true")).AsArray();
        details.Single(d => d!["attributeName"]!.GetValue<string>() == "color")!["typeNames"]!.AsArray()
            .Select(t => t!.GetValue<string>()).Should().Equal("Car");
    }
}
