using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>
/// Pagination of temporal instances (clause 6.3.10): 206 with Content-Range "date-time start-end/size" and a follow-up
/// request (Link rel="next"); forwards without lastN, backwards with it. Walking 10,000 instances returns each exactly once.
/// </summary>
public sealed class TemporalPaginationTests(TemporalPaginationTests.YearOfReadings data) : IClassFixture<TemporalPaginationTests.YearOfReadings>
{
    private const int Total = 10_000;
    private const int Limit = 700;
    private readonly HttpClient _client = data.Client;
    private readonly string _id = data.Id;

    /// <summary>One broker with a small instance limit and a year of one meter's readings, shared by the walks.</summary>
    public sealed class YearOfReadings : IAsyncLifetime
    {
    private readonly BrokerFactory _factory = new(settings: new Dictionary<string, string?> { ["Kontext:Temporal:InstanceLimit"] = Limit.ToString() });
    public HttpClient Client { get; private set; } = null!;
    public string Id { get; } = Api.NewId("Meter");
    private HttpClient _client => Client;
    private string _id => Id;
    public static readonly DateTimeOffset Start = new(2023, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public async Task InitializeAsync()
    {
        Client = _factory.CreateClient();
        // A year of readings, 10,000 of them, roughly every 52 minutes; sent in chunks.
        for (var chunk = 0; chunk < Total; chunk += 2000)
        {
            var entity = new JsonObject
            {
                ["id"] = _id, ["type"] = "Meter",
                ["power"] = new JsonArray(Enumerable.Range(chunk, 2000).Select(i => (JsonNode)new JsonObject
                {
                    ["type"] = "Property", ["value"] = i, ["observedAt"] = Start.AddMinutes(i * 52.56).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
                }).ToArray()),
            };
            var response = await _client.CreateTemporalAsync(entity);
            response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _factory.DeleteData();
    }
    }

    private static DateTimeOffset Start => YearOfReadings.Start;

    private async Task<List<int>> WalkAsync(string firstUrl, bool backward)
    {
        var seen = new List<int>();
        var url = firstUrl;
        var pages = 0;
        while (url is not null)
        {
            var response = await _client.Send(HttpMethod.Get, url);
            var text = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).Should().BeOneOf([200, 206], text);
            var values = Instances(JsonNode.Parse(text)!, "power").Select(i => i["value"]!.GetValue<int>()).ToList();
            values.Count.Should().BeLessThanOrEqualTo(Limit);
            if (backward) seen.InsertRange(0, values); else seen.AddRange(values);
            url = null;
            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                response.Content.Headers.TryGetValues("Content-Range", out var range).Should().BeTrue();
                range!.Single().Should().MatchRegex(@"^date-time \S+Z-\S+Z/(\*|\d+)$");
                var next = response.Headers.GetValues("Link").Single(l => l.Contains("rel=\"next\""));
                url = next[(next.IndexOf('<') + 1)..next.IndexOf('>')];
            }
            (++pages).Should().BeLessThan(100);
        }
        return seen;
    }

    [Fact]
    public async Task Walking_forwards_returns_each_instance_exactly_once_in_order()
    {
        var seen = await WalkAsync($"{Root}/{_id}?timerel=after&timeAt=2022-12-31T00:00:00Z", backward: false);
        seen.Should().Equal(Enumerable.Range(0, Total));
    }

    [Fact]
    public async Task Walking_a_between_window_returns_exactly_the_window()
    {
        var from = Start.AddMinutes(1000 * 52.56);
        var to = Start.AddMinutes(4500 * 52.56);
        var seen = await WalkAsync($"{Root}/{_id}?timerel=between&timeAt={from:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}&endTimeAt={to:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}", backward: false);
        seen.Should().Equal(Enumerable.Range(1000, 3500));
    }

    [Fact]
    public async Task Walking_backwards_with_lastN_returns_each_instance_exactly_once()
    {
        var seen = await WalkAsync($"{Root}/{_id}?lastN={Total}", backward: true);
        seen.Should().Equal(Enumerable.Range(0, Total));
    }

    [Fact]
    public async Task LastN_within_the_limit_is_complete()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}/{_id}?lastN=5");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        Instances(JsonNode.Parse(await response.Content.ReadAsStringAsync())!, "power").Select(i => i["value"]!.GetValue<int>())
            .Should().Equal(Enumerable.Range(Total - 5, 5));
    }

    [Fact]
    public async Task An_attribute_whose_instances_all_fall_after_the_page_cut_is_shown_empty()
    {
        // 800 readings of "early" in January, 3 of "late" in February: the first page ends in January.
        var id = Api.NewId("Meter");
        JsonArray Readings(int count, DateTimeOffset from) => new(Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject
        {
            ["type"] = "Property", ["value"] = i, ["observedAt"] = from.AddMinutes(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        }).ToArray());
        var entity = new JsonObject
        {
            ["id"] = id, ["type"] = "Meter",
            ["early"] = Readings(800, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            ["late"] = Readings(3, new DateTimeOffset(2020, 2, 1, 0, 0, 0, TimeSpan.Zero)),
        };
        (await _client.CreateTemporalAsync(entity)).IsSuccessStatusCode.Should().BeTrue();

        var normalized = await _client.Send(HttpMethod.Get, $"{Root}/{id}?timerel=after&timeAt=2019-01-01T00:00:00Z");
        normalized.StatusCode.Should().Be(HttpStatusCode.PartialContent);
        var body = JsonNode.Parse(await normalized.Content.ReadAsStringAsync())!;
        body["early"]!.AsArray().Should().HaveCount(Limit);
        body["late"]!.AsArray().Should().BeEmpty("the attribute continues on the next page");

        var simplified = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, $"{Root}/{id}?timerel=after&timeAt=2019-01-01T00:00:00Z&options=temporalValues")).Content.ReadAsStringAsync())!;
        simplified["late"]!["type"]!.GetValue<string>().Should().Be("Property");
        simplified["late"]!["values"]!.AsArray().Should().BeEmpty();
    }
}
