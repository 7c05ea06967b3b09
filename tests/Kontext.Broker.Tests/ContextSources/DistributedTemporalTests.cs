using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Distributed Retrieve Temporal Evolution of an Entity and Query Temporal Evolution of Entities (clause 4.3.6 with
/// 5.7.3.4 and 5.7.4.4) between two real brokers: the regional broker asks the municipal one, registered with
/// retrieveTemporal and queryTemporal, and answers from the merged series.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedTemporalTests(FederatedBrokers fx)
{
    private const string Temporal = "/ngsi-ld/v1/temporal/entities";
    private readonly string _tenant = "fedt-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Bus" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private string Evolution(string id, params (int Value, string ObservedAt)[] speeds) =>
        $$"""{"id":"{{id}}","type":"{{_type}}","speed":[{{string.Join(',', speeds.Select(s => $$"""{"type":"Property","value":{{s.Value}},"observedAt":"{{s.ObservedAt}}"}"""))}}]}""";

    private Task RegisterAsync(string endpoint = "", string extra = "") =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(endpoint.Length > 0 ? endpoint : fx.MunicipalUrl,
            $$"""[{"entities":[{"type":"{{_type}}"}]}]""", extra: ""","operations":["retrieveTemporal","queryTemporal"]""" + extra));

    private static async Task CreateTemporalAsync(HttpClient client, string body, string? tenant = null)
    {
        var response = await client.Send(HttpMethod.Post, Temporal, body, tenant: tenant);
        ((int)response.StatusCode).Should().BeOneOf([201, 204], await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpResponseMessage Response, JsonNode Body)> GetAsync(string pathAndQuery)
    {
        var response = await Region.Send(HttpMethod.Get, pathAndQuery, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return (response, JsonNode.Parse(text)!);
    }

    private static List<(int Value, string ObservedAt)> Speeds(JsonNode entity) =>
        entity["speed"]!.AsArray().Select(i => (i!["value"]!.GetValue<int>(), i["observedAt"]!.GetValue<string>())).ToList();

    [Fact]
    public async Task Retrieve_temporal_evolution_of_an_entity_only_a_source_holds_is_answered_through_the_region()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, (10, "2026-05-01T00:00:00Z"), (20, "2026-05-02T00:00:00Z")));
        await RegisterAsync();

        var (_, entity) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z");

        entity["id"]!.GetValue<string>().Should().Be(id);
        entity["type"]!.GetValue<string>().Should().Be(_type);
        Speeds(entity).Should().Equal((10, "2026-05-01T00:00:00Z"), (20, "2026-05-02T00:00:00Z"));
    }

    [Fact]
    public async Task Retrieve_temporal_evolution_merges_local_and_remote_instances_in_time_order()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(Region, Evolution(id, (20, "2026-05-02T00:00:00Z")), _tenant);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, (10, "2026-05-01T00:00:00Z"), (30, "2026-05-03T00:00:00Z")));
        await RegisterAsync();

        var (_, entity) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z");

        Speeds(entity).Select(s => s.Value).Should().Equal(10, 20, 30);
    }

    [Fact]
    public async Task An_instance_both_brokers_hold_appears_once()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(Region, Evolution(id, (10, "2026-05-01T00:00:00Z")), _tenant);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, (10, "2026-05-01T00:00:00Z")));
        await RegisterAsync();

        var (_, entity) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z");

        Speeds(entity).Should().ContainSingle();
    }

    [Fact]
    public async Task LastN_is_applied_to_the_merged_series_not_per_broker()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(Region, Evolution(id, (1, "2026-05-01T01:00:00Z"), (6, "2026-05-01T06:00:00Z")), _tenant);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, (2, "2026-05-01T02:00:00Z"), (4, "2026-05-01T04:00:00Z"), (5, "2026-05-01T05:00:00Z")));
        await RegisterAsync();

        var (_, entity) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z&lastN=3");

        Speeds(entity).Select(s => s.Value).Should().Equal(4, 5, 6);
    }

    [Fact]
    public async Task Aggregated_values_are_computed_over_the_merged_series()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(Region, Evolution(id, (100, "2026-05-01T00:00:00Z")), _tenant);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, (300, "2026-05-02T00:00:00Z")));
        await RegisterAsync();

        var (_, entity) = await GetAsync(
            $"{Temporal}/{id}?timerel=between&timeAt=2026-04-30T00:00:00Z&endTimeAt=2026-05-03T00:00:00Z&format=aggregatedValues&aggrMethods=avg,totalCount&aggrPeriodDuration=P1Y");

        entity["speed"]!["avg"]![0]![0]!.GetValue<double>().Should().Be(200);
        entity["speed"]!["totalCount"]![0]![0]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task A_series_longer_than_the_sources_instance_limit_is_read_page_by_page()
    {
        var id = Api.NewId(_type);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(id, [.. Enumerable.Range(1, 7).Select(h => (h, $"2026-05-01T{h:00}:00:00Z"))]));
        await RegisterAsync();

        var (_, entity) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z");
        var (_, aggregated) = await GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2020-01-01T00:00:00Z&format=aggregatedValues&aggrMethods=sum");

        Speeds(entity).Select(s => s.Value).Should().Equal(1, 2, 3, 4, 5, 6, 7);
        aggregated["speed"]!["sum"]![0]![0]!.GetValue<double>().Should().Be(28);
    }

    [Fact]
    public async Task Temporal_query_returns_the_entities_a_source_holds_with_the_local_ones()
    {
        var (local, remote) = (Api.NewId(_type), Api.NewId(_type));
        await CreateTemporalAsync(Region, Evolution(local, (1, "2026-05-01T00:00:00Z")), _tenant);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(remote, (2, "2026-05-01T00:00:00Z")));
        await RegisterAsync();

        var (response, body) = await GetAsync($"{Temporal}?type={_type}&timerel=after&timeAt=2020-01-01T00:00:00Z&count=true");

        body.AsArray().Select(e => e!["id"]!.GetValue<string>()).Should().Equal(local, remote);
        response.Headers.GetValues("NGSILD-Results-Count").Should().Equal("2");
        response.Headers.Contains("NGSILD-Warning").Should().BeFalse();
    }

    [Fact]
    public async Task Temporal_query_with_local_true_is_not_forwarded()
    {
        var remote = Api.NewId(_type);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(remote, (2, "2026-05-01T00:00:00Z")));
        await RegisterAsync();

        var (_, body) = await GetAsync($"{Temporal}?type={_type}&timerel=after&timeAt=2020-01-01T00:00:00Z&local=true");

        body.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task A_registration_whose_observationInterval_misses_the_window_is_not_asked()
    {
        var remote = Api.NewId(_type);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(remote, (15, "2026-01-15T00:00:00Z"), (35, "2026-03-15T00:00:00Z")));
        await RegisterAsync(extra: ""","observationInterval":{"startAt":"2026-01-01T00:00:00Z","endAt":"2026-02-01T00:00:00Z"}""");

        var (_, march) = await GetAsync($"{Temporal}?type={_type}&timerel=between&timeAt=2026-03-01T00:00:00Z&endTimeAt=2026-04-01T00:00:00Z");
        var (_, january) = await GetAsync($"{Temporal}?type={_type}&timerel=between&timeAt=2026-01-01T00:00:00Z&endTimeAt=2026-02-01T00:00:00Z");

        march.AsArray().Should().BeEmpty();
        Speeds(january.AsArray().Should().ContainSingle().Subject!).Should().Equal((15, "2026-01-15T00:00:00Z"));
    }

    [Fact]
    public async Task Temporal_query_with_a_source_down_returns_the_local_part_and_an_NGSILD_Warning()
    {
        var local = Api.NewId(_type);
        await CreateTemporalAsync(Region, Evolution(local, (1, "2026-05-01T00:00:00Z")), _tenant);
        await RegisterAsync(endpoint: "http://127.0.0.1:9"); // the discard port: nothing listens

        var (response, body) = await GetAsync($"{Temporal}?type={_type}&timerel=after&timeAt=2020-01-01T00:00:00Z");

        body.AsArray().Select(e => e!["id"]!.GetValue<string>()).Should().Equal(local);
        response.Headers.GetValues("NGSILD-Warning").Should().ContainSingle().Which.Should().StartWith("199 ", "a source that does not answer is warning 199 (table 6.3.17-1)");
    }

    [Fact]
    public async Task Posted_temporal_query_is_forwarded_like_the_GET_form()
    {
        var remote = Api.NewId(_type);
        await CreateTemporalAsync(fx.MunicipalClient, Evolution(remote, (27, "2026-05-01T00:00:00Z")));
        await RegisterAsync();

        var query = $$$"""{"type":"Query","entities":[{"type":"{{{_type}}}"}],"temporalQ":{"timerel":"after","timeAt":"2020-01-01T00:00:00Z"}}""";
        var response = await Region.Send(HttpMethod.Post, "/ngsi-ld/v1/temporal/entityOperations/query", query, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        Speeds(JsonNode.Parse(text)!.AsArray().Should().ContainSingle().Subject!).Should().Equal((27, "2026-05-01T00:00:00Z"));
    }
}
