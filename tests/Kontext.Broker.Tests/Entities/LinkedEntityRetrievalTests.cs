using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// Linked entity retrieval (clause 4.5.23): join=inline puts the entity a Relationship points to inside it ("entity"),
/// join=flat lists it after the entities; joinLevel follows links of links; pick/omit with "{...}" shape the linked
/// entities (clause 4.21) and q terms "rel{attr}" filter through them (clause 4.9).
/// </summary>
public sealed class LinkedEntityRetrievalTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "linked-" + Guid.NewGuid().ToString("N")[..8];

    public LinkedEntityRetrievalTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        string[] bodies =
        [
            """{"id":"urn:ngsi-ld:Port:Valencia","type":"Port","name":"Valencia","operator":{"type":"Relationship","object":"urn:ngsi-ld:Company:Apv"}}""",
            """{"id":"urn:ngsi-ld:Company:Apv","type":"Company","name":"APV","employees":700}""",
            """{"id":"urn:ngsi-ld:Crane:1","type":"Crane","capacity":40,"atPort":{"type":"Relationship","object":"urn:ngsi-ld:Port:Valencia"}}""",
            """{"id":"urn:ngsi-ld:Crane:2","type":"Crane","capacity":65,"atPort":{"type":"Relationship","object":"urn:ngsi-ld:Port:Valencia"}}""",
            """{"id":"urn:ngsi-ld:Crane:3","type":"Crane","capacity":20,"atPort":{"type":"Relationship","object":"urn:ngsi-ld:Port:Nowhere"}}""",
            """{"id":"urn:ngsi-ld:Fleet:1","type":"Fleet","members":{"type":"ListRelationship","objectList":[{"object":"urn:ngsi-ld:Crane:1"},{"object":"urn:ngsi-ld:Crane:2"}]}}""",
        ];
        foreach (var body in bodies) await _client.CreateOkAsync(body, tenant: _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonNode> GetAsync(string pathAndQuery, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await _client.Send(HttpMethod.Get, pathAndQuery, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, text);
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Retrieve_with_join_inline_puts_the_linked_entity_in_the_relationship()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline");

        crane["atPort"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Port:Valencia");
        var port = crane["atPort"]!["entity"]!;
        port["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Port:Valencia");
        port["name"]!["value"]!.GetValue<string>().Should().Be("Valencia");
        port["operator"]!["entity"].Should().BeNull("joinLevel defaults to 1");
    }

    [Fact]
    public async Task JoinLevel_two_follows_the_links_of_the_linked_entity()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline&joinLevel=2");

        crane["atPort"]!["entity"]!["operator"]!["entity"]!["employees"]!["value"]!.GetValue<int>().Should().Be(700);
    }

    [Fact]
    public async Task Retrieve_with_join_flat_lists_the_entity_then_the_linked_ones()
    {
        var list = (await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=flat&joinLevel=2")).AsArray();

        list.Select(e => e!["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Crane:1", "urn:ngsi-ld:Port:Valencia", "urn:ngsi-ld:Company:Apv");
        list[0]!["atPort"]!["entity"].Should().BeNull("a flat join does not inline");
    }

    [Fact]
    public async Task Retrieve_with_join_flat_and_no_existing_linked_entity_gives_the_entity_alone()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:3?join=flat");

        crane.Should().BeOfType<JsonObject>();
        crane["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Crane:3");
    }

    [Fact]
    public async Task KeyValues_inline_puts_the_linked_entity_in_place_of_the_object()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline&options=keyValues");

        crane["atPort"]!["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Port:Valencia");
        crane["atPort"]!["name"]!.GetValue<string>().Should().Be("Valencia");
    }

    [Fact]
    public async Task A_ListRelationship_inlines_its_entities_as_an_entityList()
    {
        var fleet = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Fleet:1?join=inline");

        fleet["members"]!["entityList"]!.AsArray().Select(e => e!["capacity"]!["value"]!.GetValue<int>()).Should().Equal(40, 65);
    }

    [Fact]
    public async Task System_attributes_are_shown_on_linked_entities_too()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline&options=sysAttrs");

        crane["atPort"]!["entity"]!["createdAt"].Should().NotBeNull();
    }

    [Fact]
    public async Task Pick_with_braces_selects_the_members_of_the_linked_entity()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline&joinLevel=2&pick=id,atPort{{name,operator{{employees}}}}");

        crane.AsObject().Select(p => p.Key).Should().BeEquivalentTo("id", "atPort");
        var port = crane["atPort"]!["entity"]!.AsObject();
        port.Select(p => p.Key).Should().BeEquivalentTo("name", "operator");
        port["operator"]!["entity"]!.AsObject().Select(p => p.Key).Should().BeEquivalentTo("employees");
    }

    [Fact]
    public async Task Omit_with_braces_drops_members_of_the_linked_entity_and_keeps_the_relationship()
    {
        var crane = await GetAsync($"{Api.Entities}/urn:ngsi-ld:Crane:1?join=flat&omit=capacity,atPort{{name}}");
        var list = crane.AsArray();

        list[0]!.AsObject().ContainsKey("capacity").Should().BeFalse();
        list[0]!.AsObject().ContainsKey("atPort").Should().BeTrue();
        list[1]!.AsObject().ContainsKey("name").Should().BeFalse();
        list[1]!.AsObject().ContainsKey("operator").Should().BeTrue();
    }

    [Fact]
    public async Task Query_with_join_flat_lists_each_linked_entity_once_after_the_results()
    {
        var list = (await GetAsync($"{Api.Entities}?type=Crane&join=flat")).AsArray();

        list.Select(e => e!["id"]!.GetValue<string>()).Should().Equal(
            "urn:ngsi-ld:Crane:1", "urn:ngsi-ld:Crane:2", "urn:ngsi-ld:Crane:3", "urn:ngsi-ld:Port:Valencia");
    }

    [Fact]
    public async Task Query_with_join_inline_inlines_per_entity()
    {
        var list = (await GetAsync($"{Api.Entities}?type=Crane&join=inline&options=keyValues")).AsArray();

        list[0]!["atPort"]!["name"]!.GetValue<string>().Should().Be("Valencia");
        list[2]!["atPort"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Port:Nowhere", "a missing linked entity leaves the object as it is");
    }

    [Theory]
    [InlineData("q=atPort{name}==\"Valencia\"&join=inline", "1,2")]
    [InlineData("q=atPort{Port:name}==\"Valencia\"&join=inline", "1,2")]
    [InlineData("q=atPort{Company:name}==\"Valencia\"&join=inline", "")]
    [InlineData("q=atPort{operator{employees}}>500&join=inline&joinLevel=2", "1,2")]
    [InlineData("q=atPort{name}!=\"Valencia\"&join=flat", "")]
    [InlineData("q=atPort{name};capacity>50&join=inline", "2")]
    [InlineData("q=!atPort{name}&join=inline", "3")]
    public async Task A_linked_q_term_filters_through_the_linked_entities(string query, string expected)
    {
        var list = (await GetAsync($"{Api.Entities}?type=Crane&{query}&pick=id")).AsArray();

        list.Select(e => e!["id"]!.GetValue<string>()).Where(id => id.StartsWith("urn:ngsi-ld:Crane:", StringComparison.Ordinal))
            .Select(id => id.Split(':')[^1]).Should().Equal(expected.Length == 0 ? [] : expected.Split(','));
    }

    [Theory]
    [InlineData("pick=atPort{name}")]
    [InlineData("omit=atPort{name}")]
    [InlineData("q=atPort{name}==\"x\"")]
    [InlineData("join=inline&pick=atPort{operator{name}}")]
    [InlineData("join=inline&joinLevel=1&q=atPort{operator{name}}==\"x\"")]
    [InlineData("join=inline&joinLevel=0")]
    [InlineData("join=inline&joinLevel=two")]
    [InlineData("join=sideways")]
    public async Task Linked_entity_selections_need_a_join_deep_enough(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Crane&{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_joinLevel_beyond_the_broker_limit_is_TooComplexQuery()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/urn:ngsi-ld:Crane:1?join=inline&joinLevel=11", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "TooComplexQuery");
    }

    [Fact]
    public async Task Post_query_takes_join_joinLevel_and_pick_from_the_body()
    {
        var body = """{"type":"Query","entities":[{"type":"Crane"}],"q":"capacity>30","join":"inline","joinLevel":2,"pick":["id","atPort{operator}"]}""";
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query", body, tenant: _tenant);
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        list.Should().HaveCount(2);
        list[0]!["atPort"]!["entity"]!["operator"]!["entity"]!["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Company:Apv");
    }
}
