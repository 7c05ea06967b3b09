using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

[Collection(BrokerCollection.Name)]
public sealed class CreateEntityTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Create_entity_returns_201_with_location_and_the_entity_reads_back()
    {
        var id = Api.NewId("Vehicle");
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"Vehicle","speed":{"type":"Property","value":80}}""");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Location!.ToString().Should().Be($"/ngsi-ld/v1/entities/{id}");
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
        var entity = await _client.GetEntityAsync(id);
        entity["id"]!.GetValue<string>().Should().Be(id);
        entity["type"]!.GetValue<string>().Should().Be("Vehicle");
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(80);
    }

    [Fact]
    public async Task Create_existing_entity_returns_409_AlreadyExists()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""");

        var again = await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""");

        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Fact]
    public async Task Create_entity_with_every_attribute_type_keeps_each_type()
    {
        var id = Api.NewId("Vehicle");
        var body = $$$$"""
        {
          "id": "{{{{id}}}}", "type": "Vehicle",
          "brandName": {"type": "Property", "value": "Mercedes"},
          "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1", "observedAt": "2017-07-29T12:00:04Z",
                       "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"}},
          "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-8.5, 41.2]}},
          "street": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
          "category": {"type": "VocabProperty", "vocab": "non-commercial"},
          "config": {"type": "JsonProperty", "json": {"a": [1, 2], "b": {"c": true}}},
          "tyreTreadDepths": {"type": "ListProperty", "valueList": [300, 300, 120, 6], "unitCode": "MMT"},
          "route": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:City:Antwerp"}, {"object": "urn:ngsi-ld:City:Rotterdam"}]}
        }
        """;
        await _client.CreateOkAsync(body);

        var entity = await _client.GetEntityAsync(id);

        entity["brandName"]!["type"]!.GetValue<string>().Should().Be("Property");
        entity["isParked"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:OffStreetParking:Downtown1");
        entity["isParked"]!["observedAt"]!.GetValue<string>().Should().Be("2017-07-29T12:00:04Z");
        entity["isParked"]!["providedBy"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:Bob");
        entity["location"]!["type"]!.GetValue<string>().Should().Be("GeoProperty");
        entity["street"]!["languageMap"]!["nl"]!.GetValue<string>().Should().Be("Grote Markt");
        entity["category"]!["vocab"]!.GetValue<string>().Should().Be("non-commercial");
        JsonNode.DeepEquals(entity["config"]!["json"], JsonNode.Parse("""{"a":[1,2],"b":{"c":true}}""")).Should().BeTrue();
        entity["tyreTreadDepths"]!["valueList"]!.AsArray().Should().HaveCount(4);
        entity["tyreTreadDepths"]!["unitCode"]!.GetValue<string>().Should().Be("MMT");
        entity["route"]!["objectList"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task Create_entity_in_concise_form_is_read_back_normalized()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$$"""
        {"id":"{{{{id}}}}","type":"Vehicle","brandName":"Mercedes","speed":{"value":55,"unitCode":"KMH"},
         "isParked":{"object":"urn:ngsi-ld:Parking:1"},"location":{"type":"Point","coordinates":[2.1,41.4]},
         "street":{"languageMap":{"en":"Main Street"}},"category":{"vocab":"commercial"},"colors":["red","blue"]}
        """);

        var entity = await _client.GetEntityAsync(id);

        entity["brandName"]!.ToJsonString().Should().Be("""{"type":"Property","value":"Mercedes"}""");
        entity["speed"]!["type"]!.GetValue<string>().Should().Be("Property");
        entity["isParked"]!["type"]!.GetValue<string>().Should().Be("Relationship");
        entity["location"]!["type"]!.GetValue<string>().Should().Be("GeoProperty");
        entity["street"]!["type"]!.GetValue<string>().Should().Be("LanguageProperty");
        entity["category"]!["type"]!.GetValue<string>().Should().Be("VocabProperty");
        entity["colors"]!["value"]!.AsArray().Select(c => c!.GetValue<string>()).Should().Equal("red", "blue");
    }

    [Fact]
    public async Task Create_entity_with_several_types_and_scopes()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":["Building","Shop"],"scope":["/Madrid/Gardens","/Company/Ops"]}""");

        var entity = await _client.GetEntityAsync(id);

        entity["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Building", "Shop");
        entity["scope"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("/Madrid/Gardens", "/Company/Ops");
    }

    [Fact]
    public async Task Create_multi_attribute_by_datasetId_reads_back_as_an_array()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""
        {"id":"{{{{id}}}}","type":"T","speed":[{"type":"Property","value":55,"datasetId":"urn:ngsi-ld:Dataset:gps"},
                                          {"type":"Property","value":54}]}
        """);

        var entity = await _client.GetEntityAsync(id);

        var speeds = entity["speed"]!.AsArray();
        speeds.Should().HaveCount(2);
        speeds.Select(s => s!["datasetId"]?.GetValue<string>()).Should().Contain(["urn:ngsi-ld:Dataset:gps", null]);
    }

    [Fact]
    public async Task Create_multi_attribute_with_duplicate_datasetId_is_rejected()
    {
        var response = await _client.CreateAsync($$$$"""
        {"id":"{{{{Api.NewId()}}}}","type":"T","speed":[{"type":"Property","value":1},{"type":"Property","value":2}]}
        """);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task System_attributes_appear_only_with_sysAttrs()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","p":{"type":"Property","value":1,"sub":{"type":"Property","value":2}}}""");

        var plain = await _client.GetEntityAsync(id);
        var withSys = await _client.GetEntityAsync(id, "?options=sysAttrs");

        plain.ContainsKey("createdAt").Should().BeFalse();
        plain["p"]!.AsObject().ContainsKey("modifiedAt").Should().BeFalse();
        DateTimeOffset.Parse(withSys["createdAt"]!.GetValue<string>()).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        withSys["modifiedAt"]!.GetValue<string>().Should().EndWith("Z");
        withSys["p"]!["createdAt"].Should().NotBeNull();
        withSys["p"]!["sub"]!["modifiedAt"].Should().NotBeNull();
    }

    [Fact]
    public async Task Client_supplied_createdAt_is_ignored()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","createdAt":"2000-01-01T00:00:00Z","p":{"type":"Property","value":1,"createdAt":"2000-01-01T00:00:00Z"}}""");

        var entity = await _client.GetEntityAsync(id, "?options=sysAttrs");

        entity["createdAt"]!.GetValue<string>().Should().NotStartWith("2000");
        entity["p"]!["createdAt"]!.GetValue<string>().Should().NotStartWith("2000");
    }
}
