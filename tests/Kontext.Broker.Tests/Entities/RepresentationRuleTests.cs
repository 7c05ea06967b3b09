using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>What an entity may and may not carry when it is written (clauses 4.5, 4.6, 4.7, 5.5): refused payloads, normalized ones.</summary>
[Collection(BrokerCollection.Name)]
public sealed class RepresentationRuleTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("type is a keyword", """{"type":"type"}""")]
    [InlineData("type starts with a digit", """{"type":"9Vehicle"}""")]
    [InlineData("datasetId names an attribute", """{"type":"T","datasetId":{"type":"Property","value":1}}""")]
    [InlineData("instanceId names an attribute", """{"type":"T","instanceId":{"type":"Property","value":1}}""")]
    [InlineData("observedAt names an attribute", """{"type":"T","observedAt":{"type":"Property","value":"2026-01-01T00:00:00Z"}}""")]
    [InlineData("attribute name starts with an underscore", """{"type":"T","_private":{"type":"Property","value":1}}""")]
    [InlineData("embedded @context in an attribute", """{"type":"T","speed":{"type":"Property","value":1,"@context":{"speed":"https://example.org/s"}}}""")]
    [InlineData("output-only previousValue", """{"type":"T","speed":{"type":"Property","value":1,"previousValue":0}}""")]
    [InlineData("output-only previousObject", """{"type":"T","owner":{"type":"Relationship","object":"urn:a:b","previousObject":"urn:a:c"}}""")]
    [InlineData("entityIdSealed outside ngsildproof", """{"type":"T","speed":{"type":"Property","value":1,"entityIdSealed":"urn:a:b"}}""")]
    [InlineData("ngsildproof value that is not an object", """{"type":"T","ngsildproof":{"type":"Property","value":"proof"}}""")]
    [InlineData("entityTypeSealed that is not a string", """{"type":"T","ngsildproof":{"type":"Property","value":{"type":"DataIntegrityProof"},"entityTypeSealed":42}}""")]
    [InlineData("unitCode on a Relationship", """{"type":"T","owner":{"type":"Relationship","object":"urn:a:b","unitCode":"MTR"}}""")]
    [InlineData("unitCode on a JsonProperty", """{"type":"T","doc":{"type":"JsonProperty","json":{"a":1},"unitCode":"MTR"}}""")]
    [InlineData("GeometryCollection", """{"type":"T","location":{"type":"GeoProperty","value":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}}}""")]
    [InlineData("string that is no geometry", """{"type":"T","location":{"type":"GeoProperty","value":"not a geometry"}}""")]
    [InlineData("LanguageProperty valueType other than langString", """{"type":"T","name":{"type":"LanguageProperty","languageMap":{"en":"x"},"valueType":"xsd:string"}}""")]
    [InlineData("empty language tag", """{"type":"T","name":{"type":"LanguageProperty","languageMap":{"":"x"}}}""")]
    [InlineData("NGSI-LD Null inside a value", """{"type":"T","address":{"type":"Property","value":{"geo":{"country":"urn:ngsi-ld:null"}}}}""")]
    [InlineData("NGSI-LD Null as scope", """{"type":"T","scope":"urn:ngsi-ld:null"}""")]
    [InlineData("two default instances", """{"type":"T","speed":[{"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"@none"}]}""")]
    [InlineData("malformed expiresAt", """{"type":"T","expiresAt":"2026-13-45T00:00:00Z"}""")]
    [InlineData("malformed attribute expiresAt", """{"type":"T","speed":{"type":"Property","value":1,"expiresAt":"soon"}}""")]
    public async Task Create_refuses_content_the_representation_forbids_with_400_BadRequestData(string because, string members)
    {
        var id = Api.NewId();
        var body = JsonNode.Parse(members)!.AsObject();
        body["id"] = id;

        var response = await _client.CreateAsync(body.ToJsonString());

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound, because);
    }

    [Fact]
    public async Task NGSI_LD_Null_is_no_entity_id()
    {
        var response = await _client.CreateAsync("""{"id":"urn:ngsi-ld:null","type":"T"}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_user_context_with_a_scoped_context_is_refused()
    {
        var response = await _client.CreateAsync(
            $$$$"""{"id":"{{{{Api.NewId()}}}}","type":"Car","@context":[{"Car":{"@id":"https://example.org/Car","@context":{"speed":"https://example.org/hidden"}}}]}""",
            "application/ld+json");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Explicit_none_datasetId_is_the_default_instance()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","speed":[{"type":"Property","value":55,"datasetId":"@none"},{"type":"Property","value":11,"datasetId":"urn:ngsi-ld:Dataset:gps"}]}""");

        var speed = (await _client.GetEntityAsync(id))["speed"]!.AsArray();

        speed.Should().HaveCount(2);
        speed.Single(i => i!["datasetId"] is null)!["value"]!.GetValue<int>().Should().Be(55);
    }

    [Fact]
    public async Task ObjectList_entries_are_served_in_the_object_form()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","route":{"type":"ListRelationship","objectList":["urn:ngsi-ld:Road:1",{"object":"urn:ngsi-ld:Road:2"}]}}""");

        var list = (await _client.GetEntityAsync(id))["route"]!["objectList"]!.AsArray();

        list.Select(e => e!["object"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2");
    }

    [Fact]
    public async Task A_geometry_encoded_in_a_string_is_kept_as_the_geometry()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","location":{"type":"GeoProperty","value":"{\"type\": \"Point\", \"coordinates\": [17.1, 48.7]}"}}""");

        var value = (await _client.GetEntityAsync(id))["location"]!["value"]!;

        JsonNode.DeepEquals(value, JsonNode.Parse("""{"type":"Point","coordinates":[17.1,48.7]}""")).Should().BeTrue(value.ToJsonString());
    }

    [Fact]
    public async Task The_proof_property_round_trips_with_its_sealed_members_as_plain_strings()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$$"""
            {"id":"{{{{id}}}}","type":"Vehicle","ngsildproof":{"type":"Property","entityIdSealed":"{{{{id}}}}","entityTypeSealed":"Vehicle",
             "value":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofValue":"z3Qe"}}}
            """);

        var proof = (await _client.GetEntityAsync(id))["ngsildproof"]!;

        proof["entityIdSealed"]!.GetValue<string>().Should().Be(id);
        proof["entityTypeSealed"]!.GetValue<string>().Should().Be("Vehicle");
        proof["value"]!["proofValue"]!.GetValue<string>().Should().Be("z3Qe");
    }

    [Fact]
    public async Task A_legal_valueType_and_objectType_are_kept()
    {
        var id = Api.NewId();
        var response = await _client.CreateAsync($$$$"""
            {"id":"{{{{id}}}}","type":"T","speed":{"type":"Property","value":1,"valueType":"xsd:double"},
             "parked":{"type":"Relationship","object":"urn:a:b","objectType":"Parking"},
             "name":{"type":"LanguageProperty","languageMap":{"en":"x","sk":["a","b"]},"valueType":"langString"}}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Merge_removes_a_key_of_a_compound_value_set_to_NGSI_LD_Null_and_keeps_the_others()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","address":{"type":"Property","value":{"street":"A","city":"Berlin","country":"Germany"}}}""");

        var response = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"address":{"type":"Property","value":{"street":"B","country":"urn:ngsi-ld:null"}}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var value = (await _client.GetEntityAsync(id))["address"]!["value"]!.AsObject();
        value["street"]!.GetValue<string>().Should().Be("B");
        value["city"]!.GetValue<string>().Should().Be("Berlin");
        value.ContainsKey("country").Should().BeFalse();
    }

    [Fact]
    public async Task Partial_update_with_NGSI_LD_Null_inside_a_value_is_400_and_changes_nothing()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","address":{"type":"Property","value":{"country":"Germany"}}}""");

        var response = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/address", """{"value":{"country":"urn:ngsi-ld:null"}}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.GetEntityAsync(id))["address"]!["value"]!["country"]!.GetValue<string>().Should().Be("Germany");
    }

    [Fact]
    public async Task A_datasetId_cannot_be_set_to_NGSI_LD_Null()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","speed":{"type":"Property","value":1}}""");

        var response = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/speed", """{"datasetId":"urn:ngsi-ld:null"}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
