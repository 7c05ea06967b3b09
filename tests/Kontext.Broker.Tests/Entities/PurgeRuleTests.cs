using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Purge Entities (clause 5.6.21): keep and drop, and the filters that make a purge narrow enough (5.6.21.4).</summary>
[Collection(BrokerCollection.Name)]
public sealed class PurgeRuleTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "purge-rules-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> CreateAsync()
    {
        var id = Api.NewId("Building");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"Building","name":"n","subCategory":"s","height":3}""", tenant: _tenant);
        return id;
    }

    [Fact]
    public async Task Drop_removes_the_named_attributes_and_keeps_the_entities()
    {
        var id = await CreateAsync();

        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}?type=Building&drop=name", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var entity = await _client.GetEntityAsync(id, tenant: _tenant);
        entity.ContainsKey("name").Should().BeFalse();
        entity.ContainsKey("subCategory").Should().BeTrue();
    }

    [Fact]
    public async Task Keep_removes_every_attribute_but_the_named_ones()
    {
        var id = await CreateAsync();

        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}?id={id}&type=Building&keep=name", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var entity = await _client.GetEntityAsync(id, tenant: _tenant);
        entity.ContainsKey("name").Should().BeTrue();
        entity.ContainsKey("subCategory").Should().BeFalse();
        entity.ContainsKey("height").Should().BeFalse();
    }

    [Theory]
    [InlineData("type=Building&keep=name&drop=subCategory")]
    [InlineData("id={id}")]
    [InlineData("idPattern=.*")]
    [InlineData("attrs=createdAt")]
    [InlineData("q=modifiedAt>\"2020-01-01T00:00:00Z\"")]
    [InlineData("type=Building&q=owner{name}==\"x\"")]
    [InlineData("type=Building&attrs=owner{name}")]
    public async Task A_purge_that_is_too_wide_or_retrieves_linked_entities_is_400_and_deletes_nothing(string query)
    {
        var id = await CreateAsync();

        var response = await _client.Send(HttpMethod.Delete, $"{Api.Entities}?{query.Replace("{id}", id)}", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.GetEntityAsync(id, tenant: _tenant))["subCategory"].Should().NotBeNull();
    }

    [Fact]
    public async Task Local_scope_alone_qualifies()
    {
        await CreateAsync();

        var response = await _client.Send(HttpMethod.Delete, $"{Api.Entities}?local=true", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }
}
