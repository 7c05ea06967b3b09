using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kontext.Bench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (HelpRequested)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

var brokerDll = options.BrokerDll ?? BenchOptions.Metadata("BrokerDll");
var output = options.Output ?? Path.Combine(BenchOptions.Metadata("BenchDirectory"), "RESULTS.md");
if (!File.Exists(brokerDll))
{
    Console.Error.WriteLine($"Broker not found at '{brokerDll}'. Build it (dotnet build src/Kontext.Broker -c Release) or pass --broker.");
    return 2;
}
var configuration = BenchOptions.Metadata("BuildConfiguration");
if (configuration != "Release") Console.Error.WriteLine($"WARNING: built as {configuration}; numbers are only meaningful with -c Release.");

var temp = Directory.CreateTempSubdirectory("kontext-bench-").FullName;
using var cancellation = new CancellationTokenSource(options.Timeout);
BrokerProcess? broker = null;
var brokerLock = new object();
void StopBroker()
{
    lock (brokerLock)
    {
        broker?.Dispose();
        broker = null;
    }
}
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => StopBroker(); // SIGTERM: never leave the broker behind
var total = Stopwatch.StartNew();
string? currentLog = null;
var allHealthy = true;
async Task<BrokerProcess> StartBrokerAsync(string name, params string[] extraArgs)
{
    currentLog = Path.Combine(temp, name + ".log");
    var process = await BrokerProcess.StartAsync(brokerDll, Path.Combine(temp, name + "-data"), currentLog, cancellation.Token, extraArgs);
    lock (brokerLock) broker = process;
    return process;
}
// A group's section on the console and in the results file (each group replaces only its own section).
void Publish(string group, string section)
{
    Console.WriteLine(section);
    ResultsFile.WriteSection(output, group, section);
    Console.WriteLine($"Written to {output}");
}

SocketsHttpHandler Handler() => new()
{
    UseProxy = false, // 127.0.0.1 only, never through a proxy
    MaxConnectionsPerServer = 16,
    ConnectTimeout = TimeSpan.FromSeconds(5),
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    AutomaticDecompression = System.Net.DecompressionMethods.None,
};

try
{
    Console.WriteLine($"Kontext.Bench: groups {(options.Only.Count == 0 ? "all" : string.Join(",", options.Only))}, broker {brokerDll}");
    Console.WriteLine($"Temp directory {temp}");
  if (options.Runs("entities"))
  {
    Console.WriteLine($"== entities: {options.Entities:N0}");

    // Data, generated once and deterministically, before anything is timed.
    var (generator, batches) = EntityGenerator.DataSet(options.Entities, options.BatchSize);
    var entities = generator.Entities;
    Console.WriteLine($"Generated {entities.Count:N0} entities in {batches.Count} batches ({batches.Sum(b => (long)b.Length) / 1024.0 / 1024.0:F1} MiB of JSON)");

    // ---- HTTP: the real broker in its own process ----
    var startClock = Stopwatch.StartNew();
    var brokerData = Path.Combine(temp, "entities-data");
    var started = await StartBrokerAsync("entities");
    var startup = startClock.Elapsed;
    var idleRssKb = started.ReadStatusKb("VmRSS");
    Console.WriteLine($"Broker pid {started.ProcessId} on {started.BaseAddress} (ready in {startup.TotalSeconds:F1} s), idle RSS {idleRssKb / 1024.0:F0} MB");

    using var handler = Handler();
    using var client = new HttpClient(handler) { BaseAddress = started.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
    var http = new HttpPhases(client, options, batches, entities);

    Console.WriteLine($"[1/6] Batch upsert over HTTP: {batches.Count} batches of {options.BatchSize}, {options.UpsertClients} clients");
    var upsert = await http.UpsertAsync(cancellation.Token);
    var rssAfterLoad = started.ReadStatusKb("VmRSS");
    Console.WriteLine($"      {upsert.PerSecond:N0} entities/s ({upsert.Elapsed.TotalSeconds:F1} s, {upsert.Created:N0} created, {upsert.Failed} failed batches)");

    Console.WriteLine($"[2/6] GET /entities/{{id}}: {options.GetRequests:N0} requests, {options.GetClients} clients");
    var retrieve = await http.RetrieveAsync(cancellation.Token);
    Console.WriteLine($"      {retrieve.PerSecond:N0} req/s, p50 {retrieve.Latency.Percentile(50):F2} ms, p99 {retrieve.Latency.Percentile(99):F2} ms, {retrieve.Errors} errors");

    Console.WriteLine($"[3/6] type + q: {options.QueryRequests} requests");
    var typeQ = await http.TypeAndQAsync(cancellation.Token);
    Console.WriteLine($"      p50 {typeQ.Latency.Percentile(50):F2} ms, p99 {typeQ.Latency.Percentile(99):F2} ms, {typeQ.Errors} errors, {typeQ.Wrong} wrong answers");

    Console.WriteLine($"[4/6] geo near (500 m): {options.GeoRequests} requests");
    var geo = await http.GeoNearAsync(cancellation.Token);
    Console.WriteLine($"      p50 {geo.Latency.Percentile(50):F2} ms, p99 {geo.Latency.Percentile(99):F2} ms, {geo.AverageResults:F1} results/query, {geo.Errors} errors, {geo.Wrong} wrong answers");

    Console.WriteLine("[5/6] Deep pagination: type=ParkingSpot, limit=1000, count=true");
    var pagination = await http.DeepPaginationAsync(cancellation.Token);
    Console.WriteLine($"      {(pagination.Pass ? "PASS" : "FAIL")}: {pagination.Detail}; {pagination.Pages} pages in {pagination.Elapsed.TotalSeconds:F1} s");

    // Memory after the load and the queries: the kernel's high-water mark covers the whole life of the process.
    var hwmKb = started.ReadStatusKb("VmHWM");
    var rssEndKb = started.ReadStatusKb("VmRSS");
    var residencyEnd = started.ReadResidency();
    var sampledPeak = started.SampledPeakRssBytes;
    var brokerAlive = !started.HasExited;
    StopBroker();
    var dbBytes = DirectorySize(brokerData);
    Console.WriteLine($"      broker VmHWM {hwmKb / 1024.0:F0} MB, RSS now {rssEndKb / 1024.0:F0} MB; database {dbBytes / 1024.0 / 1024.0:F0} MB on disk");

    // ---- Baseline: the store in-process ----
    DirectPhase.Result? direct = null;
    if (!options.SkipDirect)
    {
        Console.WriteLine($"[6/6] Direct SqliteStorage upsert: {batches.Count} groups of {options.BatchSize}, {options.DirectConcurrentGroups} concurrent groups");
        direct = await DirectPhase.RunAsync(Path.Combine(temp, "direct-data"), batches, options.DirectConcurrentGroups, cancellation.Token);
        Console.WriteLine($"      {direct.PerSecond:N0} entities/s ({direct.Elapsed.TotalSeconds:F1} s, {direct.Created:N0} created, {direct.Failed} failed)");
    }
    total.Stop();

    // ---- Report ----
    const double targetMb = 300;
    var peakMb = Math.Max(hwmKb ?? 0, sampledPeak / 1024) / 1024.0;
    var rows = new List<(string Metric, string Value)>
    {
        ("Entities loaded over HTTP", $"{upsert.Created:N0} created of {upsert.Entities:N0} ({upsert.Failed} failed batches)"),
        ($"Batch upsert over HTTP ({options.BatchSize}/batch, {options.UpsertClients} clients)", $"**{upsert.PerSecond:N0} entities/s** ({upsert.Elapsed.TotalSeconds:F1} s)"),
        ("Batch upsert request latency p50 / p99", $"{upsert.Batches.Percentile(50):N0} ms / {upsert.Batches.Percentile(99):N0} ms"),
        ($"GET /entities/{{id}} ({options.GetRequests:N0} random ids, {options.GetClients} clients)", $"**{retrieve.PerSecond:N0} req/s** ({retrieve.Errors} errors)"),
        ("GET /entities/{id} latency p50 / p99", $"{retrieve.Latency.Percentile(50):F2} ms / {retrieve.Latency.Percentile(99):F2} ms"),
        ($"Query `type=AirQualityObserved&q=no2>50&limit=100` p50 / p99 ({typeQ.Requests} req)", $"{typeQ.Latency.Percentile(50):F2} ms / {typeQ.Latency.Percentile(99):F2} ms ({typeQ.AverageResults:F0} results/query, {typeQ.Errors} errors, {typeQ.Wrong} wrong)"),
        ($"Geo `near;maxDistance==500` random points, limit=100, p50 / p99 ({geo.Requests} req)", $"{geo.Latency.Percentile(50):F2} ms / {geo.Latency.Percentile(99):F2} ms ({geo.AverageResults:F1} results/query, {geo.Errors} errors, {geo.Wrong} wrong)"),
        ("Deep pagination `type=ParkingSpot&limit=1000&offset=…&count=true`", $"**{(pagination.Pass ? "PASS" : "FAIL")}**: {pagination.Detail}"),
        ("Deep pagination walk", $"{pagination.Pages} pages in {pagination.Elapsed.TotalSeconds:F2} s; page p50 / p99 {pagination.Latency.Percentile(50):N0} ms / {pagination.Latency.Percentile(99):N0} ms"),
    };
    if (direct is not null)
    {
        rows.Add(($"Direct SqliteStorage upsert (no HTTP; {options.BatchSize}/group, {options.DirectConcurrentGroups} concurrent groups)", $"**{direct.PerSecond:N0} entities/s** ({direct.Elapsed.TotalSeconds:F1} s, {direct.Created:N0} created, {direct.Failed} failed)"));
        rows.Add(("HTTP / direct upsert throughput", $"**{upsert.PerSecond / direct.PerSecond:P0}**"));
    }
    rows.Add(("Broker peak memory (VmHWM, whole run)", $"**{peakMb:F0} MB** — target < {targetMb:F0} MB: **{(peakMb < targetMb ? "PASS" : "FAIL")}**"));
    rows.Add(("Broker RSS: idle-at-start / after load / after queries", $"{idleRssKb / 1024.0:F0} MB / {rssAfterLoad / 1024.0:F0} MB / {rssEndKb / 1024.0:F0} MB"));
    if (residencyEnd is { } end) rows.Add(("Broker resident set after queries, by kind (/proc/<pid>/status)", end.Describe()));
    rows.Add(("Broker database on disk (db + WAL)", $"{dbBytes / 1024.0 / 1024.0:F0} MB"));
    rows.Add(("Broker start-up (process start → /health 200)", $"{startup.TotalSeconds:F1} s"));
    rows.Add(("Total bench run time", $"{total.Elapsed.TotalSeconds:F0} s"));

    Console.WriteLine();
    Publish("entities", Report(options, rows, typeQ.Example, geo.Example, brokerAlive));

    var healthy = brokerAlive && upsert.Failed == 0 && upsert.Created == options.Entities && retrieve.Errors == 0
                  && typeQ.Errors + typeQ.Wrong + geo.Errors + geo.Wrong == 0 && pagination.Pass && (direct is null || direct.Failed == 0);
    allHealthy &= healthy;
  }

    if (options.Runs("notifications"))
    {
        var (section, healthy) = await NotificationSection.RunAsync(options, StartBrokerAsync, Handler, StopBroker, cancellation.Token);
        Publish("notifications", section);
        allHealthy &= healthy;
    }

    if (options.Runs("delivery"))
    {
        var (section, healthy) = await DeliverySection.RunAsync(options, StartBrokerAsync, Handler, StopBroker, cancellation.Token);
        Publish($"delivery{(options.Label is null ? "" : "-" + options.Label)}", section);
        allHealthy &= healthy;
    }

    if (options.Runs("side"))
    {
        var baselineDll = BenchOptions.Metadata("BaselineDll");
        if (!File.Exists(baselineDll)) throw new FileNotFoundException($"Baseline app not found at '{baselineDll}'. Build bench/Kontext.Bench.Baseline -c Release.");
        Console.WriteLine($"== side by side: {options.Entities:N0} entities{(options.Label is null ? "" : $" ({options.Label})")}");
        var (section, healthy) = await SideBySideSection.RunAsync(options, brokerDll, baselineDll, temp, Handler, cancellation.Token);
        Publish($"side-{options.Entities}{(options.SideAgainst is null ? "" : "-against")}{(options.Label is null ? "" : "-" + options.Label)}", section);
        allHealthy &= healthy;
    }

    if (options.Runs("federation"))
    {
        Console.WriteLine("== federation: a region over two municipal brokers");
        var (section, healthy) = await FederationSection.RunAsync(options, brokerDll, temp, Handler, cancellation.Token);
        Publish("federation", section);
        allHealthy &= healthy;
    }

    if (options.Runs("temporal"))
    {
        var (section, healthy) = await TemporalSection.RunAsync(options, StartBrokerAsync, Handler, StopBroker, cancellation.Token);
        Publish("temporal", section);
        allHealthy &= healthy;
    }
    return allHealthy ? 0 : 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine(cancellation.IsCancellationRequested ? $"Aborted (timeout {options.Timeout} or Ctrl+C): {ex.Message}" : $"FAILED: {ex}");
    var log = currentLog;
    StopBroker();
    if (log is not null && File.Exists(log))
    {
        Console.Error.WriteLine("--- last lines of the broker log ---");
        foreach (var line in File.ReadLines(log).TakeLast(40)) Console.Error.WriteLine(line);
    }
    return 1;
}
finally
{
    StopBroker();
    if (options.Keep) Console.WriteLine($"Kept {temp}");
    else
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(temp, recursive: true); }
        catch (Exception ex) { Console.Error.WriteLine($"Could not delete {temp}: {ex.Message}"); }
    }
}

static long DirectorySize(string path) =>
    Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

static string Report(BenchOptions options, List<(string Metric, string Value)> rows, string queryExample, string geoExample, bool brokerAlive)
{
    var sb = ResultsFile.SectionHead($"## Entities: load, queries, memory ({options.Entities:N0} entities)",
        $"dotnet run -c Release --project bench/Kontext.Bench -- --only entities --entities {options.Entities}", rows);
    sb.AppendLine("- The broker is the Release build of `src/Kontext.Broker`, started as a separate process (`dotnet Kontext.Broker.dll --urls http://127.0.0.1:<free port>`) on a fresh data directory,");
    sb.AppendLine("  with `Kontext:Limits:MaxRequestBodyBytes=16777216`; the bench talks to it over HTTP/1.1 on 127.0.0.1 only. Broker and client share the machine's cores.");
    sb.AppendLine($"- Data: {options.Entities:N0} entities, round-robin AirQualityObserved / WeatherObserved / ParkingSpot / WasteContainer, three Properties each (numbers with unitCode and observedAt; ParkingSpot has a string `status` and two numbers)");
    sb.AppendLine("  and a `location` Point uniformly within 10 km of Madrid's centre; sent as `application/json` without a Link header (core context).");
    sb.AppendLine("- Every answer of the query phases is checked: type and `no2 > 50` with a full page for the q query; for `near`, every result within 500 m (haversine, as the broker) and");
    sb.AppendLine("  as many results as the generated data has within 500 m (capped by limit=100). Latencies are per request, client side, sequential for the query phases.");
    sb.AppendLine("- Direct baseline: the same batches parsed with `EntityParser` (core context) and written with `ITenantStore.WriteAsync` (UpsertBatch's decision), 1,000 writes issued");
    sb.AppendLine("  concurrently per group so the store group-commits them, on a fresh `SqliteStorage` in the bench process, after the broker was stopped.");
    sb.AppendLine("- Peak memory is the broker process's VmHWM from /proc (peak resident set over its whole life), read after the load and every query; also sampled every 200 ms.");
    sb.AppendLine($"- Example query URLs: `{queryExample}`, `{geoExample}`");
    if (!brokerAlive) sb.AppendLine("- **The broker process had exited before the end of the HTTP phases.**");
    return sb.ToString();
}
