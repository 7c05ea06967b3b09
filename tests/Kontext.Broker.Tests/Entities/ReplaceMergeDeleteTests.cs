using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Replace Entity (5.6.18), Merge Entity (5.6.17), Delete Entity (5.6.6).</summary>
[Collection(BrokerCollection.Name)]
public sealed class ReplaceMergeDeleteTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateAsync()
    {
        var id = Api.NewId("Sensor");
        await _client.CreateOkAsync($$$$"""
        {"id":"{{{{id}}}}","type":"Sensor","scope":"/A",
         "temperature":[{"type":"Property","value":20,"unitCode":"CEL","observedAt":"2024-01-01T00:00:00Z"},
                        {"type":"Property","value":21,"datasetId":"urn:ngsi-ld:Dataset:b"}],
         "name":"one","status":{"type":"Property","value":"ok","reason":{"type":"Property","value":"none"}}}
        """);
        return id;
    }

    [Fact]
    public async Task Replace_entity_swaps_all_attributes_and_keeps_createdAt()
    {
        var id = await CreateAsync();
        var before = await _client.GetEntityAsync(id, "?options=sysAttrs");

        var response = await _client.Send(HttpMethod.Put, $"{Api.Entities}/{id}", $$$$"""{"id":"{{{{id}}}}","type":"Sensor2","humidity":50}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var after = await _client.GetEntityAsync(id, "?options=sysAttrs");
        after["type"]!.GetValue<string>().Should().Be("Sensor2");
        after.Select(p => p.Key).Should().BeEquivalentTo("id", "type", "createdAt", "modifiedAt", "humidity");
        after["createdAt"]!.GetValue<string>().Should().Be(before["createdAt"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("urn:ngsi-ld:Other:1", HttpStatusCode.BadRequest, "BadRequestData")]
    public async Task Replace_entity_with_another_id_in_the_body_is_rejected(string bodyId, HttpStatusCode status, string type)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Put, $"{Api.Entities}/{id}", $$$$"""{"id":"{{{{bodyId}}}}","type":"Sensor"}""");
        await response.ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task Replace_unknown_entity_is_404_and_without_id_is_400()
    {
        var unknown = await _client.Send(HttpMethod.Put, $"{Api.Entities}/{Api.NewId()}", """{"type":"Sensor"}""");
        var noId = await _client.Send(HttpMethod.Put, $"{Api.Entities}/", """{"type":"Sensor"}""");

        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await noId.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Merge_changes_given_members_and_keeps_the_rest()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}",
            """{"temperature":{"type":"Property","value":25,"observedAt":"2024-02-01T00:00:00Z"},"status":{"reason":{"type":"Property","value":"maintenance"}},"extra":1}""",
            contentType: "application/merge-patch+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var entity = await _client.GetEntityAsync(id);
        var temperature = entity["temperature"]!.AsArray().Single(t => t!["datasetId"] is null)!;
        temperature["value"]!.GetValue<int>().Should().Be(25);
        temperature["unitCode"]!.GetValue<string>().Should().Be("CEL");
        temperature["observedAt"]!.GetValue<string>().Should().Be("2024-02-01T00:00:00Z");
        entity["status"]!["value"]!.GetValue<string>().Should().Be("ok");
        entity["status"]!["reason"]!["value"]!.GetValue<string>().Should().Be("maintenance");
        entity["name"]!["value"]!.GetValue<string>().Should().Be("one");
        entity["extra"]!["value"]!.GetValue<int>().Should().Be(1);
    }

    [Fact]
    public async Task Merge_with_ngsi_ld_null_deletes_attributes_and_sub_attributes()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"name":"urn:ngsi-ld:null","status":{"reason":"urn:ngsi-ld:null"}}""");

        var entity = await _client.GetEntityAsync(id);
        entity.ContainsKey("name").Should().BeFalse();
        entity["status"]!.AsObject().ContainsKey("reason").Should().BeFalse();
        entity["status"]!["value"]!.GetValue<string>().Should().Be("ok");
    }

    [Fact]
    public async Task Merge_null_without_datasetId_deletes_only_the_default_instance()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"temperature":{"type":"Property","value":"urn:ngsi-ld:null"}}""");

        (await _client.GetEntityAsync(id))["temperature"]!["datasetId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Dataset:b");
    }

    [Fact]
    public async Task Merge_null_with_datasetId_deletes_that_instance()
    {
        var id = await CreateAsync();

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"temperature":{"type":"Property","value":"urn:ngsi-ld:null","datasetId":"urn:ngsi-ld:Dataset:b"}}""");

        (await _client.GetEntityAsync(id))["temperature"]!["datasetId"].Should().BeNull();
    }

    [Fact]
    public async Task Merge_null_language_map_deletes_the_language_property()
    {
        var id = await CreateAsync();
        await _client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"street":{"type":"LanguageProperty","languageMap":{"en":"Main"}}}""");

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"street":{"type":"LanguageProperty","languageMap":{"@none":"urn:ngsi-ld:null"}}}""");

        (await _client.GetEntityAsync(id)).ContainsKey("street").Should().BeFalse();
    }

    [Fact]
    public async Task Merge_unknown_entity_is_404_and_empty_id_is_400()
    {
        var unknown = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{Api.NewId()}", """{"a":1}""");
        var empty = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/", """{"a":1}""");

        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await empty.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Ngsi_ld_null_outside_merge_is_rejected()
    {
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T","a":"urn:ngsi-ld:null"}""");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Delete_entity_returns_204_and_the_entity_is_gone()
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var again = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}");
        await again.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Theory]
    [InlineData("thisisaninvaliduri", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("urn:ngsi-ld:Nothing:here", HttpStatusCode.NotFound, "ResourceNotFound")]
    public async Task Delete_entity_errors(string id, HttpStatusCode status, string type)
    {
        var response = await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}");
        await response.ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task A_deleted_entity_can_be_created_again()
    {
        var id = await CreateAsync();
        await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}");

        var response = await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"Sensor"}""");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }
}
