using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Kontext.Bench;

/// <summary>
/// What federation costs (issue 13): a regional broker with no data of its own, two municipal brokers each holding half
/// of the parking spots, the region registering both as inclusive sources. Each round asks the same question of each
/// municipality directly and of the region (which asks both and merges), one after the other, so all three see the same
/// machine weather. The region's overhead per round is its latency minus the slower municipality's in that round; the
/// goal is at most 5 ms over the slowest source. CPU per request from /proc for every process.
/// </summary>
internal static class FederationSection
{
    private const string Entities = "/ngsi-ld/v1/entities";
    private const int PerSource = 2_000;
    private const int WarmUpRounds = 200;

    /// <summary>One question; <paramref name="RegionTenant"/> picks the region's registrations (default tenant: by type only).</summary>
    private sealed record Work(string Name, Func<int, string> Path, Func<int, string> PathAtSource, Func<string, bool> Expected, string? RegionTenant = null);

    /// <summary>The region's tenant whose registrations name each municipality's id pattern, so an id belongs to one source.</summary>
    private const string ByPatternTenant = "bypattern";

    private sealed class Tally
    {
        public readonly Latencies Latency = new();
        public ProcessCounters Used;
        public int Requests, Wrong;
    }

    public static async Task<(string Section, bool Healthy)> RunAsync(
        BenchOptions options, string brokerDll, string temp, Func<SocketsHttpHandler> handler, CancellationToken cancellationToken)
    {
        using var a = await BrokerProcess.StartAsync(brokerDll, Path.Combine(temp, "fed-a-data"), Path.Combine(temp, "fed-a.log"), cancellationToken,
            "--Kontext:Federation:ContextSourceAlias=municipality-a");
        using var b = await BrokerProcess.StartAsync(brokerDll, Path.Combine(temp, "fed-b-data"), Path.Combine(temp, "fed-b.log"), cancellationToken,
            "--Kontext:Federation:ContextSourceAlias=municipality-b");
        using var region = await BrokerProcess.StartAsync(brokerDll, Path.Combine(temp, "fed-region-data"), Path.Combine(temp, "fed-region.log"), cancellationToken,
            "--Kontext:Federation:ContextSourceAlias=region");
        using var ha = handler();
        using var hb = handler();
        using var hr = handler();
        using var ca = new HttpClient(ha) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        using var cb = new HttpClient(hb) { BaseAddress = b.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        using var cr = new HttpClient(hr) { BaseAddress = region.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
        Console.WriteLine($"municipality A pid {a.ProcessId}, B pid {b.ProcessId}, region pid {region.ProcessId}");

        await LoadAsync(ca, "A", cancellationToken);
        await LoadAsync(cb, "B", cancellationToken);
        foreach (var (name, source) in new[] { ("A", a), ("B", b) })
        {
            var registration = $$"""
                {"id":"urn:ngsi-ld:ContextSourceRegistration:bench-{{name}}","type":"ContextSourceRegistration",
                 "information":[{"entities":[{"type":"ParkingSpot"}]}],"mode":"inclusive",
                 "endpoint":"{{source.BaseAddress.ToString().TrimEnd('/')}}"}
                """;
            using var response = await cr.PostAsync("/ngsi-ld/v1/csourceRegistrations", Json(registration), cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"registration of {name} at the region: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            var byPattern = $$"""
                {"id":"urn:ngsi-ld:ContextSourceRegistration:bench-{{name}}-pattern","type":"ContextSourceRegistration",
                 "information":[{"entities":[{"type":"ParkingSpot","idPattern":"urn:ngsi-ld:ParkingSpot:{{name}}-.*"}]}],"mode":"inclusive",
                 "endpoint":"{{source.BaseAddress.ToString().TrimEnd('/')}}"}
                """;
            using var message = new HttpRequestMessage(HttpMethod.Post, "/ngsi-ld/v1/csourceRegistrations") { Content = Json(byPattern) };
            message.Headers.Add("NGSILD-Tenant", ByPatternTenant);
            using var patterned = await cr.SendAsync(message, cancellationToken);
            if (!patterned.IsSuccessStatusCode)
                throw new InvalidOperationException($"registration of {name} by id pattern at the region: {(int)patterned.StatusCode} {await patterned.Content.ReadAsStringAsync(cancellationToken)}");
        }

        var works = new[]
        {
            new Work("query `type=ParkingSpot&q=free>10&limit=20`",
                _ => $"{Entities}?type=ParkingSpot&q=free%3E10&limit=20", _ => $"{Entities}?type=ParkingSpot&q=free%3E10&limit=20",
                body => body.StartsWith('[') && body.Contains("ParkingSpot")),
            new Work("the same, registrations naming each municipality's id pattern",
                _ => $"{Entities}?type=ParkingSpot&q=free%3E10&limit=20", _ => $"{Entities}?type=ParkingSpot&q=free%3E10&limit=20",
                body => body.StartsWith('[') && body.Contains("ParkingSpot"), ByPatternTenant),
            new Work("retrieve `GET /entities/{id}` (the entity lives in A)",
                i => $"{Entities}/urn:ngsi-ld:ParkingSpot:A-{i % PerSource}", i => $"{Entities}/urn:ngsi-ld:ParkingSpot:A-{i % PerSource}",
                body => body.Contains("\"free\"")),
        };
        var rounds = Math.Max(50, options.QueryRequests);
        var sb = new StringBuilder();
        sb.AppendLine($"### Federation: a region over two municipal brokers ({PerSource:N0} parking spots each)");
        sb.AppendLine();
        sb.AppendLine($"{rounds} rounds per work after {WarmUpRounds} unmeasured ones; each round asks A, B and the region once, in turn (sequential, one client). The region has no data of its own; its registrations name the type only, or (third row, another tenant of the region) each municipality's id pattern too, so that an entity of the page can be at one source only and the region asks no second question.");
        sb.AppendLine();
        sb.AppendLine("| work | A p50 / p95 ms | B p50 / p95 ms | region p50 / p95 ms | region − slower source, p50 / p95 ms | CPU ms per request A / B / region |");
        sb.AppendLine("|---|---|---|---|---|---|");
        var healthy = true;
        foreach (var work in works)
        {
            var ta = new Tally();
            var tb = new Tally();
            var tr = new Tally();
            var overhead = new Latencies();
            var random = new Random(7);
            // Warm-up: connections, statements, the region's registration cache, and enough calls for the JIT's optimized tier.
            for (var i = 0; i < WarmUpRounds; i++)
            {
                await AskAsync(ca, work.PathAtSource(i), work, new Tally(), cancellationToken);
                await AskAsync(cb, work.PathAtSource(i).Replace(":A-", ":B-"), work, new Tally(), cancellationToken);
                await AskAsync(cr, work.Path(i), work, new Tally(), cancellationToken, tenant: work.RegionTenant);
            }
            var beforeA = a.ReadCounters();
            var beforeB = b.ReadCounters();
            var beforeR = region.ReadCounters();
            for (var round = 0; round < rounds; round++)
            {
                var i = random.Next(PerSource);
                var msA = await AskAsync(ca, work.PathAtSource(i), work, ta, cancellationToken);
                // B is asked what the region asks it: the same query, or a retrieve of an id B does not hold (a 404).
                var msB = await AskAsync(cb, work.PathAtSource(i), work, tb, cancellationToken, anyAnswer: true);
                var msR = await AskAsync(cr, work.Path(i), work, tr, cancellationToken, tenant: work.RegionTenant);
                overhead.AddMilliseconds(msR - Math.Max(msA, msB));
            }
            // The region's CPU includes asking both sources; the sources' CPU includes answering the region too.
            ta.Used = a.ReadCounters() - beforeA;
            tb.Used = b.ReadCounters() - beforeB;
            tr.Used = region.ReadCounters() - beforeR;
            healthy &= tr.Wrong == 0 && ta.Wrong == 0;
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {work.Name} | {P(ta.Latency)} | {P(tb.Latency)} | {P(tr.Latency)} | {overhead.Percentile(50):F2} / {overhead.Percentile(95):F2} | " +
                $"{ta.Used.CpuMilliseconds / (2.0 * rounds):F2} / {tb.Used.CpuMilliseconds / (2.0 * rounds):F2} / {tr.Used.CpuMilliseconds / rounds:F2} |");
            Console.WriteLine($"  {work.Name}: region p50 {tr.Latency.Percentile(50):F2} ms, overhead p50 {overhead.Percentile(50):F2} ms, {tr.Wrong} wrong answers");
        }
        sb.AppendLine();
        sb.AppendLine("- A source's CPU per request is its CPU over the run divided by the requests it answered (the bench's and the region's).");
        sb.AppendLine("- Command: `dotnet run -c Release --project bench/Kontext.Bench -- --only federation`.");
        return (sb.ToString(), healthy);
    }

    private static string P(Latencies latencies) => $"{latencies.Percentile(50):F2} / {latencies.Percentile(95):F2}";

    private static async Task<double> AskAsync(HttpClient client, string path, Work work, Tally tally, CancellationToken cancellationToken, bool anyAnswer = false, string? tenant = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (tenant is not null) request.Headers.Add("NGSILD-Tenant", tenant);
        var start = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        tally.Latency.AddMilliseconds(ms);
        tally.Requests++;
        if (!anyAnswer && (!response.IsSuccessStatusCode || !work.Expected(body))) tally.Wrong++;
        return ms;
    }

    private static async Task LoadAsync(HttpClient client, string name, CancellationToken cancellationToken)
    {
        var random = new Random(name == "A" ? 1 : 2);
        for (var first = 0; first < PerSource; first += 500)
        {
            var batch = new StringBuilder("[");
            for (var i = first; i < Math.Min(PerSource, first + 500); i++)
            {
                if (i > first) batch.Append(',');
                var (lon, lat) = EntityGenerator.RandomPoint(random, EntityGenerator.RadiusMetres);
                batch.Append(CultureInfo.InvariantCulture, $"{{\"id\":\"urn:ngsi-ld:ParkingSpot:{name}-{i}\",\"type\":\"ParkingSpot\",")
                    .Append(CultureInfo.InvariantCulture, $"\"free\":{{\"type\":\"Property\",\"value\":{random.Next(0, 40)}}},")
                    .Append(CultureInfo.InvariantCulture, $"\"location\":{{\"type\":\"GeoProperty\",\"value\":{{\"type\":\"Point\",\"coordinates\":[{lon:F6},{lat:F6}]}}}}}}");
            }
            batch.Append(']');
            using var response = await client.PostAsync("/ngsi-ld/v1/entityOperations/upsert", Json(batch.ToString()), cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"load of {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static ByteArrayContent Json(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
