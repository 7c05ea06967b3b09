using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>
/// Which entities Query Temporal Evolution of Entities returns (clause 5.7.4.4): those with instances in the temporal
/// window, q and geoQ judged on the window's instances, the datasetId filter (4.5.5), ordering by id, and the selection
/// a temporal query needs.
/// </summary>
public sealed class TemporalSelectionTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private const string In = "2026-03-01T12:00:00Z", Out = "2026-01-05T00:00:00Z";
    private const string Window = "timerel=between&timeAt=2026-03-01T00:00:00Z&endTimeAt=2026-03-02T00:00:00Z";
    private readonly HttpClient _client;
    private readonly string _tenant = "temporal-sel-" + Guid.NewGuid().ToString("N")[..8];

    public TemporalSelectionTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        JsonObject P(object value, string at, string? datasetId = null)
        {
            var p = new JsonObject { ["type"] = "Property", ["value"] = JsonValue.Create(value), ["observedAt"] = at };
            if (datasetId is not null) p["datasetId"] = datasetId;
            return p;
        }
        JsonObject Geo(double lon, double lat, string at) =>
            new() { ["type"] = "GeoProperty", ["value"] = JsonNode.Parse($$"""{"type":"Point","coordinates":[{{lon}},{{lat}}]}"""), ["observedAt"] = at };
        var fixtures = new[]
        {
            new JsonObject { ["id"] = "urn:ngsi-ld:Vehicle:fast", ["type"] = "Vehicle", ["speed"] = new JsonArray(P(30, In), P(90, Out)), ["location"] = new JsonArray(Geo(17.1, 48.1, In)) },
            new JsonObject { ["id"] = "urn:ngsi-ld:Vehicle:slow", ["type"] = "Vehicle", ["speed"] = new JsonArray(P(10, In), P(80, Out)), ["location"] = new JsonArray(Geo(10, 40, In), Geo(17.1, 48.1, Out)) },
            new JsonObject { ["id"] = "urn:ngsi-ld:Vehicle:outside", ["type"] = "Vehicle", ["speed"] = new JsonArray(P(99, Out)) },
            new JsonObject { ["id"] = "urn:ngsi-ld:Vehicle:datasets", ["type"] = "Vehicle", ["speed"] = new JsonArray(P(5, In), P(60, In, "urn:ngsi-ld:Dataset:gps")) },
        };
        foreach (var entity in fixtures) (await _client.CreateTemporalAsync(entity, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<List<string>> IdsAsync(string query)
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}?{query}", _tenant);
        return body.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public async Task An_entity_without_instances_in_the_window_is_not_returned()
    {
        (await IdsAsync($"type=Vehicle&{Window}")).Should().NotContain("urn:ngsi-ld:Vehicle:outside")
            .And.Contain(["urn:ngsi-ld:Vehicle:fast", "urn:ngsi-ld:Vehicle:slow", "urn:ngsi-ld:Vehicle:datasets"]);
    }

    [Fact]
    public async Task Q_is_judged_on_the_instances_of_the_window_so_an_out_of_window_value_never_matches()
    {
        (await IdsAsync($"type=Vehicle&q=speed%3E25&{Window}")).Should().BeEquivalentTo("urn:ngsi-ld:Vehicle:fast", "urn:ngsi-ld:Vehicle:datasets");
        (await IdsAsync($"type=Vehicle&q=speed%3E50&{Window}")).Should().BeEquivalentTo(["urn:ngsi-ld:Vehicle:datasets"], "an instance with a datasetId counts like any other");
    }

    [Fact]
    public async Task The_instances_returned_are_those_of_the_window()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}?type=Vehicle&q=speed%3E25&attrs=speed&{Window}", _tenant);
        var fast = body.AsArray().Single(e => e!["id"]!.GetValue<string>() == "urn:ngsi-ld:Vehicle:fast")!;
        Instances(fast, "speed").Select(i => i["value"]!.GetValue<int>()).Should().Equal(30);
    }

    [Fact]
    public async Task GeoQ_is_judged_on_the_GeoProperty_instances_of_the_window()
    {
        (await IdsAsync($"type=Vehicle&georel=near;maxDistance==1000&geometry=Point&coordinates=[17.1,48.1]&{Window}"))
            .Should().BeEquivalentTo(["urn:ngsi-ld:Vehicle:fast"], "slow was near only outside the window");
    }

    [Fact]
    public async Task DatasetId_selects_instances_and_none_names_the_default_instance()
    {
        var (_, gps) = await _client.GetTemporalAsync($"{Root}?type=Vehicle&datasetId=urn:ngsi-ld:Dataset:gps&{Window}", _tenant);
        gps.AsArray().Select(e => e!["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Vehicle:datasets");
        Instances(gps[0]!, "speed").Select(i => i["value"]!.GetValue<int>()).Should().Equal(60);

        var (_, defaults) = await _client.GetTemporalAsync($"{Root}?type=Vehicle&id=urn:ngsi-ld:Vehicle:datasets&datasetId=@none&{Window}", _tenant);
        Instances(defaults[0]!, "speed").Select(i => i["value"]!.GetValue<int>()).Should().Equal(5);

        (await IdsAsync($"type=Vehicle&attrs=speed&datasetId=urn:ngsi-ld:Dataset:none&{Window}")).Should().BeEmpty();
    }

    [Theory]
    [InlineData("id", new[] { "datasets", "fast", "slow" })]
    [InlineData("id;desc", new[] { "slow", "fast", "datasets" })]
    public async Task OrderBy_id_orders_the_entities(string orderBy, string[] expected)
    {
        (await IdsAsync($"type=Vehicle&orderBy={orderBy}&{Window}")).Should().Equal(expected.Select(e => "urn:ngsi-ld:Vehicle:" + e));
    }

    [Theory]
    [InlineData("orderBy=speed")]
    [InlineData("orderBy=createdAt")]
    [InlineData("orderBy=id,speed")]
    public async Task OrderBy_anything_but_id_is_BadRequestData(string orderBy)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle&{orderBy}&{Window}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("id=urn:ngsi-ld:Vehicle:fast")]
    [InlineData("attrs=createdAt")]
    [InlineData("scopeQ=/A")]
    [InlineData("q=modifiedAt>%222020-01-01T00:00:00Z%22")]
    public async Task A_query_without_types_non_system_attributes_q_on_one_or_geoQ_is_too_wide(string selection)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}?{selection}&{Window}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_query_without_a_temporal_query_is_BadRequestData()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Aggregation_methods_in_the_query_body_ask_for_the_aggregated_representation()
    {
        var body = """{"type":"Query","entities":[{"type":"Vehicle"}],"temporalQ":{"timerel":"between","timeAt":"2026-03-01T00:00:00Z","endTimeAt":"2026-03-02T00:00:00Z"},"aggrParams":{"aggrMethods":["max"],"aggrPeriodDuration":"PT0S"}}""";
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/temporal/entityOperations/query", body, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var fast = JsonNode.Parse(text)!.AsArray().Single(e => e!["id"]!.GetValue<string>() == "urn:ngsi-ld:Vehicle:fast")!;
        fast["speed"]!["max"]![0]![0]!.GetValue<double>().Should().Be(30);

        var bogus = body.Replace("\"max\"", "\"median\"");
        await (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/temporal/entityOperations/query", bogus, tenant: _tenant))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
