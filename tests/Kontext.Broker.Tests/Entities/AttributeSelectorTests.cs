using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>The type selector of the attribute operations (clauses 5.6.2–5.6.5, 4.17) and what names they accept.</summary>
[Collection(BrokerCollection.Name)]
public sealed class AttributeSelectorTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateBuildingAsync()
    {
        var id = Api.NewId("Building");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Building","scope":"/Madrid","name":{"type":"Property","value":"x"}}""");
        return id;
    }

    [Theory]
    [InlineData("POST", "/attrs/", """{"name":{"type":"Property","value":"y"}}""")]
    [InlineData("PATCH", "/attrs/", """{"name":{"type":"Property","value":"y"}}""")]
    [InlineData("PATCH", "/attrs/name", """{"value":"y"}""")]
    [InlineData("PUT", "/attrs/name", """{"type":"Property","value":"y"}""")]
    public async Task A_type_selector_naming_another_type_is_404_and_the_entity_type_lets_the_write_through(string method, string path, string body)
    {
        var id = await CreateBuildingAsync();

        var other = await _client.Send(new HttpMethod(method), $"{Api.Entities}/{id}{path}?type=Vehicle", body);
        await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        (await _client.GetEntityAsync(id))["name"]!["value"]!.GetValue<string>().Should().Be("x");

        var same = await _client.Send(new HttpMethod(method), $"{Api.Entities}/{id}{path}?type=Building", body);
        same.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["name"]!["value"]!.GetValue<string>().Should().Be("y");
    }

    [Fact]
    public async Task Delete_attribute_is_gated_by_the_type_selector_and_scope_is_deletable()
    {
        var id = await CreateBuildingAsync();

        await (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/name?type=Vehicle")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/scope?type=Building")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await _client.GetEntityAsync(id)).ContainsKey("scope").Should().BeFalse();
    }

    [Fact]
    public async Task Scope_cannot_be_partially_updated()
    {
        var id = await CreateBuildingAsync();

        var response = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/scope", """{"value":"/Barcelona"}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.GetEntityAsync(id))["scope"]!.GetValue<string>().Should().Be("/Madrid");
    }

    [Fact]
    public async Task A_keyword_as_attribute_name_in_the_url_is_400()
    {
        var id = await CreateBuildingAsync();

        var response = await _client.Send(HttpMethod.Put, $"{Api.Entities}/{id}/attrs/@invalid", """{"type":"Property","value":1}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
