using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Fuzz;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>
/// Thousands of mutated requests over every endpoint family (fixed seed): no answer is a 5xx, every error is a
/// ProblemDetails, and data written before the fuzz, in a tenant the fuzz never names, is intact afterwards.
/// The broker runs as its own process, so the requests cross Kestrel as they would in production. The longer run
/// (20,000+ requests, several seeds, against a live broker) is `bench/Kontext.Fuzz`.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private const string Baseline = "fuzz-baseline";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
    private BrokerProcess _broker = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerProcess.StartAsync(_data, new Dictionary<string, string>
        {
            ["Kontext__Contexts__FetchTimeout"] = "00:00:01",
            ["Kontext__Contexts__FetchRetries"] = "0",
            ["Kontext__Notifications__Timeout"] = "00:00:01",
            ["Kontext__Adapters__Sources__fuzz-tts__Kind"] = "tts",
            ["Kontext__Adapters__Sources__fuzz-tts__Secret"] = "fuzz-secret",
            ["Kontext__Adapters__Sources__fuzz-json__Kind"] = "json",
            ["Kontext__Adapters__Sources__fuzz-json__Secret"] = "fuzz-secret",
            ["Kontext__Adapters__Sources__fuzz-chirpstack__Kind"] = "chirpstack",
            ["Kontext__Adapters__Sources__fuzz-chirpstack__Secret"] = "fuzz-secret",
        });
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { BaseAddress = new Uri(_broker.Url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        _broker.Dispose();
        try { Directory.Delete(_data, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Three_thousand_mutated_requests_get_no_5xx_and_only_ProblemDetails_errors_and_leave_other_data_intact()
    {
        var before = await SnapshotBaselineAsync(create: true);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var requests = new RequestFuzzer(seed: 20261130, tenants: [null, "fuzz-a", "fuzz-b"]).Generate(3000).ToList();

        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, ct) =>
        {
            HttpRequestMessage message;
            try { message = request.ToHttp(); }
            catch (Exception ex) when (ex is UriFormatException or FormatException or InvalidOperationException) { return; } // the client refuses to send it
            try
            {
                using var response = await _client.SendAsync(message, ct);
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                if (FuzzOracle.Check(request.Method, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body) is { } problem)
                    failures.Add($"{problem}: {request}");
            }
            catch (HttpRequestException ex)
            {
                failures.Add($"no answer ({ex.Message}): {request}");
            }
        });

        failures.Should().BeEmpty("every answer must pass the oracle (the broker's errors: {0})",
            string.Join('\n', _broker.RecentLog.Split('\n').Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("      System.", StringComparison.Ordinal)).TakeLast(20)));
        _broker.HasExited.Should().BeFalse();
        var after = await SnapshotBaselineAsync(create: false);
        after.Should().Be(before, "the fuzz never names the baseline tenant, so nothing in it may change");
    }

    /// <summary>Entities, their history and a subscription in the baseline tenant, rendered as one string to compare.</summary>
    private async Task<string> SnapshotBaselineAsync(bool create)
    {
        if (create)
        {
            for (var i = 1; i <= 5; i++)
            {
                await _client.CreateOkAsync($$$$"""
                    {"id":"urn:ngsi-ld:Fuzz:{{{{i}}}}","type":"Fuzz","temperature":{"type":"Property","value":{{{{i}}}}.5,"observedAt":"2026-11-30T10:00:00Z"},
                     "rel":{"type":"Relationship","object":"urn:ngsi-ld:Fuzz:{{{{i % 5 + 1}}}}"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[4.3{{{{i}}}},50.8]}}}
                    """, tenant: Baseline);
                (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Fuzz:{i}/attrs",
                    """{"temperature":{"type":"Property","value":30,"observedAt":"2026-11-30T11:00:00Z"}}""", tenant: Baseline)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            }
            (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
                """{"id":"urn:ngsi-ld:Subscription:fuzz-1","type":"Subscription","entities":[{"type":"Fuzz"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""",
                tenant: Baseline)).StatusCode.Should().Be(HttpStatusCode.Created);
        }
        var snapshot = new JsonArray();
        for (var i = 1; i <= 5; i++)
        {
            snapshot.Add(await _client.GetEntityAsync($"urn:ngsi-ld:Fuzz:{i}", "?options=sysAttrs", tenant: Baseline));
            var history = await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Fuzz:{i}?options=sysAttrs", tenant: Baseline);
            snapshot.Add(JsonNode.Parse(await history.Content.ReadAsStringAsync()));
        }
        var subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:fuzz-1", tenant: Baseline)).JsonAsync();
        subscription.Remove("notification"); // its delivery counters move on their own (the endpoint is down)
        subscription.Remove("status");
        snapshot.Add(subscription);
        return snapshot.ToJsonString();
    }
}
