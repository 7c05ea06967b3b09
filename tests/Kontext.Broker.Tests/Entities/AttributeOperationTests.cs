using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Append (5.6.3), Update (5.6.2), Partial Attribute Update (5.6.4), Replace Attribute (5.6.19), Delete Attribute (5.6.5).</summary>
[Collection(BrokerCollection.Name)]
public sealed class AttributeOperationTests(BrokerFixture fixture)
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateAsync()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$$"""
        {"id":"{{{{id}}}}","type":"Vehicle",
         "speed":[{"type":"Property","value":55,"unitCode":"KMH","source":{"type":"Property","value":"radar"}},
                  {"type":"Property","value":56,"datasetId":"urn:ngsi-ld:Dataset:gps"}],
         "isParked":{"type":"Relationship","object":"urn:ngsi-ld:Parking:P1","observedAt":"2024-01-01T10:00:00Z"}}
        """);
        return id;
    }

    private string Attrs(string id, string attr = "") => $"{Api.Entities}/{id}/attrs/{attr}";

    [Fact]
    public async Task Append_adds_new_attributes_and_overwrites_existing_ones()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Post, Attrs(id), """{"color":"red","isParked":{"type":"Relationship","object":"urn:ngsi-ld:Parking:P2"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var entity = await _client.GetEntityAsync(id);
        entity["color"]!["value"]!.GetValue<string>().Should().Be("red");
        entity["isParked"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Parking:P2");
    }

    [Fact]
    public async Task Append_with_noOverwrite_keeps_existing_attributes_and_reports_207()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Post, Attrs(id) + "?options=noOverwrite", """{"color":"red","isParked":{"type":"Relationship","object":"urn:ngsi-ld:Parking:P2"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var result = await response.JsonAsync();
        result["updated"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(Default + "color");
        result["notUpdated"]![0]!["attributeName"]!.GetValue<string>().Should().Be(Default + "isParked");
        result["notUpdated"]![0]!["reason"]!.GetValue<string>().Should().NotBeEmpty();
        (await _client.GetEntityAsync(id))["isParked"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Parking:P1");
    }

    [Fact]
    public async Task Append_a_new_datasetId_instance_keeps_the_others()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Post, Attrs(id) + "?options=noOverwrite", """{"speed":{"type":"Property","value":57,"datasetId":"urn:ngsi-ld:Dataset:lidar"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["speed"]!.AsArray().Should().HaveCount(3);
    }

    [Fact]
    public async Task Append_to_unknown_entity_returns_404()
    {
        var response = await _client.Send(HttpMethod.Post, Attrs(Api.NewId()), """{"color":"red"}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Append_with_empty_entity_id_returns_400()
    {
        var response = await _client.Send(HttpMethod.Post, $"{Api.Entities}//attrs/", """{"color":"red"}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Append_scope_replaces_it_and_with_noOverwrite_adds_to_it()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","scope":"/A"}""");

        await _client.Send(HttpMethod.Post, Attrs(id), """{"scope":"/B"}""");
        (await _client.GetEntityAsync(id))["scope"]!.GetValue<string>().Should().Be("/B");
        await _client.Send(HttpMethod.Post, Attrs(id) + "?options=noOverwrite", """{"scope":"/C"}""");
        (await _client.GetEntityAsync(id))["scope"]!.AsArray().Select(s => s!.GetValue<string>()).Should().Equal("/B", "/C");
    }

    [Fact]
    public async Task Partial_update_of_an_attribute_named_value_reads_its_body_as_the_bare_fragment()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Vehicle","value":{"type":"Property","value":1}}""");

        // { "value": {...} } is the fragment's own value here, not the fragment wrapped in the attribute's name.
        var response = await _client.Send(HttpMethod.Patch, Attrs(id, "value"), """{"value":{"a":2}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["value"]!["value"]!.ToJsonString().Should().Be("""{"a":2}""");
    }

    [Theory]
    [InlineData("""{"speed":{"type":"Property","value":7},"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}""", 7)]
    [InlineData("""{"type":"Property","value":8,"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}""", 8)]
    public async Task Replace_attribute_in_json_ld_reads_the_body_without_its_context_bare_or_wrapped_in_the_name(string body, int value)
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Put, Attrs(id, "speed"), body, "application/ld+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var speed = (await _client.GetEntityAsync(id))["speed"]!.AsArray().Single(i => i!["datasetId"] is null)!;
        speed["value"]!.GetValue<int>().Should().Be(value);
        speed.AsObject().ContainsKey("@context").Should().BeFalse();
    }

    [Fact]
    public async Task Update_reads_no_id_from_its_body_and_leaves_a_json_ld_body_s_context_out_of_the_attributes()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id),
            """{"id":"urn:ngsi-ld:Vehicle:another","color":"red","@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}""", "application/ld+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var entity = await _client.GetEntityAsync(id);
        entity["id"]!.GetValue<string>().Should().Be(id);
        entity["color"]!["value"]!.GetValue<string>().Should().Be("red");
    }

    private const string CoreContext = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

    /// <summary>Session 15: the parser is told not to read the id (no copy of the body without it); any id is left unread.</summary>
    [Theory]
    [InlineData("""{"id":5,"color":"red"}""")]
    [InlineData("""{"color":"red","@id":"urn:ngsi-ld:Vehicle:another"}""")]
    [InlineData("""{"id":null,"@id":["x"],"color":"red"}""")]
    public async Task Update_reads_no_id_of_any_kind_from_its_body(string body)
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), body);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var entity = await _client.GetEntityAsync(id);
        entity["id"]!.GetValue<string>().Should().Be(id);
        entity["color"]!["value"]!.GetValue<string>().Should().Be("red");
    }

    [Theory]
    [InlineData("""{"id":"urn:ngsi-ld:Vehicle:another","color":"red"}""")]
    [InlineData("""{"id":5,"color":"red"}""")]
    public async Task Append_still_reads_the_id_of_its_body_and_refuses_another(string body)
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Post, Attrs(id), body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.GetEntityAsync(id)).ContainsKey("color").Should().BeFalse();
    }

    /// <summary>
    /// Session 15: an attribute body's @context is skipped by the parser wherever it stands (no copy of the body without
    /// it), escaped or not; a fragment wrapped in the attribute's name that carries an @context of its own is refused as before.
    /// </summary>
    [Theory]
    [InlineData("""{"@context":"CTX","type":"Property","value":9}""", 9)]
    [InlineData("""{"type":"Property","@context":"CTX","value":10}""", 10)]
    [InlineData("""{"\u0040context":"CTX","value":11}""", 11)]
    [InlineData("""{"@context":"CTX","speed":{"value":12}}""", 12)]
    public async Task Partial_update_in_json_ld_skips_the_body_s_context_wherever_it_stands(string body, int value)
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id, "speed"), body.Replace("CTX", CoreContext), "application/ld+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var speed = (await _client.GetEntityAsync(id))["speed"]!.AsArray().Single(i => i!["datasetId"] is null)!;
        speed["value"]!.GetValue<int>().Should().Be(value);
        speed.AsObject().ContainsKey("@context").Should().BeFalse();
    }

    [Theory]
    [InlineData("PUT", """{"speed":{"type":"Property","value":7,"@context":"CTX"},"@context":"CTX"}""")]
    [InlineData("PATCH", """{"@context":"CTX","speed":{"value":7,"@context":"CTX"}}""")]
    [InlineData("PATCH", """{"@context":"CTX","value":7,"sub":{"value":1,"@context":"CTX"}}""")]
    public async Task An_attribute_body_refuses_an_context_inside_the_attribute(string method, string body)
    {
        var id = await CreateAsync();

        var response = await _client.Send(new HttpMethod(method), Attrs(id, "speed"), body.Replace("CTX", CoreContext), "application/ld+json");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.GetEntityAsync(id))["speed"]!.AsArray().Single(i => i!["datasetId"] is null)!["value"]!.GetValue<int>().Should().Be(55);
    }

    [Fact]
    public async Task Update_replaces_the_default_instance_only()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), """{"speed":{"type":"Property","value":99}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var speeds = (await _client.GetEntityAsync(id))["speed"]!.AsArray();
        speeds.Single(s => s!["datasetId"] is null)!.ToJsonString().Should().Be("""{"type":"Property","value":99}""");
        speeds.Single(s => s!["datasetId"] is not null)!["value"]!.GetValue<int>().Should().Be(56);
    }

    [Fact]
    public async Task Update_appends_an_attribute_the_entity_lacks_and_returns_204()
    {
        // v1.9.1 clause 5.6.2 (the v1.8 broker answered 207 and left the attribute out).
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), """{"speed":{"type":"Property","value":1},"missing":{"type":"Property","value":2}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var entity = await _client.GetEntityAsync(id);
        entity["missing"]!["value"]!.GetValue<int>().Should().Be(2);
        entity["speed"]!.AsArray().Should().HaveCount(2, "the default instance was replaced, the dataset instance kept");
    }

    [Fact]
    public async Task Update_with_ngsi_ld_null_for_an_attribute_the_entity_lacks_returns_207()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), """{"missing":{"type":"Property","value":"urn:ngsi-ld:null"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var result = await response.JsonAsync();
        result["notUpdated"]![0]!["attributeName"]!.GetValue<string>().Should().Be(Default + "missing");
    }

    [Fact]
    public async Task Update_with_ngsi_ld_null_deletes_the_instance()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), """{"speed":{"type":"Property","value":"urn:ngsi-ld:null","datasetId":"urn:ngsi-ld:Dataset:gps"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["speed"]!["datasetId"].Should().BeNull();
    }

    [Fact]
    public async Task Update_adds_entity_types()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id), """{"type":["Vehicle","Car"]}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Vehicle", "Car");
    }

    [Fact]
    public async Task Partial_update_merges_the_fragment_and_keeps_the_rest()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, Attrs(id, "isParked"), """{"providedBy":{"type":"Relationship","object":"urn:ngsi-ld:Person:Bob"}}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var isParked = (await _client.GetEntityAsync(id))["isParked"]!;
        isParked["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Parking:P1");
        isParked["observedAt"]!.GetValue<string>().Should().Be("2024-01-01T10:00:00Z");
        isParked["providedBy"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:Bob");
    }

    [Fact]
    public async Task Partial_update_of_a_value_keeps_unitCode_and_sub_attributes()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Patch, Attrs(id, "speed"), """{"value":70}""");

        var speed = (await _client.GetEntityAsync(id))["speed"]!.AsArray().Single(s => s!["datasetId"] is null)!;
        speed["value"]!.GetValue<int>().Should().Be(70);
        speed["unitCode"]!.GetValue<string>().Should().Be("KMH");
        speed["source"]!["value"]!.GetValue<string>().Should().Be("radar");
    }

    [Fact]
    public async Task Partial_update_targets_the_datasetId_instance()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Patch, Attrs(id, "speed"), """{"value":71,"datasetId":"urn:ngsi-ld:Dataset:gps"}""");

        var speeds = (await _client.GetEntityAsync(id))["speed"]!.AsArray();
        speeds.Single(s => s!["datasetId"] is not null)!["value"]!.GetValue<int>().Should().Be(71);
        speeds.Single(s => s!["datasetId"] is null)!["value"]!.GetValue<int>().Should().Be(55);
    }

    [Theory]
    [InlineData("nothing", """{"value":1}""", HttpStatusCode.NotFound, "ResourceNotFound")]
    [InlineData("speed", """{"value":1,"datasetId":"urn:ngsi-ld:Dataset:none"}""", HttpStatusCode.NotFound, "ResourceNotFound")]
    [InlineData("speed", "{}", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("speed", """{"type":"Relationship","object":"urn:a:b"}""", HttpStatusCode.BadRequest, "BadRequestData")]
    public async Task Partial_update_errors(string attribute, string body, HttpStatusCode status, string type)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Patch, Attrs(id, attribute), body);
        await response.ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task Partial_update_with_ngsi_ld_null_deletes_the_attribute()
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Patch, Attrs(id, "isParked"), """{"object":"urn:ngsi-ld:null"}""");
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id)).ContainsKey("isParked").Should().BeFalse();
    }

    [Fact]
    public async Task Replace_attribute_replaces_the_whole_instance_and_keeps_createdAt()
    {
        var id = await CreateAsync();
        var before = (await _client.GetEntityAsync(id, "?options=sysAttrs"))["isParked"]!["createdAt"]!.GetValue<string>();

        var response = await _client.Send(HttpMethod.Put, Attrs(id, "isParked"), """{"type":"Property","value":false}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var isParked = (await _client.GetEntityAsync(id, "?options=sysAttrs"))["isParked"]!;
        isParked["type"]!.GetValue<string>().Should().Be("Property");
        isParked["value"]!.GetValue<bool>().Should().BeFalse();
        isParked["observedAt"].Should().BeNull();
        isParked["createdAt"]!.GetValue<string>().Should().Be(before);
    }

    [Theory]
    [InlineData("brandName", HttpStatusCode.NotFound, "ResourceNotFound")]
    [InlineData("scope", HttpStatusCode.BadRequest, "BadRequestData")]
    public async Task Replace_attribute_errors(string attribute, HttpStatusCode status, string type)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Put, Attrs(id, attribute), """{"type":"Property","value":1}""");
        await response.ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task Delete_attribute_removes_the_default_instance_only()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Delete, Attrs(id, "speed"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["speed"]!["datasetId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Dataset:gps");
    }

    [Fact]
    public async Task Delete_attribute_with_datasetId_removes_that_instance()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Delete, Attrs(id, "speed") + "?datasetId=urn:ngsi-ld:Dataset:gps");

        (await _client.GetEntityAsync(id))["speed"]!["datasetId"].Should().BeNull();
    }

    [Fact]
    public async Task Delete_attribute_with_deleteAll_removes_every_instance()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Delete, Attrs(id, "speed") + "?deleteAll=true");

        (await _client.GetEntityAsync(id)).ContainsKey("speed").Should().BeFalse();
    }

    [Theory]
    [InlineData("nothing", "")]
    [InlineData("speed", "?datasetId=urn:ngsi-ld:Dataset:none")]
    public async Task Delete_attribute_that_does_not_exist_returns_404(string attribute, string query)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Delete, Attrs(id, attribute) + query);
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Delete_on_the_attribute_collection_is_405()
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Delete, Attrs(id));
        await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed");
    }

    [Fact]
    public async Task Delete_scope_removes_it()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","scope":"/A"}""");

        (await _client.Send(HttpMethod.Delete, Attrs(id, "scope"))).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await _client.GetEntityAsync(id)).ContainsKey("scope").Should().BeFalse();
    }

    [Fact]
    public async Task Modification_updates_modifiedAt_and_keeps_createdAt()
    {
        var id = await CreateAsync();
        var before = await _client.GetEntityAsync(id, "?options=sysAttrs");
        await Task.Delay(5);

        await _client.Send(HttpMethod.Post, Attrs(id), """{"color":"red"}""");

        var after = await _client.GetEntityAsync(id, "?options=sysAttrs");
        after["createdAt"]!.GetValue<string>().Should().Be(before["createdAt"]!.GetValue<string>());
        DateTimeOffset.Parse(after["modifiedAt"]!.GetValue<string>()).Should().BeAfter(DateTimeOffset.Parse(before["modifiedAt"]!.GetValue<string>()));
    }
}
