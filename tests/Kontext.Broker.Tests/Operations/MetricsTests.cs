using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Adapters;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Operations;

public sealed class MetricsFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Metrics:EntityCountInterval"] = "00:00:00",
});

/// <summary>GET /metrics in the Prometheus format: HTTP, store latency, entity counts per tenant, notifications.</summary>
public sealed class MetricsTests(MetricsFixture fx) : IClassFixture<MetricsFixture>
{
    private async Task<string> ScrapeAsync()
    {
        var response = await fx.Client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        return await response.Content.ReadAsStringAsync();
    }

    private static IEnumerable<string> Samples(string text, string metric) =>
        text.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal));

    [Fact]
    public async Task Store_write_and_query_latency_and_entity_counts_per_tenant_are_reported()
    {
        var tenant = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 3; i++) await fx.Client.CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""", tenant: tenant);
        await fx.Client.Send(HttpMethod.Get, Api.Entities + "?type=Thing", tenant: tenant);
        var text = await ScrapeAsync();
        Samples(text, "kontext_store_write_duration_seconds_count").Should().Contain(l => l.Contains("store=\"sqlite\""));
        Samples(text, "kontext_store_query_duration_seconds_count").Should().Contain(l => l.Contains("store=\"sqlite\""));
        Samples(text, "kontext_entities").Should().Contain(l => l.Contains($"tenant=\"{tenant}\"") && l.TrimEnd().EndsWith(" 3"));
    }

    [Fact]
    public async Task Notifications_sent_and_outbox_lag_are_reported()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var tenant = "metrics-n-" + Guid.NewGuid().ToString("N")[..8];
        var subscription = $$"""{"id":"urn:ngsi-ld:Subscription:{{Guid.NewGuid():N}}","type":"Subscription","entities":[{"type":"Thing"}],"notification":{"endpoint":{"uri":"{{receiver.Url}}"} } }""";
        (await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription, tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        await fx.Client.CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing","n":{"type":"Property","value":1} }""", tenant: tenant);
        (await receiver.WaitForAsync(1)).Should().NotBeEmpty();
        string text = "";
        for (var attempt = 0; attempt < 50 && !Samples(text, "kontext_notifications_sent_total").Any(); attempt++)
        {
            text = await ScrapeAsync();
            if (!Samples(text, "kontext_notifications_sent_total").Any()) await Task.Delay(100);
        }
        Samples(text, "kontext_notifications_sent_total").Should().NotBeEmpty();
        Samples(text, "kontext_notifications_outbox_lag_seconds_count").Should().NotBeEmpty();
        text.Should().Contain("kontext_notifications_pending");
    }
}

/// <summary>
/// ASP.NET Core's HTTP meters belong to each host's meter factory and the exporter keeps the first instrument of a name,
/// so with several in-process test brokers only one broker's HTTP metrics would show: this is checked on a broker process.
/// </summary>
public sealed class HttpMetricsProcessTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("kontext-metrics-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_data, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Http_requests_are_measured_by_route_status_and_duration()
    {
        using var broker = await BrokerProcess.StartAsync(_data);
        using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
        (await client.GetAsync(Api.Entities + "/urn:ngsi-ld:Thing:absent")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var text = await client.GetStringAsync("/metrics");
        var lines = text.Split('\n');
        lines.Should().Contain(l => l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && l.Contains("http_route=\"/ngsi-ld/v1/entities/{entityId}\"") && l.Contains("http_response_status_code=\"404\""), text);
        lines.Should().Contain(l => l.StartsWith("http_server_request_duration_seconds_bucket{", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("kontext_entities{", StringComparison.Ordinal) && l.Contains("urn:ngsi-ld:tenant:default"));
    }
}

/// <summary>With Kontext:Metrics:ScrapeKey, /metrics needs that key as a bearer credential.</summary>
public sealed class MetricsScrapeKeyFixture() : BrokerFixtureBase(new Dictionary<string, string?> { ["Kontext:Metrics:ScrapeKey"] = "scrape-secret-1" });

public sealed class MetricsScrapeKeyTests(MetricsScrapeKeyFixture fx) : IClassFixture<MetricsScrapeKeyFixture>
{
    [Fact]
    public async Task Metrics_need_the_scrape_key_when_one_is_set()
    {
        var anonymous = await fx.Client.GetAsync("/metrics");
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.JsonAsync())["type"]!.GetValue<string>().Should().Be("urn:kontext:errors:Unauthorized");
        anonymous.Headers.WwwAuthenticate.Should().NotBeEmpty();
        var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } };
        (await fx.Client.SendAsync(wrong)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var right = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret-1") } };
        (await fx.Client.SendAsync(right)).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>Adapter uplinks are counted by source and outcome; dead letters by source and reason.</summary>
[Collection(AdapterCollection.Name)]
public sealed class AdapterMetricsTests(AdapterFixture fixture)
{
    [Fact]
    public async Task Unmapped_uplink_is_counted_as_dead_lettered()
    {
        var envelope = VendorPayloads.Tts(VendorPayloads.NewEui(), "nobody/no-such-model", 1, 1, [1, 2], new JsonObject { ["x"] = 1 });
        (await fixture.Client.PostTts("ttn", envelope)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        var text = await (await fixture.Client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        text.Split('\n').Should().Contain(l => l.StartsWith("kontext_adapter_uplinks_total{") && l.Contains("source=\"ttn\"") && l.Contains("outcome=\"dead_lettered\""));
        text.Split('\n').Should().Contain(l => l.StartsWith("kontext_adapter_dead_letters_total{") && l.Contains("reason=\"unmapped\""));
    }
}
