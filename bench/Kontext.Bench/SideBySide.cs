using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Kontext.Bench;

/// <summary>
/// Kontext and the bare baseline app (bench/Kontext.Bench.Baseline) running at the same time, loaded with the same
/// entities, then measured in interleaved slices (K, B, B, K, K, B, …) so both see the same machine weather. Per work
/// and app: throughput, latency percentiles, and the app process's CPU time and bytes written per request (from /proc),
/// which stay meaningful on a shared machine where throughput does not (issue 12, D13). With --side-against, another
/// Kontext build takes the bare app's place and every work, its own included, runs on both.
/// </summary>
internal static class SideBySideSection
{
    private const string Entities = "/ngsi-ld/v1/entities";

    private sealed record App(string Name, BrokerProcess Process, HttpClient Client);

    /// <summary>One request of a work against one app; true when the answer was the expected one.</summary>
    private delegate Task<bool> Request(HttpClient client, Random random, CancellationToken cancellationToken);

    private sealed class Tally
    {
        public int Requests, Errors;
        public TimeSpan Elapsed;
        public readonly Latencies Latency = new();
        public ProcessCounters Used;
        public double PerSecond => Requests / Elapsed.TotalSeconds;
        public double CpuPerRequest => Used.CpuMilliseconds / Math.Max(1, Requests);
        public double KbWrittenPerRequest => Used.WriteBytes / 1024.0 / Math.Max(1, Requests);
        public double KbWriteCallsPerRequest => Used.WriteChars / 1024.0 / Math.Max(1, Requests);
        public double SwitchesPerRequest => Used.ContextSwitches / (double)Math.Max(1, Requests);
        public string Calls => $"{Used.ReadCalls / (double)Math.Max(1, Requests):F2} reads ({Used.ReadChars / 1024.0 / Math.Max(1, Requests):F1} KB), {Used.WriteCalls / (double)Math.Max(1, Requests):F2} writes ({KbWriteCallsPerRequest:F1} KB) per req";
    }

    public static async Task<(string Section, bool Healthy)> RunAsync(
        BenchOptions options, string brokerDll, string baselineDll, string temp, Func<SocketsHttpHandler> handler, CancellationToken cancellationToken)
    {
        var (generator, batches) = EntityGenerator.DataSet(options.Entities, options.BatchSize);
        var entities = generator.Entities;
        var airQuality = entities.Where(e => e.Type == "AirQualityObserved").ToList();
        var airQualityGrid = new PointGrid(airQuality);

        using var kontext = await BrokerProcess.StartAsync(brokerDll, Path.Combine(temp, "side-kontext-data"), Path.Combine(temp, "side-kontext.log"), cancellationToken);
        var against = options.SideAgainst is not null;
        using var baseline = against
            ? await BrokerProcess.StartAsync(options.SideAgainst!, Path.Combine(temp, "side-baseline-data"), Path.Combine(temp, "side-against.log"), cancellationToken)
            : await BrokerProcess.StartBaselineAsync(baselineDll, Path.Combine(temp, "side-baseline-data"), Path.Combine(temp, "side-baseline.log"), cancellationToken);
        using var kontextHandler = handler();
        using var baselineHandler = handler();
        var k = new App("Kontext", kontext, new HttpClient(kontextHandler) { BaseAddress = kontext.BaseAddress, Timeout = TimeSpan.FromMinutes(2) });
        var b = new App(against ? "against" : "baseline", baseline, new HttpClient(baselineHandler) { BaseAddress = baseline.BaseAddress, Timeout = TimeSpan.FromMinutes(2) });
        Console.WriteLine($"Kontext pid {kontext.ProcessId}, {b.Name} pid {baseline.ProcessId}");

        // ---- load: the same batches into both, one after the other ----
        var load = new Dictionary<string, Tally>();
        load[k.Name] = await PostBatchesAsync(k, "/ngsi-ld/v1/entityOperations/upsert", batches, entities.Count, options.UpsertClients, "load", cancellationToken);
        load[b.Name] = await PostBatchesAsync(b, against ? "/ngsi-ld/v1/entityOperations/upsert" : "/batch", batches, entities.Count, options.UpsertClients, "load", cancellationToken);

        // ---- new readings of the existing entities, through upsert (replace) and update, Kontext only (--side-rewrite) ----
        var rewrites = new List<(string Work, Tally Kontext)>();
        if (options.SideRewrite)
        {
            var round = 0;
            foreach (var (work, path) in new[] { ("upsert of existing entities", "/ngsi-ld/v1/entityOperations/upsert"), ("update of existing entities", "/ngsi-ld/v1/entityOperations/update") })
            {
                var tally = await PostBatchesAsync(k, path, generator.Readings(++round, options.BatchSize), entities.Count, options.UpsertClients, work, cancellationToken);
                rewrites.Add(($"{work}, batches of {options.BatchSize} ({options.UpsertClients} clients; per entity; latency per batch)", tally));
            }
        }

        // ---- the works, interleaved ----
        Request get(bool isKontext) => async (client, random, ct) =>
        {
            var entity = entities[random.Next(entities.Count)];
            using var response = await client.GetAsync(isKontext ? $"{Entities}/{entity.Id}" : $"/entities/{entity.Id}", ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            return response.StatusCode == HttpStatusCode.OK && body.Length > 0;
        };
        Request patch(bool isKontext) => async (client, random, ct) =>
        {
            var entity = airQuality[random.Next(airQuality.Count)];
            var value = Math.Round(random.NextDouble() * 120, 2).ToString(CultureInfo.InvariantCulture);
            using var content = new StringContent("{\"no2\":{\"type\":\"Property\",\"value\":" + value + "}}", Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var message = new HttpRequestMessage(HttpMethod.Patch, isKontext ? $"{Entities}/{entity.Id}/attrs" : $"/entities/{entity.Id}/attrs") { Content = content };
            using var response = await client.SendAsync(message, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            return response.StatusCode == HttpStatusCode.NoContent;
        };
        Request query(bool isKontext, bool count, int limit = 20) => async (client, random, ct) =>
        {
            var threshold = random.Next(0, 110);
            var url = isKontext
                ? $"{Entities}?type=AirQualityObserved&q={Uri.EscapeDataString($"no2>{threshold}")}&limit={limit}{(count ? "&count=true" : "")}"
                : $"/entities?type=AirQualityObserved&attr=no2&gt={threshold}&limit={limit}";
            using var response = await client.GetAsync(url, ct);
            await response.Content.ReadAsByteArrayAsync(ct);
            return response.StatusCode == HttpStatusCode.OK && (!count || response.Headers.Contains("NGSILD-Results-Count"));
        };

        // near;maxDistance==500 with a type, checked against the generated coordinates: as many results as there are within 500 m (capped by the limit).
        Request near = async (client, random, ct) =>
        {
            var (lon, lat) = EntityGenerator.RandomPoint(random, EntityGenerator.RadiusMetres);
            var coordinates = string.Create(CultureInfo.InvariantCulture, $"[{lon},{lat}]");
            var url = $"{Entities}?type=AirQualityObserved&georel={Uri.EscapeDataString("near;maxDistance==500")}&geometry=Point&coordinates={Uri.EscapeDataString(coordinates)}&limit=20";
            using var response = await client.GetAsync(url, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var expected = Math.Min(20, airQualityGrid.CountWithin(lon, lat, 500));
            return System.Text.Json.JsonDocument.Parse(body).RootElement.GetArrayLength() == expected;
        };
        var works = options.SideLoadOnly ? [] : new List<(string Work, Request Kontext, Request? Baseline, int Clients)>
        {
            ("GET /entities/{id}", get(true), get(against), options.SideClients),
            ("PATCH /entities/{id}/attrs (one attribute)", patch(true), patch(against), options.SideClients),
            ("type + q `no2>N`, limit=20 (sequential)", query(true, false), query(against, false), 1),
            ("the same with count=true (sequential)", query(true, true), against ? query(true, true) : null, 1),
            ($"type + q `no2>N`, limit=20 ({options.SideClients} clients)", query(true, false), query(against, false), options.SideClients),
            ("type + q `no2>N`, limit=100 (sequential)", query(true, false, 100), query(against, false, 100), 1),
            ("type + `near;maxDistance==500`, limit=20 (sequential)", near, against ? near : null, 1),
        };
        var results = new List<(string Work, Tally Kontext, Tally? Baseline)>();
        var slice = TimeSpan.FromSeconds(options.SideSeconds);
        foreach (var (work, kontextRequest, baselineRequest, clients) in works)
        {
            Console.WriteLine($"  {work}: {options.SideRounds} rounds of {slice.TotalSeconds:F0} s per app, {clients} clients");
            // Warm-up (JIT, connections, page cache), not measured.
            await SliceAsync(k, kontextRequest, clients, TimeSpan.FromSeconds(1), null, cancellationToken);
            if (baselineRequest is not null) await SliceAsync(b, baselineRequest, clients, TimeSpan.FromSeconds(1), null, cancellationToken);
            var kt = new Tally();
            var bt = baselineRequest is null ? null : new Tally();
            for (var round = 0; round < options.SideRounds; round++)
            {
                // Alternate who goes first, so a drift in machine load hits both alike.
                if (round % 2 == 0 || bt is null)
                {
                    await SliceAsync(k, kontextRequest, clients, slice, kt, cancellationToken);
                    if (bt is not null) await SliceAsync(b, baselineRequest!, clients, slice, bt, cancellationToken);
                }
                else
                {
                    await SliceAsync(b, baselineRequest!, clients, slice, bt, cancellationToken);
                    await SliceAsync(k, kontextRequest, clients, slice, kt, cancellationToken);
                }
            }
            Console.WriteLine($"    Kontext {kt.PerSecond:N0}/s, {kt.CpuPerRequest:F3} ms CPU, {kt.KbWrittenPerRequest:F1} KB/req, {kt.SwitchesPerRequest:F2} switches/req, {kt.Calls}"
                              + (bt is null ? "" : $"; baseline {bt.PerSecond:N0}/s, {bt.CpuPerRequest:F3} ms CPU, {bt.KbWrittenPerRequest:F1} KB/req, {bt.SwitchesPerRequest:F2} switches/req, {bt.Calls}"));
            results.Add((work, kt, bt));
        }

        var healthy = !kontext.HasExited && !baseline.HasExited && load.Values.All(t => t.Errors == 0) && rewrites.All(r => r.Kontext.Errors == 0)
                      && results.All(r => r.Kontext.Errors == 0 && (r.Baseline?.Errors ?? 0) == 0);
        var footprint = new Footprint(kontext.SampledPeakRssBytes, baseline.SampledPeakRssBytes, kontext.ReadResidency(), baseline.ReadResidency(),
            DirectoryBytes(Path.Combine(temp, "side-kontext-data")), DirectoryBytes(Path.Combine(temp, "side-baseline-data")));
        return (Report(options, b.Name, load, rewrites, results, footprint, healthy), healthy);
    }

    /// <summary>Posts every batch to one app from <paramref name="clients"/> clients; the tally counts entities, not requests.</summary>
    private static async Task<Tally> PostBatchesAsync(App app, string path, IReadOnlyList<byte[]> batches, int entities, int clients, string work, CancellationToken cancellationToken)
    {
        var tally = new Tally();
        var next = -1;
        var before = app.Process.ReadCounters();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Count)
            {
                using var content = new ByteArrayContent(batches[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var start = Stopwatch.GetTimestamp();
                using var response = await app.Client.PostAsync(path, content, cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
                tally.Latency.Add(start);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref tally.Errors);
            }
        }, cancellationToken)));
        tally.Elapsed = clock.Elapsed;
        tally.Used = app.Process.ReadCounters() - before;
        tally.Requests = entities; // per entity
        Console.WriteLine($"  {work} {app.Name}: {tally.PerSecond:N0} entities/s, {tally.CpuPerRequest:F2} ms CPU and {tally.KbWrittenPerRequest:F1} KB written per entity");
        return tally;
    }

    private static async Task SliceAsync(App app, Request request, int clients, TimeSpan duration, Tally? tally, CancellationToken cancellationToken)
    {
        var before = app.Process.ReadCounters();
        var clock = Stopwatch.StartNew();
        int requests = 0, errors = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(Environment.TickCount ^ (c * 7919));
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                var ok = await request(app.Client, random, cancellationToken);
                tally?.Latency.Add(start);
                Interlocked.Increment(ref requests);
                if (!ok) Interlocked.Increment(ref errors);
            }
        }, cancellationToken)));
        var elapsed = clock.Elapsed;
        if (tally is null) return;
        tally.Used += app.Process.ReadCounters() - before;
        tally.Elapsed += elapsed;
        tally.Requests += requests;
        tally.Errors += errors;
    }

    private sealed record Footprint(long KontextPeakRss, long BaselinePeakRss, Residency? KontextEnd, Residency? BaselineEnd, long KontextDiskBytes, long BaselineDiskBytes);

    private static long DirectoryBytes(string path) =>
        Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    private static string Report(BenchOptions options, string other, Dictionary<string, Tally> load, List<(string Work, Tally Kontext)> rewrites,
        List<(string Work, Tally Kontext, Tally? Baseline)> results, Footprint footprint, bool healthy)
    {
        var sb = new StringBuilder();
        var label = options.Label is null ? "" : $", {options.Label}";
        var against = options.SideAgainst is not null;
        sb.AppendLine(against ? $"## Side by side with another Kontext build ({options.Entities:N0} entities{label})" : $"## Side by side with the bare baseline ({options.Entities:N0} entities{label})");
        sb.AppendLine();
        sb.AppendLine($"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with `dotnet run -c Release --project bench/Kontext.Bench -- --only side --entities {options.Entities}"
                      + $" --side-rounds {options.SideRounds} --side-seconds {options.SideSeconds} --side-clients {options.SideClients}{(options.SideRewrite ? " --side-rewrite" : "")}{(options.SideLoadOnly ? " --side-load-only" : "")}{(against ? $" --side-against {options.SideAgainst}" : "")}{(options.Label is null ? "" : $" --label {options.Label}")}`.");
        sb.AppendLine();
        sb.AppendLine($"| work | app | req/s | p50 / p95 / p99 ms | CPU ms per req | KB written per req (write_bytes) | KB passed to write() per req | context switches per req | Kontext ÷ {other} (throughput; CPU per req) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        static string Row(string work, string app, Tally t, string ratio) =>
            $"| {work} | {app} | {t.PerSecond:N0} | {t.Latency.Percentile(50):F2} / {t.Latency.Percentile(95):F2} / {t.Latency.Percentile(99):F2} | {t.CpuPerRequest:F3} | {t.KbWrittenPerRequest:F1} | {t.KbWriteCallsPerRequest:F1} | {t.SwitchesPerRequest:F2} | {ratio} |";
        static string Ratio(Tally kontext, Tally? baseline) => baseline is null || baseline.Requests == 0 ? "—"
            : $"{kontext.PerSecond / baseline.PerSecond:F2}×; {kontext.CpuPerRequest / Math.Max(0.0001, baseline.CpuPerRequest):F2}×";
        var loadWork = $"load, batches of {options.BatchSize} ({options.UpsertClients} clients; per entity; latency per batch)";
        sb.AppendLine(Row(loadWork, "Kontext", load["Kontext"], Ratio(load["Kontext"], load[other])));
        sb.AppendLine(Row(loadWork, other, load[other], ""));
        foreach (var (work, kontext) in rewrites) sb.AppendLine(Row(work, "Kontext", kontext, "—"));
        foreach (var (work, kontext, baseline) in results)
        {
            sb.AppendLine(Row(work, "Kontext", kontext, Ratio(kontext, baseline) + (kontext.Errors > 0 ? $" ({kontext.Errors} errors)" : "")));
            if (baseline is not null) sb.AppendLine(Row(work, other, baseline, baseline.Errors > 0 ? $"({baseline.Errors} errors)" : ""));
        }
        sb.AppendLine();
        const double MiB = 1024.0 * 1024.0;
        sb.AppendLine($"Memory (peak resident set, sampled): Kontext {footprint.KontextPeakRss / MiB:N0} MB, {other} {footprint.BaselinePeakRss / MiB:N0} MB. "
                      + $"Data directory at the end (WAL included): Kontext {footprint.KontextDiskBytes / MiB:N1} MB ({footprint.KontextDiskBytes / 1024.0 / Math.Max(1, options.Entities):F1} KB per entity), "
                      + $"{other} {footprint.BaselineDiskBytes / MiB:N1} MB.");
        if (footprint.KontextEnd is { } kontextEnd && footprint.BaselineEnd is { } otherEnd)
            sb.AppendLine($"At the end (/proc/<pid>/status): Kontext {kontextEnd.Describe()}; {other} {otherEnd.Describe()}.");
        sb.AppendLine();
        sb.AppendLine("### Machine");
        sb.AppendLine();
        sb.Append(ResultsFile.Machine());
        sb.AppendLine();
        sb.AppendLine("### Set-up");
        sb.AppendLine();
        sb.AppendLine("- Both apps run at once as separate processes on 127.0.0.1, each on a fresh data directory, loaded with the same generated entities (see the entities section).");
        if (against) sb.AppendLine($"  `against` is the Kontext build `{options.SideAgainst}`, loaded and asked exactly as `Kontext` (the build under --broker).");
        else sb.AppendLine("  The baseline is `bench/Kontext.Bench.Baseline`: Kestrel + Microsoft.Data.Sqlite, WAL, synchronous=FULL, one group-committing writer, pooled readers with prepared statements;\n"
            + "  a GET is one indexed SELECT of the stored JSON, a PATCH one durable `UPDATE … json_patch`, the query one `type` index walk with `json_extract` in rowid order.");
        sb.AppendLine($"- Each work runs {options.SideRounds} rounds of {options.SideSeconds} s per app, the apps alternating (K B, B K, …) after 1 s of unmeasured warm-up each; the figures add up the rounds.");
        sb.AppendLine("- CPU per request: user + system time of the app process (/proc/<pid>/stat) over the slices ÷ requests. KB written: `write_bytes` of /proc/<pid>/io (bytes the process");
        sb.AppendLine("  sent towards the disk, WAL and checkpoints included) ÷ requests; `wchar` counts every byte passed to write(), sockets included. The load generator runs on the same 2 cores.");
        sb.AppendLine("- PATCH changes `no2` of a random AirQualityObserved entity; the query is `type=AirQualityObserved&q=no2>N&limit=20` (or 100) with N random in 0–109 (the baseline: the same filter by `json_extract`),");
        sb.AppendLine("  from one client (sequential) or from as many as the GET and PATCH rows.");
        if (!healthy) sb.AppendLine("- **Errors or an exited process: see the table.**");
        return sb.ToString();
    }

    /// <summary>
    /// Points by 0.01° cell, so that a near request's expected count reads the cells around the point instead of every
    /// generated entity: the check runs inside the timed request, and at 1M entities a linear count (250,000 distances)
    /// took longer than the broker's answer.
    /// </summary>
    private sealed class PointGrid
    {
        private const double Degrees = 0.01;
        private readonly Dictionary<(int, int), List<GeneratedEntity>> _cells = [];

        public PointGrid(IEnumerable<GeneratedEntity> points)
        {
            foreach (var point in points)
            {
                var key = (Cell(point.Lon), Cell(point.Lat));
                if (!_cells.TryGetValue(key, out var cell)) _cells[key] = cell = [];
                cell.Add(point);
            }
        }

        /// <summary>The points within <paramref name="metres"/> of (lon, lat), by the broker's distance.</summary>
        public int CountWithin(double lon, double lat, double metres)
        {
            // Enough cells either way to hold the circle: a degree of latitude is ≥ 110.5 km, of longitude 111.3 km × cos(lat),
            // with a degree of margin in latitude for the cosine.
            var spanLat = (int)Math.Ceiling(metres / (Degrees * 110_574.0));
            var spanLon = (int)Math.Ceiling(metres / (Degrees * 111_320.0 * Math.Cos((Math.Abs(lat) + 1) * Math.PI / 180)));
            var (x, y) = (Cell(lon), Cell(lat));
            var count = 0;
            for (var i = x - spanLon; i <= x + spanLon; i++)
                for (var j = y - spanLat; j <= y + spanLat; j++)
                    if (_cells.TryGetValue((i, j), out var cell))
                        foreach (var point in cell)
                            if (EntityGenerator.Haversine(lon, lat, point.Lon, point.Lat) <= metres) count++;
            return count;
        }

        private static int Cell(double degrees) => (int)Math.Floor(degrees / Degrees);
    }
}
