using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Entity ordering (clause 4.23): orderBy on GET /entities and the ordering member of a Query body (clause 5.2.43).</summary>
public sealed class EntityOrderingTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "ordering-" + Guid.NewGuid().ToString("N")[..8];

    public EntityOrderingTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        // Created out of order: the store's creation order must not leak into an ordered answer.
        string[] bodies =
        [
            """{"id":"urn:ngsi-ld:Stop:b","type":"Stop","name":{"type":"Property","value":"b","rank":{"type":"Property","value":2}},"lines":"x","address":{"type":"Property","value":{"city":"Bilbao"}},"location":{"type":"Point","coordinates":[1.0,41.0]}}""",
            """{"id":"urn:ngsi-ld:Stop:a","type":"Stop","name":{"type":"Property","value":"A","rank":{"type":"Property","value":3}},"lines":7,"address":{"type":"Property","value":{"city":"Zaragoza"}},"location":{"type":"Point","coordinates":[2.0,42.0]}}""",
            """{"id":"urn:ngsi-ld:Stop:c","type":"Stop","name":{"type":"Property","value":"á","rank":{"type":"Property","value":1}},"address":{"type":"Property","value":{"city":"Avila"}},"location":{"type":"Point","coordinates":[0.5,40.5]}}""",
        ];
        foreach (var body in bodies) await _client.CreateOkAsync(body, tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<string> OrderAsync(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Stop&{query}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return string.Concat(JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>()[^1]));
    }

    [Theory]
    [InlineData("orderBy=id", "abc")]
    [InlineData("orderBy=id;desc", "cba")]
    [InlineData("orderBy=name", "abc")]
    [InlineData("orderBy=name;desc", "cba")]
    [InlineData("orderBy=name.rank", "cba")]
    [InlineData("orderBy=type,name.rank;desc", "abc")]
    [InlineData("orderBy=address[city]", "cba")]
    [InlineData("orderBy=createdAt", "bac")]
    [InlineData("orderBy=lines", "abc")]
    [InlineData("orderBy=lines;desc", "bac")]
    public async Task OrderBy_sorts_by_members_and_attribute_paths(string query, string expected) =>
        (await OrderAsync(query)).Should().Be(expected);

    [Fact]
    public async Task A_collation_ranks_accented_letters_with_their_base_letter()
    {
        (await OrderAsync("orderBy=name")).Should().Be("abc", "code points: A < b < á");
        (await OrderAsync("orderBy=name&collation=und")).Should().Be("acb", "root collation: A < á < b");
    }

    [Fact]
    public async Task Distance_ordering_measures_from_orderFrom()
    {
        (await OrderAsync("orderBy=location;dist-asc&orderFrom=[0.4,40.4]")).Should().Be("cba");
        (await OrderAsync("orderBy=location;dist-desc&orderFrom=[0.4,40.4]")).Should().Be("abc");
    }

    [Fact]
    public async Task Ordering_comes_before_paging_and_counting()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Stop&orderBy=name.rank&limit=1&offset=1&count=true", tenant: _tenant);

        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Single()!["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Stop:b");
        response.Headers.GetValues("NGSILD-Results-Count").Single().Should().Be("3");
    }

    [Fact]
    public async Task Post_query_orders_by_its_ordering_member()
    {
        var body = """{"type":"Query","entities":[{"type":"Stop"}],"ordering":{"orderBy":["location;dist-asc"],"coordinates":[2.1,42.1],"geometry":"Point"}}""";
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", body, tenant: _tenant);

        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!["id"]!.GetValue<string>()[^1])
            .Should().Equal('a', 'b', 'c');
    }

    [Theory]
    [InlineData("orderBy=location;dist-asc")]
    [InlineData("orderBy=name;sideways")]
    [InlineData("orderBy=name;asc;desc")]
    [InlineData("orderBy=name&collation=!!")]
    [InlineData("orderBy=id;dist-asc&orderFrom=[0,0]")]
    public async Task Bad_ordering_is_400(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Stop&{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
