using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>limit/offset/count (clauses 6.3.10, 6.3.13): stable pages, each entity exactly once, Link rel=next/prev.</summary>
public sealed class PaginationTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private const int Total = 250;
    private readonly HttpClient _client;
    private readonly string _tenant = "pages-" + Guid.NewGuid().ToString("N")[..8];

    public PaginationTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        var batch = new JsonArray(Enumerable.Range(0, Total).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = $"urn:ngsi-ld:Item:{i:D4}", ["type"] = "Item", ["n"] = i, ["even"] = i % 2 == 0,
        }).ToArray());
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", batch.ToJsonString(), tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(List<string> Ids, HttpResponseMessage Response)> PageAsync(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?{query}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return (JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList(), response);
    }

    [Theory]
    [InlineData("type=Item", Total)]
    [InlineData("type=Item&q=even==true", Total / 2)]
    [InlineData("type=Item&idPattern=Item:0[01]", 200)]
    public async Task Walking_all_pages_returns_each_entity_exactly_once(string filter, int expected)
    {
        var seen = new List<string>();
        for (var offset = 0; offset < Total + 40; offset += 37)
        {
            var (ids, _) = await PageAsync($"{filter}&limit=37&offset={offset}");
            seen.AddRange(ids);
        }
        seen.Should().HaveCount(expected).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Pages_follow_creation_order()
    {
        var (first, _) = await PageAsync("type=Item&limit=5");
        first.Should().Equal(Enumerable.Range(0, 5).Select(i => $"urn:ngsi-ld:Item:{i:D4}"));
    }

    [Fact]
    public async Task Count_gives_the_total_in_a_header()
    {
        var (ids, response) = await PageAsync("type=Item&q=even==true&count=true&limit=10");
        ids.Should().HaveCount(10);
        response.Headers.GetValues("NGSILD-Results-Count").Single().Should().Be((Total / 2).ToString());
    }

    [Fact]
    public async Task Limit_zero_with_count_returns_only_the_count()
    {
        var (ids, response) = await PageAsync("type=Item&limit=0&count=true");
        ids.Should().BeEmpty();
        response.Headers.GetValues("NGSILD-Results-Count").Single().Should().Be(Total.ToString());
    }

    [Fact]
    public async Task Link_headers_point_to_the_next_and_previous_pages()
    {
        var (_, response) = await PageAsync("type=Item&limit=20&offset=40&count=true");
        var links = response.Headers.GetValues("Link").ToList();

        links.Should().Contain(l => l.Contains("rel=\"next\"") && l.Contains("offset=60") && l.Contains("limit=20") && l.Contains("type=Item"));
        links.Should().Contain(l => l.Contains("rel=\"prev\"") && l.Contains("offset=20"));
    }

    [Fact]
    public async Task Link_headers_keep_every_parameter_in_name_order_escaped_where_needed()
    {
        // A q value with a space, '>', '"' and non-ASCII letters (one outside the BMP), attrs given twice (kept in order).
        var q = Uri.EscapeDataString("n>=1;even==true|n==\"é 𝄞\"");
        var (_, response) = await PageAsync($"type=Item&q={q}&attrs=n&attrs=even&limit=2&offset=3");
        response.Headers.GetValues("Link").Where(l => !l.Contains("json-ld#context")).Should().Equal(
            "</ngsi-ld/v1/entities?attrs=n&attrs=even&limit=2&offset=5&q=n%3E%3D1;even%3D%3Dtrue%7Cn%3D%3D%22%C3%A9%20%F0%9D%84%9E%22&type=Item>; rel=\"next\"; type=\"application/json\"",
            "</ngsi-ld/v1/entities?attrs=n&attrs=even&limit=2&offset=1&q=n%3E%3D1;even%3D%3Dtrue%7Cn%3D%3D%22%C3%A9%20%F0%9D%84%9E%22&type=Item>; rel=\"prev\"; type=\"application/json\"");
    }

    [Fact]
    public async Task The_last_page_has_no_next_link()
    {
        var (ids, response) = await PageAsync($"type=Item&limit=100&offset=200");
        ids.Should().HaveCount(50);
        response.Headers.GetValues("Link").Should().NotContain(l => l.Contains("rel=\"next\""));
    }

    [Fact]
    public async Task Limit_above_the_maximum_is_403_TooManyResults()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Item&limit=1001", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "TooManyResults");
    }

    [Theory]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("offset=-5")]
    [InlineData("limit=0")]
    [InlineData("count=maybe")]
    public async Task Bad_paging_parameters_are_400(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Item&{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
