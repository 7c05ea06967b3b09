using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>The temporal query parameters (clause 6.3.x / 4.11) and representations (4.5.7, 4.5.9, 4.5.19) over HTTP.</summary>
public sealed class TemporalQueryTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "temporal-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _a = "urn:ngsi-ld:Vehicle:A";
    private readonly string _b = "urn:ngsi-ld:Vehicle:B";

    public TemporalQueryTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        // speed of A at minutes 0..9 = 10·m; B at minutes 0..4 = m; fuelLevel of A at 0 and 60.
        var a = Vehicle(_a, [.. Enumerable.Range(0, 10).Select(m => ("speed", 10.0 * m, T(m))), ("fuelLevel", 50, T(0)), ("fuelLevel", 30, T(60))]);
        a["color"] = new JsonObject { ["type"] = "Property", ["value"] = "red", ["observedAt"] = T(0) };
        var b = Vehicle(_b, [.. Enumerable.Range(0, 5).Select(m => ("speed", (double)m, T(m)))]);
        b["color"] = new JsonObject { ["type"] = "Property", ["value"] = "blue", ["observedAt"] = T(0) };
        (await _client.CreateTemporalAsync(a, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.CreateTemporalAsync(b, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonArray> QueryAsync(string query) => (await _client.GetTemporalAsync($"{Root}?{query}", _tenant)).Body.AsArray();

    private static List<double> Speeds(JsonNode entity) => Instances(entity, "speed").Select(i => i["value"]!.GetValue<double>()).ToList();

    private static JsonNode Entity(JsonArray list, string id) => list.Single(e => e!["id"]!.GetValue<string>() == id)!;

    [Theory]
    [InlineData("timerel=before&timeAt=2020-08-01T12:03:00Z", new double[] { 0, 10, 20 })]
    [InlineData("timerel=after&timeAt=2020-08-01T12:07:00Z", new double[] { 70, 80, 90 })]
    [InlineData("timerel=between&timeAt=2020-08-01T12:02:00Z&endTimeAt=2020-08-01T12:05:00Z", new double[] { 20, 30, 40 })]
    [InlineData("lastN=2", new double[] { 80, 90 })]
    [InlineData("timerel=before&timeAt=2020-08-01T12:06:00Z&lastN=3", new double[] { 30, 40, 50 })]
    [InlineData("", new double[] { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 })]
    public async Task Timerel_and_lastN_select_the_window(string temporal, double[] expected)
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{_a}?attrs=speed&{temporal}", _tenant);
        Speeds(body).Should().Equal(expected);
    }

    [Fact]
    public async Task Query_selects_entities_by_their_window_and_reads_their_windows()
    {
        var list = await QueryAsync("type=Vehicle&q=color==%22red%22&timerel=between&timeAt=2020-08-01T12:00:00Z&endTimeAt=2020-08-01T12:02:00Z");
        list.Should().ContainSingle();
        Speeds(Entity(list, _a)).Should().Equal(0, 10);

        var both = await QueryAsync("type=Vehicle&attrs=speed&timerel=between&timeAt=2020-08-01T12:03:00Z&endTimeAt=2020-08-01T12:05:00Z");
        Speeds(Entity(both, _a)).Should().Equal(30, 40);
        Speeds(Entity(both, _b)).Should().Equal(3, 4);
        Entity(both, _a)["fuelLevel"].Should().BeNull();

        var byId = await QueryAsync($"type=Vehicle&id={_b}&lastN=1&timerel=after&timeAt=2020-01-01T00:00:00Z");
        Speeds(Entity(byId, _b)).Should().Equal(4);
        (await QueryAsync("idPattern=.*:A$&attrs=fuelLevel&timerel=after&timeAt=2020-01-01T00:00:00Z")).Should().ContainSingle();
        (await QueryAsync("type=Vehicle&scopeQ=/nowhere&timerel=after&timeAt=2020-01-01T00:00:00Z")).Should().BeEmpty();
    }

    [Fact]
    public async Task Post_query_takes_temporalQ_in_the_body()
    {
        var body = """{"type":"Query","entities":[{"type":"Vehicle"}],"attrs":["speed"],"temporalQ":{"timerel":"after","timeAt":"2020-08-01T12:00:00Z","lastN":1}}""";
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/temporal/entityOperations/query", body, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var list = JsonNode.Parse(text)!.AsArray();
        Speeds(Entity(list, _a)).Should().Equal(90);
        Speeds(Entity(list, _b)).Should().Equal(4);
    }

    [Fact]
    public async Task TemporalValues_gives_value_time_pairs()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{_a}?options=temporalValues&attrs=fuelLevel", _tenant);
        body["fuelLevel"]!["type"]!.GetValue<string>().Should().Be("Property");
        var pairs = body["fuelLevel"]!["values"]!.AsArray();
        pairs.Select(p => p![0]!.GetValue<double>()).Should().Equal(50, 30);
        pairs.Select(p => p![1]!.GetValue<string>()).Should().Equal("2020-08-01T12:00:00Z", "2020-08-01T13:00:00Z");
    }

    [Fact]
    public async Task AggregatedValues_aggregates_per_period()
    {
        var (_, body) = await _client.GetTemporalAsync(
            $"{Root}/{_a}?options=aggregatedValues&aggrMethods=totalCount,sum,avg,min,max&aggrPeriodDuration=PT5M&attrs=speed&timerel=after&timeAt=2020-08-01T11:59:59Z", _tenant);
        var speed = body["speed"]!;
        speed["totalCount"]!.AsArray().Select(p => p![0]!.GetValue<int>()).Should().Equal(5, 5);
        speed["sum"]!.AsArray().Select(p => p![0]!.GetValue<double>()).Should().Equal(100, 350);
        speed["avg"]!.AsArray().Select(p => p![0]!.GetValue<double>()).Should().Equal(20, 70);
        speed["min"]!.AsArray().Select(p => p![0]!.GetValue<double>()).Should().Equal(0, 50);
        speed["max"]!.AsArray().Select(p => p![0]!.GetValue<double>()).Should().Equal(40, 90);
        speed["sum"]![0]![1]!.GetValue<string>().Should().Be("2020-08-01T11:59:59Z");
        speed["sum"]![0]![2]!.GetValue<string>().Should().Be("2020-08-01T12:04:59Z");
    }

    [Fact]
    public async Task AggregatedValues_composed_from_buckets_agree_with_the_store_and_in_memory_paths()
    {
        // From midnight, P1D and P1M compose the store's pre-aggregated buckets; a second later, P1D is grouped in the store
        // and P1M aggregated in memory. All samples lie in the first day: one period each, the same values.
        const string common = "type=Vehicle&attrs=speed&options=aggregatedValues&aggrMethods=totalCount,sum,avg,min,max,stddev,sumsq&timerel=between&endTimeAt=2020-08-02T00:00:00Z";
        var answers = new List<JsonArray>();
        foreach (var (from, period) in new[] { ("2020-08-01T00:00:00Z", "P1D"), ("2020-08-01T00:00:00Z", "P1M"), ("2020-08-01T00:00:01Z", "P1D"), ("2020-08-01T00:00:01Z", "P1M") })
        {
            var list = (await QueryAsync($"{common}&timeAt={from}&aggrPeriodDuration={period}")).DeepClone().AsArray();
            foreach (var triple in list.SelectMany(e => e!.AsObject()).Where(m => m.Value is JsonObject).SelectMany(m => m.Value!.AsObject())
                         .Where(m => m.Value is JsonArray).SelectMany(m => m.Value!.AsArray()))
            {
                triple!.AsArray().RemoveAt(2); // period ends differ (a day, a month)
                triple.AsArray().RemoveAt(1);  // and so do the starts of the later windows
            }
            answers.Add(list);
        }
        answers.Should().AllSatisfy(a => JsonNode.DeepEquals(a, answers[0]).Should().BeTrue($"{a.ToJsonString()}\n{answers[0].ToJsonString()}"));
        Entity(answers[0], _a)["speed"]!["totalCount"]![0]![0]!.GetValue<int>().Should().Be(10);
    }

    [Fact]
    public async Task AggregatedValues_in_the_store_and_in_memory_agree()
    {
        // P1D is a fixed span: the store aggregates (SQL GROUP BY); P1M is a calendar span: the broker aggregates read
        // instances. All samples lie in the first day, so both give one period with the same values.
        const string common = "type=Vehicle&options=aggregatedValues&aggrMethods=totalCount,distinctCount,sum,avg,min,max,stddev,sumsq&timerel=after&timeAt=2020-08-01T00:00:00Z";
        var inStore = await QueryAsync(common + "&aggrPeriodDuration=P1D");
        var inMemory = await QueryAsync(common + "&aggrPeriodDuration=P1M");

        static JsonNode WithoutPeriodEnds(JsonArray list)
        {
            var copy = list.DeepClone().AsArray();
            foreach (var triple in copy.SelectMany(e => e!.AsObject()).Where(m => m.Value is JsonObject).SelectMany(m => m.Value!.AsObject())
                         .Where(m => m.Value is JsonArray).SelectMany(m => m.Value!.AsArray()))
                triple!.AsArray().RemoveAt(2);
            return copy;
        }
        JsonNode.DeepEquals(WithoutPeriodEnds(inStore), WithoutPeriodEnds(inMemory)).Should().BeTrue($"{inStore.ToJsonString()}\n{inMemory.ToJsonString()}");
        var speed = Entity(inStore, _a)["speed"]!;
        speed["totalCount"]![0]![0]!.GetValue<int>().Should().Be(10);
        speed["sumsq"]![0]![0]!.GetValue<double>().Should().Be(28500);
        speed["stddev"]![0]![0]!.GetValue<double>().Should().BeApproximately(30.2765, 1e-4);
        speed["sum"]![0]![2]!.GetValue<string>().Should().Be("2020-08-02T00:00:00Z");
        Entity(inMemory, _a)["speed"]!["sum"]![0]![2]!.GetValue<string>().Should().Be("2020-09-01T00:00:00Z");
        Entity(inStore, _b)["speed"]!["distinctCount"]![0]![0]!.GetValue<int>().Should().Be(5);
    }

    [Fact]
    public async Task AggregatedValues_without_a_period_span_the_window_per_dataset()
    {
        var id = "urn:ngsi-ld:Vehicle:DS-" + Guid.NewGuid().ToString("N")[..6];
        var entity = new JsonObject
        {
            ["id"] = id, ["type"] = "Vehicle",
            ["speed"] = new JsonArray(
                new JsonObject { ["type"] = "Property", ["value"] = 1, ["observedAt"] = T(0) },
                new JsonObject { ["type"] = "Property", ["value"] = 3, ["observedAt"] = T(2) },
                new JsonObject { ["type"] = "Property", ["value"] = true, ["observedAt"] = T(1), ["datasetId"] = "urn:ngsi-ld:Dataset:gps" },
                new JsonObject { ["type"] = "Property", ["value"] = 7, ["observedAt"] = T(3), ["datasetId"] = "urn:ngsi-ld:Dataset:gps" }),
        };
        (await _client.CreateTemporalAsync(entity, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?options=aggregatedValues&aggrMethods=sum,totalCount", _tenant);

        var speed = body["speed"]!.AsArray();
        speed.Should().HaveCount(2);
        speed[0]!["datasetId"].Should().BeNull("the default instance comes first");
        speed[0]!["sum"]!.ToJsonString().Should().Be("""[[4,"2020-08-01T12:00:00Z","2020-08-01T12:02:00Z"]]""");
        speed[1]!["datasetId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Dataset:gps");
        speed[1]!["sum"]!.ToJsonString().Should().Be("""[[8,"2020-08-01T12:01:00Z","2020-08-01T12:03:00Z"]]""", "true counts as 1");
        speed[1]!["totalCount"]![0]![0]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task Timeproperty_modifiedAt_reads_the_write_times()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{_a}?attrs=speed&timeproperty=modifiedAt&timerel=after&timeAt=2000-01-01T00:00:00Z", _tenant);
        Speeds(body).Should().HaveCount(10);
        var (_, none) = await _client.GetTemporalAsync($"{Root}/{_a}?attrs=speed&timeproperty=modifiedAt&timerel=before&timeAt=2000-01-01T00:00:00Z", _tenant);
        Speeds(none).Should().BeEmpty();
    }

    [Theory]
    [InlineData("timerel=during&timeAt=2020-08-01T12:00:00Z")]
    [InlineData("timerel=before")]
    [InlineData("timerel=between&timeAt=2020-08-01T12:00:00Z")]
    [InlineData("timerel=between&timeAt=2020-08-01T12:00:00Z&endTimeAt=2020-08-01T11:00:00Z")]
    [InlineData("timerel=after&timeAt=noon")]
    [InlineData("timeproperty=seenAt")]
    [InlineData("lastN=0")]
    [InlineData("lastN=1.5")]
    [InlineData("options=aggregatedValues")]
    [InlineData("options=aggregatedValues&aggrMethods=median")]
    [InlineData("options=aggregatedValues&aggrMethods=sum&aggrPeriodDuration=1H")]
    public async Task Invalid_temporal_parameters_are_400(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}/{_a}?{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("options=keyValues")]
    [InlineData("options=temporalValues,sideways")]
    [InlineData("format=sideways")]
    public async Task Unknown_format_or_options_values_are_InvalidRequest(string query)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}/{_a}?{query}", tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task Unknown_entity_is_404()
    {
        await (await _client.Send(HttpMethod.Get, $"{Root}/urn:ngsi-ld:Vehicle:none", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
