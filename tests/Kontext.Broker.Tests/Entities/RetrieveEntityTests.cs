using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

[Collection(BrokerCollection.Name)]
public sealed class RetrieveEntityTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateVehicleAsync()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$$"""
        {"id":"{{{{id}}}}","type":"Vehicle",
         "speed":{"type":"Property","value":55,"unitCode":"KMH","observedAt":"2024-01-01T10:00:00Z"},
         "brandName":{"type":"Property","value":"Mercedes"},
         "isParked":{"type":"Relationship","object":"urn:ngsi-ld:Parking:P1"},
         "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}},
         "street":{"type":"LanguageProperty","languageMap":{"fr":"Grand Place","nl":"Grote Markt","@none":"Big Square"}},
         "category":{"type":"VocabProperty","vocab":"commercial"}}
        """);
        return id;
    }

    [Fact]
    public async Task Retrieve_unknown_entity_returns_404_ResourceNotFound()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{Api.NewId()}");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Retrieve_with_invalid_id_returns_400()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/not-a-uri");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Retrieve_keyValues_gives_values_only()
    {
        var id = await CreateVehicleAsync();

        var entity = await _client.GetEntityAsync(id, "?options=keyValues");

        entity["speed"]!.GetValue<int>().Should().Be(55);
        entity["isParked"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Parking:P1");
        entity["location"]!["type"]!.GetValue<string>().Should().Be("Point");
        // VocabProperty and LanguageProperty keep their member name in the simplified form (clause 4.5.4).
        entity["category"]!["vocab"]!.GetValue<string>().Should().Be("commercial");
        entity["street"]!["languageMap"]!["fr"]!.GetValue<string>().Should().Be("Grand Place");
    }

    [Theory]
    [InlineData("?format=simplified")]
    [InlineData("?format=keyValues")]
    [InlineData("?options=simplified")]
    public async Task Simplified_and_keyValues_are_the_same_format(string query)
    {
        var id = await CreateVehicleAsync();
        var entity = await _client.GetEntityAsync(id, query);
        entity["brandName"]!.GetValue<string>().Should().Be("Mercedes");
    }

    [Fact]
    public async Task Format_parameter_overrides_options()
    {
        var id = await CreateVehicleAsync();
        var entity = await _client.GetEntityAsync(id, "?options=keyValues&format=normalized");
        entity["brandName"]!["type"]!.GetValue<string>().Should().Be("Property");
    }

    [Fact]
    public async Task Retrieve_concise_drops_redundant_types()
    {
        var id = await CreateVehicleAsync();

        var entity = await _client.GetEntityAsync(id, "?options=concise");

        entity["brandName"]!.GetValue<string>().Should().Be("Mercedes");
        entity["speed"]!.ToJsonString().Should().Be("""{"value":55,"unitCode":"KMH","observedAt":"2024-01-01T10:00:00Z"}""");
        entity["isParked"]!.ToJsonString().Should().Be("""{"object":"urn:ngsi-ld:Parking:P1"}""");
        entity["location"]!["type"]!.GetValue<string>().Should().Be("Point");
        entity["street"]!["languageMap"].Should().NotBeNull();
        entity["category"]!.ToJsonString().Should().Be("""{"vocab":"commercial"}""");
    }

    [Fact]
    public async Task Concise_output_posted_back_creates_an_equal_entity()
    {
        var id = await CreateVehicleAsync();
        var concise = await _client.GetEntityAsync(id, "?options=concise");
        var copyId = Api.NewId("Vehicle");
        concise["id"] = copyId;

        await _client.CreateOkAsync(concise.ToJsonString());

        var original = await _client.GetEntityAsync(id);
        var copy = await _client.GetEntityAsync(copyId);
        copy["id"] = id;
        JsonNode.DeepEquals(original, copy).Should().BeTrue("{0} should equal {1}", copy.ToJsonString(), original.ToJsonString());
    }

    [Theory]
    [InlineData("nl", "Grote Markt", "nl")]
    [InlineData("de,fr;q=0.9", "Grand Place", "fr")]
    [InlineData("de", "Big Square", null)]
    public async Task Lang_picks_one_language_of_a_LanguageProperty(string lang, string expected, string? tag)
    {
        var id = await CreateVehicleAsync();

        var normalized = await _client.GetEntityAsync(id, $"?lang={Uri.EscapeDataString(lang)}");
        var keyValues = await _client.GetEntityAsync(id, $"?lang={Uri.EscapeDataString(lang)}&options=keyValues");

        normalized["street"]!["type"]!.GetValue<string>().Should().Be("Property");
        normalized["street"]!["value"]!.GetValue<string>().Should().Be(expected);
        normalized["street"]!["lang"]?.GetValue<string>().Should().Be(tag);
        keyValues["street"]!.GetValue<string>().Should().Be(expected);
    }

    [Fact]
    public async Task Attrs_restricts_the_attributes_but_keeps_id_and_type()
    {
        var id = await CreateVehicleAsync();

        var entity = await _client.GetEntityAsync(id, "?attrs=speed,isParked");

        entity.Select(p => p.Key).Should().BeEquivalentTo("id", "type", "speed", "isParked");
    }

    [Fact]
    public async Task Pick_selects_members_including_id_and_type()
    {
        var id = await CreateVehicleAsync();

        var entity = await _client.GetEntityAsync(id, "?pick=id,speed");

        entity.Select(p => p.Key).Should().BeEquivalentTo("id", "speed");
    }

    [Fact]
    public async Task Omit_removes_members()
    {
        var id = await CreateVehicleAsync();

        var entity = await _client.GetEntityAsync(id, "?omit=type,speed,location");

        entity.ContainsKey("type").Should().BeFalse();
        entity.ContainsKey("speed").Should().BeFalse();
        entity.ContainsKey("location").Should().BeFalse();
        entity.ContainsKey("brandName").Should().BeTrue();
    }

    [Fact]
    public async Task Pick_and_omit_together_are_rejected()
    {
        var id = await CreateVehicleAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?pick=speed&omit=type");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Type_parameter_that_does_not_match_gives_404()
    {
        var id = await CreateVehicleAsync();

        var wrong = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?type=Building");
        var right = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?type=Vehicle");

        await wrong.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        right.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Accept_geo_json_gives_a_Feature_with_the_location_as_geometry()
    {
        var id = await CreateVehicleAsync();

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: "application/geo+json");
        var feature = await response.JsonAsync();

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/geo+json");
        feature["type"]!.GetValue<string>().Should().Be("Feature");
        feature["id"]!.GetValue<string>().Should().Be(id);
        feature["geometry"]!["coordinates"]!.AsArray().Select(c => c!.GetValue<double>()).Should().Equal(-3.7, 40.4);
        feature["properties"]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        feature["properties"]!["speed"]!["value"]!.GetValue<int>().Should().Be(55);
    }

    [Fact]
    public async Task Geo_json_without_the_geometry_property_has_null_geometry()
    {
        var id = await CreateVehicleAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?geometryProperty=nowhere", accept: "application/geo+json");
        (await response.JsonAsync())["geometry"].Should().BeNull();
    }

    [Fact]
    public async Task Accept_ld_json_puts_the_context_in_the_body()
    {
        var id = await CreateVehicleAsync();

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: "application/ld+json");
        var entity = await response.JsonAsync();

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/ld+json");
        response.Headers.Contains("Link").Should().BeFalse();
        entity["@context"]!.GetValue<string>().Should().Be("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");
    }

    [Fact]
    public async Task Accept_json_puts_the_core_context_in_a_Link_header()
    {
        var id = await CreateVehicleAsync();

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: "application/json");

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        response.ContextLink().Should().Be("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");
        (await response.JsonAsync()).ContainsKey("@context").Should().BeFalse();
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/xml")]
    public async Task Unsupported_accept_returns_406(string accept)
    {
        var id = await CreateVehicleAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: accept);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotAcceptable, "NotAcceptable");
    }

    [Fact]
    public async Task Accept_with_quality_values_picks_the_preferred_type()
    {
        var id = await CreateVehicleAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: "application/json;q=0.5, application/ld+json");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/ld+json");
    }

    [Fact]
    public async Task Unknown_option_is_rejected_as_InvalidRequest()
    {
        var id = await CreateVehicleAsync();
        // Clause 6.3.20: an invalid value of options or format is InvalidRequest.
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?options=fancy");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }
}
