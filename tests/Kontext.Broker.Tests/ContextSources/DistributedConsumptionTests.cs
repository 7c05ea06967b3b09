using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// How consumption requests are forwarded (clauses 4.3.6.2, 4.3.6.5, 5.7.1.4, 5.7.2.4): which sources a csf selects, what
/// a split-entities query forwards, how a source offering only queryEntity or queryBatch is asked, and what refuses to
/// be distributed; seen from a context source stub that records every request.
/// </summary>
public sealed class DistributedConsumptionTests(FederationFixture fx) : IClassFixture<FederationFixture>, IAsyncLifetime
{
    private readonly string _tenant = "dc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _id = Api.NewId("Vehicle");
    private ContextSourceStub _source = null!;

    public async Task InitializeAsync()
    {
        _source = await ContextSourceStub.StartAsync();
        _source.Body = $$$"""[{"id":"{{{_id}}}","type":"Vehicle","speed":{"type":"Property","value":7}}]""";
    }

    public async Task DisposeAsync() => await _source.DisposeAsync();

    private async Task RegisterAsync(string extra = "", string information = """[{"entities":[{"type":"Vehicle"}]}]""")
    {
        var registration = FederatedBrokers.Registration(_source.BaseUrl, information, extra: extra);
        var response = await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> GetAsync(string path) => fx.Client.Send(HttpMethod.Get, path, tenant: _tenant);

    private static async Task<List<string>> IdsAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public async Task A_csf_selects_the_sources_by_their_registration_properties()
    {
        await RegisterAsync(""","sourceType":"sensor" """);

        (await IdsAsync(await GetAsync($"{Api.Entities}?type=Vehicle&csf=sourceType==%22archive%22"))).Should().BeEmpty();
        _source.Requests.Should().BeEmpty("no registration matches the csf");

        (await IdsAsync(await GetAsync($"{Api.Entities}?type=Vehicle&csf=sourceType==%22sensor%22"))).Should().Equal(_id);
    }

    [Fact]
    public async Task A_split_entities_query_forwards_without_its_filters_and_applies_them_to_the_answers()
    {
        await RegisterAsync();

        (await IdsAsync(await GetAsync($"{Api.Entities}?type=Vehicle&splitEntities=true&q=speed>20"))).Should().BeEmpty("speed 7 fails q once merged");

        var sent = _source.Requests.Should().ContainSingle().Subject.PathAndQuery;
        sent.Should().Contain("type=Vehicle").And.NotContain("q=");
    }

    [Fact]
    public async Task A_source_offering_only_queryBatch_is_asked_with_POST_entityOperations_query()
    {
        await RegisterAsync(""","operations":["queryBatch"]""");

        (await IdsAsync(await GetAsync($"{Api.Entities}?type=Vehicle&q=speed>5"))).Should().Equal(_id);

        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("POST");
        sent.PathAndQuery.Should().StartWith("/ngsi-ld/v1/entityOperations/query");
        var body = JsonNode.Parse(sent.Body)!;
        body["type"]!.GetValue<string>().Should().Be("Query");
        body["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        body["q"]!.GetValue<string>().Should().Be("speed>5");
    }

    [Fact]
    public async Task Retrieve_entity_from_a_source_offering_only_queryEntity_is_a_query_for_the_id()
    {
        await RegisterAsync(""","operations":["queryEntity"]""");

        var entity = await fx.Client.GetEntityAsync(_id, tenant: _tenant);

        entity["speed"]!["value"]!.GetValue<int>().Should().Be(7);
        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("GET");
        sent.PathAndQuery.Should().StartWith("/ngsi-ld/v1/entities?").And.Contain("id=" + Uri.EscapeDataString(_id)).And.Contain("type=Vehicle");
    }

    [Fact]
    public async Task Retrieve_entity_from_a_source_offering_only_queryBatch_posts_a_query_for_the_id()
    {
        await RegisterAsync(""","operations":["queryBatch"]""");

        (await fx.Client.GetEntityAsync(_id, tenant: _tenant))["speed"]!["value"]!.GetValue<int>().Should().Be(7);

        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("POST");
        JsonNode.Parse(sent.Body)!["entities"]![0]!["id"]!.GetValue<string>().Should().Be(_id);
    }

    [Fact]
    public async Task A_registration_naming_only_entity_ids_narrows_the_forwarded_query_to_them()
    {
        await RegisterAsync(information: $$"""[{"entities":[{"type":"Vehicle","id":"{{_id}}"}],"propertyNames":["speed"]}]""");

        (await GetAsync($"{Api.Entities}?type=Vehicle")).StatusCode.Should().Be(HttpStatusCode.OK);

        _source.Requests.Should().ContainSingle().Which.PathAndQuery.Should().Contain("id=" + Uri.EscapeDataString(_id)).And.Contain("attrs=speed");
    }

    [Fact]
    public async Task A_contextSourceInfo_value_urn_ngsi_ld_request_copies_the_triggering_header_when_present()
    {
        await RegisterAsync(""","contextSourceInfo":[{"key":"user","value":"urn:ngsi-ld:request"}]""");

        var request = Api.Request(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", tenant: _tenant);
        request.Headers.Add("user", "abcd");
        (await fx.Client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await GetAsync($"{Api.Entities}?type=Vehicle")).StatusCode.Should().Be(HttpStatusCode.OK);

        _source.Requests.Should().HaveCount(2);
        _source.Requests[0].Headers["user"].Should().Be("abcd");
        _source.Requests[1].Headers.ContainsKey("user").Should().BeFalse("nothing is conveyed when the triggering request has no such header");
    }

    [Fact]
    public async Task Ordering_a_distributed_query_is_BadRequestData_and_allowed_with_local_true()
    {
        await RegisterAsync();

        await (await GetAsync($"{Api.Entities}?type=Vehicle&orderBy=speed")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await fx.Client.CreateOkAsync($$"""{"id":"{{Api.NewId("Vehicle")}}","type":"Vehicle"}""", tenant: _tenant);
        (await GetAsync($"{Api.Entities}?type=Vehicle&orderBy=speed&local=true")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Query_entities_by_POST_is_forwarded_like_the_GET_query()
    {
        await RegisterAsync();

        var response = await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query",
            """{"type":"Query","entities":[{"type":"Vehicle"}],"q":"speed>5"}""", tenant: _tenant);

        (await IdsAsync(response)).Should().Equal(_id);
        _source.Requests.Should().ContainSingle().Which.PathAndQuery.Should().Contain("type=Vehicle").And.Contain("q=speed");
    }

    [Fact]
    public async Task A_query_for_ids_is_forwarded_with_only_the_ids_the_registration_can_hold()
    {
        await RegisterAsync(information: """[{"entities":[{"type":"Vehicle","idPattern":"^urn:ngsi-ld:Vehicle:north-"}]}]""");

        await GetAsync($"{Api.Entities}?type=Vehicle&id=urn:ngsi-ld:Vehicle:north-1,urn:ngsi-ld:Vehicle:south-1");

        var sent = Uri.UnescapeDataString(_source.Requests.Should().ContainSingle().Subject.PathAndQuery);
        sent.Should().Contain("urn:ngsi-ld:Vehicle:north-1").And.NotContain("urn:ngsi-ld:Vehicle:south-1");
    }

    [Fact]
    public async Task A_query_for_a_datasetId_is_not_forwarded_to_a_source_registered_for_other_datasetIds()
    {
        await RegisterAsync(""","datasetId":["urn:ngsi-ld:Dataset:b"]""");

        var response = await GetAsync($"{Api.Entities}?type=Vehicle&datasetId=urn:ngsi-ld:Dataset:a");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.Contains("NGSILD-Warning").Should().BeFalse();
        _source.Requests.Should().BeEmpty();
    }
}
