using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Kontext.Bench;

/// <summary>
/// Issue 12 item 4: how fast the dispatcher empties a full outbox (to several endpoints, and to one), what a delivered
/// notification costs the broker (CPU, bytes written), and whether the backlog of a mixed load drains while it runs.
/// The receiver's paths are held closed while the outbox fills, so the drain is measured apart from the writes and the matching.
/// </summary>
internal sealed class DeliveryPhases(HttpClient client, NotificationReceiver receiver, BrokerProcess broker, BenchOptions options)
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";

    /// <summary>
    /// <paramref name="Received"/> counts notified entities (one per change; a notification may carry several of one
    /// subscription's changes in its `data`), <paramref name="Requests"/> the notifications that carried them.
    /// </summary>
    public sealed record DrainResult(int Subscriptions, int Expected, int Received, int Requests, int Duplicates, int OutOfOrder, bool Complete,
        TimeSpan Elapsed, ProcessCounters Cost, TimeSpan FillTime, ProcessCounters FillCost)
    {
        public double PerSecond => Received / Elapsed.TotalSeconds;
        public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;
        public double FillCpuMsPerNotification => FillCost.CpuMilliseconds / Math.Max(1, Expected);
        public double FillBytesPerNotification => (double)FillCost.WriteBytes / Math.Max(1, Expected);
        public double CpuMsPerNotification => Cost.CpuMilliseconds / Math.Max(1, Received);
        public double BytesPerNotification => (double)Cost.WriteBytes / Math.Max(1, Received);
    }

    public sealed record MixedResult(int Subscriptions, int Clients, TimeSpan Load, long Patches, int PatchErrors, long ReadsDone, int Expected, int ReceivedDuringLoad,
        int BacklogAtEnd, int MaxBacklog, int Received, int Requests, int Duplicates, bool Drained, TimeSpan DrainAfterLoad, ProcessCounters Cost, Latencies PatchLatency)
    {
        public double PatchesPerSecond => Patches / Load.TotalSeconds;
        public double DeliveredPerSecondDuringLoad => ReceivedDuringLoad / Load.TotalSeconds;
    }

    /// <summary>
    /// <paramref name="subscriptions"/> subscriptions on one new type, each to its own path (or all to one path), the
    /// paths held; then the entities are created in batches of 1,000 by one client (each subscription's notifications
    /// numbered in order by `seq`), the broker is left to finish matching, and the paths are opened: the drain is timed
    /// from there to the last notification, with the broker's CPU and bytes written over the same span.
    /// </summary>
    public async Task<DrainResult> DrainAsync(string name, int subscriptions, int entities, bool oneEndpoint, CancellationToken cancellationToken)
    {
        var type = "Drain" + name;
        var sinks = new List<NotificationReceiver.Sink>();
        for (var s = 0; s < subscriptions; s++)
        {
            var path = oneEndpoint ? $"/{name}" : $"/{name}-{s}";
            var sink = receiver[path];
            if (!sinks.Contains(sink))
            {
                sink.Hold();
                sinks.Add(sink);
            }
            await ExpectAsync(HttpMethod.Post, Subscriptions, Subscription($"urn:ngsi-ld:Subscription:bench-{name}-{s}", type, receiver.Endpoint(path)), HttpStatusCode.Created, cancellationToken);
        }
        await Task.Delay(500, cancellationToken);
        var fill = Stopwatch.StartNew();
        var fillBefore = ProcessCounters.Read(broker.ProcessId);
        for (var first = 0; first < entities; first += 1000)
        {
            var sb = new StringBuilder("[");
            for (var i = first; i < Math.Min(entities, first + 1000); i++)
            {
                if (i > first) sb.Append(',');
                sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"urn:ngsi-ld:{{{type}}}:{{{i:D6}}}","type":"{{{type}}}","seq":{"type":"Property","value":{{{i}}}}}""");
            }
            sb.Append(']');
            await ExpectAsync(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create", sb.ToString(), HttpStatusCode.Created, cancellationToken);
        }
        await WaitQuietAsync(cancellationToken); // the matcher has written the outbox
        fill.Stop();
        var fillCost = ProcessCounters.Read(broker.ProcessId) - fillBefore;
        var expected = subscriptions * entities;
        Console.WriteLine($"      outbox filled ({expected:N0} notifications) in {fill.Elapsed.TotalSeconds:F1} s; releasing the receiver");
        var before = ProcessCounters.Read(broker.ProcessId);
        var start = Stopwatch.GetTimestamp();
        foreach (var sink in sinks) sink.Release();
        var deadline = Stopwatch.StartNew();
        var complete = true;
        while (sinks.Sum(s => s.Entities) < expected)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5)) { complete = false; break; }
            await Task.Delay(5, cancellationToken);
        }
        var last = sinks.Max(s => s.LastArrival);
        var cost = ProcessCounters.Read(broker.ProcessId) - before;
        await Task.Delay(500, cancellationToken); // late duplicates
        return new DrainResult(subscriptions, expected, sinks.Sum(s => s.Entities), sinks.Sum(s => s.Distinct), sinks.Sum(s => s.Duplicates), sinks.Sum(s => s.OutOfOrder), complete,
            Stopwatch.GetElapsedTime(start, last), cost, fill.Elapsed, fillCost);
    }

    /// <summary>
    /// Mixed load: N subscriptions (each its own path) on a type of 1,000 entities created before them; C clients PATCH
    /// random ones of those entities for T seconds, while one more client queries them. Every second the backlog
    /// (N × acknowledged PATCHes − notifications received) is sampled; after the load, the time until it is zero.
    /// </summary>
    public async Task<MixedResult> MixedAsync(CancellationToken cancellationToken)
    {
        const string type = "MixSensor";
        const int entities = 1000;
        var subscriptions = options.DeliverySubscriptions;
        for (var first = 0; first < entities; first += 500)
        {
            var sb = new StringBuilder("[");
            for (var i = first; i < first + 500; i++)
            {
                if (i > first) sb.Append(',');
                sb.Append(CultureInfo.InvariantCulture, $$$"""{"id":"urn:ngsi-ld:{{{type}}}:{{{i:D4}}}","type":"{{{type}}}","seq":{"type":"Property","value":0}}""");
            }
            sb.Append(']');
            await ExpectAsync(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create", sb.ToString(), HttpStatusCode.Created, cancellationToken);
        }
        var sinks = new List<NotificationReceiver.Sink>();
        for (var s = 0; s < subscriptions; s++)
        {
            sinks.Add(receiver[$"/mix-{s}"]);
            await ExpectAsync(HttpMethod.Post, Subscriptions, Subscription($"urn:ngsi-ld:Subscription:bench-mix-{s}", type, receiver.Endpoint($"/mix-{s}")), HttpStatusCode.Created, cancellationToken);
        }
        await Task.Delay(500, cancellationToken);

        long patches = 0, reads = 0;
        var patchErrors = 0;
        var latency = new Latencies();
        var maxBacklog = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var before = ProcessCounters.Read(broker.ProcessId);
        var load = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, options.MixedClients).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            while (!stop.IsCancellationRequested)
            {
                var id = $"urn:ngsi-ld:{type}:{random.Next(entities):D4}";
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var (status, _) = await SendAsync(HttpMethod.Patch, $"/ngsi-ld/v1/entities/{id}/attrs",
                        $$$"""{"seq":{"type":"Property","value":{{{random.Next()}}}}}""", stop.Token);
                    if (status == HttpStatusCode.NoContent) { Interlocked.Increment(ref patches); latency.Add(start); }
                    else Interlocked.Increment(ref patchErrors);
                }
                catch (OperationCanceledException) { break; }
            }
        }, CancellationToken.None)).ToList();
        clients.Add(Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try { await SendAsync(HttpMethod.Get, $"/ngsi-ld/v1/entities?type={type}&limit=20", null, stop.Token); }
                catch (OperationCanceledException) { break; }
                Interlocked.Increment(ref reads);
            }
        }, CancellationToken.None));
        while (load.Elapsed.TotalSeconds < options.MixedSeconds)
        {
            await Task.Delay(1000, cancellationToken);
            var backlog = (int)(subscriptions * Interlocked.Read(ref patches)) - sinks.Sum(s => s.Entities);
            maxBacklog = Math.Max(maxBacklog, backlog);
            Console.WriteLine($"      {load.Elapsed.TotalSeconds:F0} s: {Interlocked.Read(ref patches):N0} PATCHes, {sinks.Sum(s => s.Entities):N0} notified entities in {sinks.Sum(s => s.Distinct):N0} notifications, backlog {backlog:N0}");
        }
        stop.Cancel();
        await Task.WhenAll(clients);
        load.Stop();
        var expected = (int)(subscriptions * patches);
        var receivedDuringLoad = sinks.Sum(s => s.Entities);
        var drain = Stopwatch.StartNew();
        var drained = true;
        while (sinks.Sum(s => s.Entities) < expected)
        {
            if (drain.Elapsed > TimeSpan.FromMinutes(5)) { drained = false; break; }
            await Task.Delay(10, cancellationToken);
        }
        drain.Stop();
        var cost = ProcessCounters.Read(broker.ProcessId) - before;
        await Task.Delay(500, cancellationToken);
        return new MixedResult(subscriptions, options.MixedClients, load.Elapsed, patches, patchErrors, reads, expected, receivedDuringLoad,
            expected - receivedDuringLoad, Math.Max(maxBacklog, expected - receivedDuringLoad), sinks.Sum(s => s.Entities), sinks.Sum(s => s.Distinct), sinks.Sum(s => s.Duplicates),
            drained, drain.Elapsed, cost, latency);
    }

    /// <summary>Waits until the broker has used less than 10 % of a core for a second (or 60 s passed).</summary>
    private async Task WaitQuietAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var previous = ProcessCounters.Read(broker.ProcessId);
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(1000, cancellationToken);
            var now = ProcessCounters.Read(broker.ProcessId);
            if (now.CpuMilliseconds - previous.CpuMilliseconds < 100) return;
            previous = now;
        }
    }

    private static string Subscription(string id, string type, Uri endpoint) => $$$"""
        {"id":"{{{id}}}","type":"Subscription","entities":[{"type":"{{{type}}}"}],
         "notification":{"format":"keyValues","endpoint":{"uri":"{{{endpoint}}}","accept":"application/json"} } }
        """;

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.StatusCode, body);
    }

    private async Task ExpectAsync(HttpMethod method, string path, string json, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(method, path, json, cancellationToken);
        if (status != expected) throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)status} {body[..Math.Min(300, body.Length)]}");
    }
}

/// <summary>The delivery group (issue 12 item 4) on its own broker, and its RESULTS.md section (one per --label).</summary>
internal static class DeliverySection
{
    public static async Task<(string Section, bool Healthy)> RunAsync(BenchOptions options, BrokerStarter start, Func<SocketsHttpHandler> handler, Action stop, CancellationToken cancellationToken)
    {
        Console.WriteLine("== delivery");
        await using var receiver = await NotificationReceiver.StartAsync(cancellationToken);
        // Held requests must not time out while the outbox fills.
        var broker = await start("delivery", "--Kontext:Notifications:Timeout=00:03:00");
        Console.WriteLine($"Broker pid {broker.ProcessId} on {broker.BaseAddress}; receiver on {receiver.BaseAddress}");
        using var client = new HttpClient(handler()) { BaseAddress = broker.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var phases = new DeliveryPhases(client, receiver, broker, options);

        Console.WriteLine($"[d1] Drain: {options.DeliverySubscriptions} subscriptions, each its own endpoint, × {options.DeliveryEntities:N0} creates");
        var several = await phases.DrainAsync("several", options.DeliverySubscriptions, options.DeliveryEntities, false, cancellationToken);
        Console.WriteLine($"      {several.Received:N0}/{several.Expected:N0} in {several.Elapsed.TotalSeconds:F1} s = {several.PerSecond:N0}/s, {several.CpuMsPerNotification:F3} ms CPU, {several.BytesPerNotification:N0} B written each; {several.Requests:N0} requests; fill {several.FillTime.TotalSeconds:F1} s, {several.FillCpuMsPerNotification:F3} ms CPU each");
        var perShared = Math.Max(1, options.DeliveryEntities / 4);
        Console.WriteLine($"[d2] Drain: 20 subscriptions, all to one endpoint, × {perShared:N0} creates");
        var oneEndpoint = await phases.DrainAsync("one-endpoint", 20, perShared, true, cancellationToken);
        Console.WriteLine($"      {oneEndpoint.Received:N0}/{oneEndpoint.Expected:N0} in {oneEndpoint.Elapsed.TotalSeconds:F1} s = {oneEndpoint.PerSecond:N0}/s, {oneEndpoint.CpuMsPerNotification:F3} ms CPU, {oneEndpoint.BytesPerNotification:N0} B written each; {oneEndpoint.Requests:N0} requests; fill {oneEndpoint.FillTime.TotalSeconds:F1} s, {oneEndpoint.FillCpuMsPerNotification:F3} ms CPU each");
        var perOne = Math.Max(1, options.DeliveryEntities / 2);
        Console.WriteLine($"[d3] Drain: 1 subscription, one endpoint, × {perOne:N0} creates");
        var one = await phases.DrainAsync("one", 1, perOne, true, cancellationToken);
        Console.WriteLine($"      {one.Received:N0}/{one.Expected:N0} in {one.Elapsed.TotalSeconds:F1} s = {one.PerSecond:N0}/s, {one.CpuMsPerNotification:F3} ms CPU, {one.BytesPerNotification:N0} B written each; {one.Requests:N0} requests; fill {one.FillTime.TotalSeconds:F1} s, {one.FillCpuMsPerNotification:F3} ms CPU each");
        Console.WriteLine($"[d4] Mixed load: {options.DeliverySubscriptions} subscriptions, {options.MixedClients} PATCH clients + 1 query client for {options.MixedSeconds} s");
        var mixed = await phases.MixedAsync(cancellationToken);
        Console.WriteLine($"      backlog at the end of the load {mixed.BacklogAtEnd:N0}, drained in {mixed.DrainAfterLoad.TotalSeconds:F1} s");
        var alive = !broker.HasExited;
        stop();

        string Drain(DeliveryPhases.DrainResult r) => $"**{r.PerSecond:N0}/s** ({r.Received:N0} / {r.Expected:N0} in {r.Elapsed.TotalSeconds:F1} s{(r.Complete ? "" : ", **incomplete after 5 min**")}, in {r.Requests:N0} requests = {r.RequestsPerSecond:N0}/s; {r.Duplicates} duplicates, {r.OutOfOrder} out of order)";
        string Fill(DeliveryPhases.DrainResult r) => $"{r.FillTime.TotalSeconds:F1} s; {r.FillCpuMsPerNotification:F3} ms CPU, {r.FillBytesPerNotification / 1024.0:F2} KB written per notification";
        string Cost(DeliveryPhases.DrainResult r) => $"**{r.CpuMsPerNotification:F3} ms CPU, {r.BytesPerNotification / 1024.0:F2} KB written** ({r.Cost.WriteCalls / (double)Math.Max(1, r.Received):F2} write calls)";
        var rows = new List<(string, string)>
        {
            ($"Drain, {several.Subscriptions} subscriptions × its own endpoint: delivered", Drain(several)),
            ("… broker cost per delivered notification", Cost(several)),
            ("… fill: the creates and the matching until the broker is quiet (creates included)", Fill(several)),
            ("Drain, 20 subscriptions, all to one endpoint: delivered", Drain(oneEndpoint)),
            ("… broker cost per delivered notification", Cost(oneEndpoint)),
            ("… fill: the creates and the matching until the broker is quiet (creates included)", Fill(oneEndpoint)),
            ("Drain, 1 subscription (one endpoint; one request in flight: bound by the round trip): delivered", Drain(one)),
            ("… broker cost per delivered notification", Cost(one)),
            ("… fill: the creates and the matching until the broker is quiet (creates included)", Fill(one)),
            ($"Mixed load, {mixed.Clients} PATCH clients + 1 query client, {mixed.Load.TotalSeconds:F0} s: PATCHes acknowledged", $"{mixed.Patches:N0} ({mixed.PatchesPerSecond:N0}/s, p50 {mixed.PatchLatency.Percentile(50):F1} ms, p99 {mixed.PatchLatency.Percentile(99):F1} ms; {mixed.PatchErrors} errors); {mixed.ReadsDone:N0} queries"),
            ($"Mixed load: notifications delivered while the load ran ({mixed.Subscriptions} subscriptions)", $"**{mixed.DeliveredPerSecondDuringLoad:N0}/s** ({mixed.ReceivedDuringLoad:N0} of {mixed.Expected:N0})"),
            ("Mixed load: backlog at the end of the load (max sampled) → drained after the load in", $"**{mixed.BacklogAtEnd:N0}** ({mixed.MaxBacklog:N0}) → **{mixed.DrainAfterLoad.TotalSeconds:F1} s**{(mixed.Drained ? "" : " (**not drained after 5 min**)")}; {mixed.Received:N0} received, {mixed.Duplicates} duplicates"),
            ("Mixed load: broker cost per notification (whole phase, PATCHes and queries included)", $"{mixed.Cost.CpuMilliseconds / Math.Max(1, mixed.Received):F3} ms CPU, {mixed.Cost.WriteBytes / 1024.0 / Math.Max(1, mixed.Received):F2} KB written"),
        };
        var sb = ResultsFile.SectionHead($"## Notification delivery ({options.Label ?? "current"})",
            $"dotnet run -c Release --project bench/Kontext.Bench -- --only delivery{(options.Label is null ? "" : " --label " + options.Label)}", rows);
        sb.AppendLine("- Broker: Release build, separate process on 127.0.0.1, fresh data directory, SQLite synchronous=FULL, default notification settings except");
        sb.AppendLine("  `Kontext:Notifications:Timeout=00:03:00` (the receiver holds requests while the outbox fills). Receiver: Kestrel in the bench process, 204, counts by notification id;");
        sb.AppendLine("  a \"notification\" in the rates and costs is one notified entity (one change), however many of them one request carried in its `data`.");
        sb.AppendLine($"- Drain: the subscriptions (`entities:[{{type}}]`, keyValues) are created, the receiver's paths held closed, the entities ({options.DeliveryEntities:N0}; a quarter with 20 subscriptions, half with one) created in batches of 1,000 by one client,");
        sb.AppendLine("  and once the broker is quiet (< 10 % of a core for 1 s: matching done) the paths open. Rate and cost (from /proc/<pid>/stat and /proc/<pid>/io of the broker) run from the");
        sb.AppendLine("  opening to the last notification. \"Out of order\": notifications of a subscription whose entity `seq` is lower than one received before it.");
        sb.AppendLine("- Mixed load: 1,000 entities created before the subscriptions; the PATCH clients update random ones (each PATCH → one notified entity per subscription);");
        sb.AppendLine("  backlog = subscriptions × acknowledged PATCHes − notified entities received, sampled every second.");
        if (!alive) sb.AppendLine("- **The broker process had exited before the end of the delivery phases.**");
        var healthy = alive && several.Complete && oneEndpoint.Complete && one.Complete && mixed.Drained;
        return (sb.ToString(), healthy);
    }
}
