using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// A page of a distributed query reads only the first offset + limit + 1 entities of each party and completes the page's
/// entities by id at the sources that had more; its answer must be the page of the full merge (what a count=true query,
/// which reads every match, pages over). The two sources are two real municipal broker processes.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedPagingTests(FederatedBrokers fx)
{
    private readonly string _tenant = "pg-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Spot" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private string Spot(string id, string attribute, int value) =>
        $$$"""{"id":"{{{id}}}","type":"{{{_type}}}","{{{attribute}}}":{"type":"Property","value":{{{value}}}}}""";

    private string Id(string name) => $"urn:ngsi-ld:{_type}:{name}";

    private Task RegisterAsync(string endpoint) =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(endpoint, $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));

    /// <summary>
    /// Region: r1, r2 (with a). Source A: a1…a5 (a), then r1 (b). Source B: b1…b4 (a), then a1 and a2 (b).
    /// So the first page's entities have parts beyond each source's first entities.
    /// </summary>
    private async Task SeedAsync()
    {
        foreach (var name in new[] { "r1", "r2" }) await Region.CreateOkAsync(Spot(Id(name), "a", 1), tenant: _tenant);
        for (var i = 1; i <= 5; i++) await fx.MunicipalClient.CreateOkAsync(Spot(Id($"a{i}"), "a", 10 + i));
        await fx.MunicipalClient.CreateOkAsync(Spot(Id("r1"), "b", 100));
        for (var i = 1; i <= 4; i++) await fx.SecondMunicipalClient.CreateOkAsync(Spot(Id($"b{i}"), "a", 20 + i));
        await fx.SecondMunicipalClient.CreateOkAsync(Spot(Id("a1"), "b", 201));
        await fx.SecondMunicipalClient.CreateOkAsync(Spot(Id("a2"), "b", 202));
        await RegisterAsync(fx.MunicipalUrl);
        await RegisterAsync(fx.SecondMunicipalUrl);
    }

    private async Task<JsonArray> PageAsync(int offset, int limit, bool count = false) =>
        await FederatedBrokers.ArrayAsync(await Region.Send(HttpMethod.Get,
            $"{Api.Entities}?type={_type}&offset={offset}&limit={limit}{(count ? "&count=true" : "")}", tenant: _tenant));

    private static IEnumerable<string> Canonical(JsonArray entities) =>
        entities.Select(e => string.Join(";", e!.AsObject().OrderBy(p => p.Key, StringComparer.Ordinal)
            .Where(p => p.Key is not ("createdAt" or "modifiedAt"))
            .Select(p => p.Key + "=" + p.Value!.ToJsonString())));

    [Fact]
    public async Task Every_page_equals_the_page_of_the_merge_of_every_match()
    {
        await SeedAsync();

        var all = await PageAsync(0, 100, count: true);
        all.Select(e => e!["id"]!.GetValue<string>()).Should().Equal(
            new[] { "r1", "r2", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4" }.Select(Id), "local first, then each source in its order");
        for (var limit = 1; limit <= 4; limit++)
            for (var offset = 0; offset <= all.Count; offset++)
            {
                var page = await PageAsync(offset, limit);
                var expected = await PageAsync(offset, limit, count: true);
                Canonical(page).Should().Equal(Canonical(expected), $"offset {offset}, limit {limit}");
            }
    }

    [Fact]
    public async Task Paging_through_an_entity_map_walks_both_sources_entities_once_and_not_one_created_meanwhile()
    {
        await SeedAsync();
        var expected = new[] { "r1", "r2", "a1", "a2", "a3", "a4", "a5", "b1", "b2", "b3", "b4" }.Select(Id).ToList();

        var first = await Region.Send(HttpMethod.Get, $"{Api.Entities}?type={_type}&entityMap=true&limit=4", tenant: _tenant);
        first.StatusCode.Should().Be(HttpStatusCode.Created, await first.Content.ReadAsStringAsync());
        var map = first.Headers.GetValues("NGSILD-EntityMap").Single();
        var seen = (await Ids(first)).ToList();
        await fx.SecondMunicipalClient.CreateOkAsync(Spot(Id("b5"), "a", 25));
        for (var offset = 4; offset < expected.Count + 4; offset += 4)
        {
            var request = Api.Request(HttpMethod.Get, $"{Api.Entities}?type={_type}&limit=4&offset={offset}", tenant: _tenant);
            request.Headers.Add("NGSILD-EntityMap", map);
            var page = await Region.SendAsync(request);
            page.StatusCode.Should().Be(HttpStatusCode.OK, await page.Content.ReadAsStringAsync());
            seen.AddRange(await Ids(page));
        }

        seen.Should().Equal(expected, "the map fixed the entities and their order when it was made");
    }

    private static async Task<IEnumerable<string>> Ids(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!["id"]!.GetValue<string>());

    [Fact]
    public async Task An_entity_of_the_page_gets_its_parts_from_beyond_a_sources_first_entities()
    {
        await SeedAsync();

        var page = await PageAsync(0, 3);

        page.Select(e => e!["id"]!.GetValue<string>()).Should().Equal(Id("r1"), Id("r2"), Id("a1"));
        page[0]!["b"]!["value"]!.GetValue<int>().Should().Be(100, "r1's b is A's sixth entity, beyond the 4 asked of A");
        page[2]!["a"]!["value"]!.GetValue<int>().Should().Be(11);
        page[2]!["b"]!["value"]!.GetValue<int>().Should().Be(201, "a1's b is B's fifth entity, beyond the 4 asked of B");
    }

    [Fact]
    public async Task A_page_asks_each_source_for_offset_plus_limit_plus_one_entities_only()
    {
        await using var source = await ContextSourceStub.StartAsync();
        var ids = Enumerable.Range(1, 3).Select(i => Id($"s{i}")).ToList();
        source.Body = new JsonArray(ids.Select(id => (JsonNode?)JsonNode.Parse(Spot(id, "a", 1))).ToArray()).ToJsonString();
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(source.BaseUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));

        var page = await PageAsync(1, 2);

        page.Select(e => e!["id"]!.GetValue<string>()).Should().Equal(ids[1], ids[2]);
        var asked = source.Requests.Should().ContainSingle("the source returned fewer than asked, so it holds nothing more").Subject.PathAndQuery;
        asked.Should().Contain("limit=4").And.Contain("offset=0");
    }

    [Fact]
    public async Task A_source_that_fails_leaves_the_others_page_with_a_warning()
    {
        await SeedAsync();
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration("http://127.0.0.1:9", $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));

        var response = await Region.Send(HttpMethod.Get, $"{Api.Entities}?type={_type}&limit=3", tenant: _tenant);

        (await FederatedBrokers.ArrayAsync(response)).Select(e => e!["id"]!.GetValue<string>()).Should().Equal(Id("r1"), Id("r2"), Id("a1"));
        response.Headers.TryGetValues("NGSILD-Warning", out var warnings).Should().BeTrue();
        warnings!.Should().Contain(w => w.StartsWith("199"));
    }
}
