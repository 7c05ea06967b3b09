using System.Diagnostics;
using System.Text;

namespace Kontext.Bench;

internal delegate Task<BrokerProcess> BrokerStarter(string name, params string[] extraArgs);

/// <summary>Issue 4 phases on their own broker (fresh data directory), and their RESULTS.md section.</summary>
internal static class NotificationSection
{
    public static async Task<(string Section, bool Healthy)> RunAsync(BenchOptions options, BrokerStarter start, Func<SocketsHttpHandler> handler, Action stop, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Console.WriteLine("== notifications");
        await using var receiver = await NotificationReceiver.StartAsync(cancellationToken);
        var broker = await start("notifications");
        Console.WriteLine($"Broker pid {broker.ProcessId} on {broker.BaseAddress}; receiver on {receiver.BaseAddress}");
        using var client = new HttpClient(handler()) { BaseAddress = broker.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var phases = new NotificationPhases(client, receiver, options);

        Console.WriteLine($"[n1] Latency: 1 subscription, {options.NotifyUpdates:N0} sequential PATCHes (closed loop)");
        var latency = await phases.LatencyAsync(cancellationToken);
        Console.WriteLine($"      {latency.Received}/{latency.Updates} received, p50 {latency.NotifyLatency.Percentile(50):F2} ms, p99 {latency.NotifyLatency.Percentile(99):F2} ms, max {latency.NotifyLatency.Max():F2} ms");

        Console.WriteLine($"[n2] Fan-out: {options.FanoutSubscriptions} subscriptions × {options.FanoutWrites} creates");
        var fan = await phases.FanoutAsync(cancellationToken);
        Console.WriteLine($"      {fan.Received:N0}/{fan.Expected:N0} notified entities ({fan.Requests:N0} notifications) in {fan.FirstWriteToLastNotification.TotalSeconds:F1} s = {fan.PerSecond:N0} notified entities/s");
        var hwm = broker.ReadStatusKb("VmHWM");
        var alive = !broker.HasExited;
        stop();
        clock.Stop();

        static string Ms(Latencies l, double p) => $"{l.Percentile(p):F2} ms";
        var rows = new List<(string, string)>
        {
            ($"Latency: notifications received for {latency.Updates:N0} sequential PATCHes (distinct by notification id)",
                $"**{latency.Received:N0} / {latency.Updates:N0}** ({latency.Missing} missing, {latency.Duplicates} duplicate deliveries ignored, {latency.WriteErrors} failed PATCHes)"),
            ("Latency: PATCH acknowledged → notification received, p50 / p99 / max",
                $"**{Ms(latency.NotifyLatency, 50)} / {Ms(latency.NotifyLatency, 99)} / {latency.NotifyLatency.Max():F2} ms** ({latency.BeforeAck} of {latency.NotifyLatency.Count} arrived before the PATCH answer, counted as 0)"),
            ("Latency phase: PATCH /entities/{id}/attrs acknowledgement p50 / p99", $"{Ms(latency.WriteLatency, 50)} / {Ms(latency.WriteLatency, 99)} ({latency.Elapsed.TotalSeconds:F1} s for the loop)"),
            ($"Fan-out: {fan.Subscriptions} subscriptions (one endpoint) × {fan.Writes} creates", $"**{fan.Received:N0} / {fan.Expected:N0}** notified entities received in {fan.Requests:N0} notifications{(fan.Complete ? "" : " (**incomplete after 5 min**)")}, {fan.Duplicates} duplicates, {fan.WriteErrors} failed creates"),
            ("Fan-out: delivery rate (first create sent → last notification)", $"**{fan.PerSecond:N0} notified entities/s** ({fan.FirstWriteToLastNotification.TotalSeconds:F1} s)"),
            ("Fan-out: first create sent → first notification; last create acknowledged → last notification", $"{fan.FirstWriteToFirstNotification.TotalMilliseconds:F0} ms; {fan.LastAckToLastNotification.TotalSeconds:F1} s"),
            ($"Fan-out: the {fan.Writes} triggering creates, acknowledgement p50 / p99", $"{Ms(fan.TriggerWrites, 50)} / {Ms(fan.TriggerWrites, 99)}"),
            ("Probe PATCH (unsubscribed entity) p50 / p99: idle before / during fan-out delivery", $"{Ms(fan.IdleProbe, 50)} / {Ms(fan.IdleProbe, 99)} → **{Ms(fan.ProbeDuringFanout, 50)} / {Ms(fan.ProbeDuringFanout, 99)}** ({fan.ProbeDuringFanout.Count} probes)"),
            ("Broker peak memory (VmHWM)", $"{hwm / 1024.0:F0} MB"),
            ("Notification phases run time", $"{clock.Elapsed.TotalSeconds:F0} s"),
        };

        var sb = ResultsFile.SectionHead("## Notifications (issue 4)",
            "dotnet run -c Release --project bench/Kontext.Bench -- --only notifications"
            + $"{(options.NotifyUpdates != 1000 ? $" --notify-updates {options.NotifyUpdates}" : "")}{(options.FanoutSubscriptions != 100 ? $" --fanout-subscriptions {options.FanoutSubscriptions}" : "")}{(options.FanoutWrites != 100 ? $" --fanout-writes {options.FanoutWrites}" : "")}", rows);
        sb.AppendLine("- Broker: Release build, separate process on 127.0.0.1, fresh data directory, default notification settings (PollInterval 1 s; writes wake the matcher at once), SQLite synchronous=FULL.");
        sb.AppendLine("- Receiver: Kestrel (`WebApplication.CreateSlimBuilder`) on 127.0.0.1:0 inside the bench process, answers 204; a notification counts once by its `id`; its arrival is taken when its body is parsed.");
        sb.AppendLine("- Latency: one subscription `entities:[{type:Sensor}]`, format keyValues; 20 warm-up updates, then PATCH `{\"seq\":{\"type\":\"Property\",\"value\":i}}` i = 1…N, one at a time;");
        sb.AppendLine("  the next PATCH is sent when the notification with `seq` = i arrived (closed loop, 10 s timeout), so each sample is an idle pipeline's latency, measured from the PATCH's 204 to the notification.");
        sb.AppendLine("- Fan-out: N subscriptions `entities:[{type:FanSensor}]` with the same endpoint URI, then M sequential `POST /entities` (one new FanSensor each) → N×M notified entities (counted as entities: the broker may send several of one subscription in one notification).");
        sb.AppendLine("  Rate = notified entities received / (first create sent → last notification received). A probe PATCHes an entity of an unsubscribed type every 10 ms while");
        sb.AppendLine("  the notifications are delivered; its acknowledgement latency is compared with 100 idle probes before the subscriptions existed.");
        if (!alive) sb.AppendLine("- **The broker process had exited before the end of the notification phases.**");
        var healthy = alive && latency.Received == latency.Updates && latency.WriteErrors == 0 && fan.Complete && fan.WriteErrors == 0;
        return (sb.ToString(), healthy);
    }
}

/// <summary>Issue 5 phases on their own broker (fresh data directory), and their RESULTS.md section.</summary>
internal static class TemporalSection
{
    public static async Task<(string Section, bool Healthy)> RunAsync(BenchOptions options, BrokerStarter start, Func<SocketsHttpHandler> handler, Action stop, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"== temporal: {options.Sensors} sensors × {TemporalPhases.SlotsPerYear:N0} readings");
        var broker = await start("temporal", "--Kontext:Temporal:InstanceLimit=1000");
        Console.WriteLine($"Broker pid {broker.ProcessId} on {broker.BaseAddress}");
        using var client = new HttpClient(handler()) { BaseAddress = broker.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var phases = new TemporalPhases(client, options, broker.ProcessId);

        Console.WriteLine($"[t1] Seeding: {options.Sensors * 12} sensor-months, {options.TemporalClients} clients");
        var seed = await phases.SeedAsync(cancellationToken);
        var rssAfterSeed = broker.ReadStatusKb("VmRSS");
        Console.WriteLine($"      {seed.PerSecond:N0} instances/s ({seed.Instances:N0} in {seed.Elapsed.TotalSeconds:F1} s, {seed.Errors} errors)");
        var queries = new List<TemporalPhases.QueryResult>();
        Console.WriteLine($"[t2] lastN=1 × {options.TemporalRequests}");
        queries.Add(await phases.LastNAsync(cancellationToken));
        Console.WriteLine($"[t3] one month raw × {options.TemporalRequests}");
        queries.Add(await phases.MonthRawAsync(cancellationToken));
        Console.WriteLine($"[t4] one year per day × {options.TemporalRequests}");
        queries.Add(await phases.YearAggregatedAsync("P1D", cancellationToken));
        Console.WriteLine($"[t5] one year per calendar month × {options.TemporalRequests}");
        queries.Add(await phases.YearAggregatedAsync("P1M", cancellationToken));
        foreach (var q in queries)
            Console.WriteLine($"      {q.Name}: p50 {q.Latency.Percentile(50):F1} ms, p95 {q.Latency.Percentile(95):F1} ms, p99 {q.Latency.Percentile(99):F1} ms, "
                              + $"{q.CpuPerRequest:F1} ms broker CPU/request, {q.Errors} errors, {q.Wrong} wrong");
        Console.WriteLine($"      seeding: {seed.Broker.CpuMilliseconds * 1000 / Math.Max(1, seed.Instances):F1} µs broker CPU and {seed.Broker.WriteBytes / (double)Math.Max(1, seed.Instances):F0} bytes written per instance");
        var hwm = broker.ReadStatusKb("VmHWM");
        var alive = !broker.HasExited;
        stop();
        var dbBytes = Directory.Exists(Path.Combine(Path.GetDirectoryName(broker.LogPath)!, "temporal-data"))
            ? new DirectoryInfo(Path.Combine(Path.GetDirectoryName(broker.LogPath)!, "temporal-data")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;
        clock.Stop();

        var full = options.Sensors == 100;
        var rows = new List<(string, string)>
        {
            ("Seeded", $"{seed.Instances:N0} instances = {seed.Sensors} sensors × {TemporalPhases.SlotsPerYear:N0} (one year, 15 min){(full ? "" : " — **reduced from 100 sensors, see below**")}; {seed.Errors} failed requests"),
            ($"Seeding rate, `POST /temporal/entities`, one sensor-month (~2,920 instances, ~{seed.AverageBodyBytes / 1024.0:F0} KiB) per request, {options.TemporalClients} clients",
                $"**{seed.PerSecond:N0} instances/s** ({seed.Elapsed.TotalSeconds:F1} s for {seed.Requests:N0} requests)"),
            ("Seeding request latency p50 / p99", $"{seed.RequestLatency.Percentile(50):N0} ms / {seed.RequestLatency.Percentile(99):N0} ms"),
            ("Seeding cost per instance (broker, /proc): CPU / bytes written (write_bytes) / bytes passed to write calls (wchar)",
                $"{seed.Broker.CpuMilliseconds * 1000 / Math.Max(1, seed.Instances):F1} µs / {seed.Broker.WriteBytes / (double)Math.Max(1, seed.Instances):F0} B / {seed.Broker.WriteChars / (double)Math.Max(1, seed.Instances):F0} B"),
        };
        foreach (var q in queries)
        {
            var name = q.Name switch
            {
                "lastN=1" => $"`GET /temporal/entities/{{id}}?lastN=1`, random sensor, p50 / p99 ({q.Requests} req)",
                "month raw" => $"One month raw (`timerel=between`, normalized, all 206 pages followed), random sensor and month, p50 / p99 ({q.Requests} months)",
                "year per day" => $"One year per day (`aggregatedValues`, `avg,min,max`, `P1D`), random sensor, p50 / p95 / p99, broker CPU per request ({q.Requests} req)",
                _ => $"One year per calendar month (`aggregatedValues`, `avg,min,max`, `P1M`), random sensor, p50 / p95 / p99, broker CPU per request ({q.Requests} req)",
            };
            rows.Add((name, q.Name.StartsWith("year", StringComparison.Ordinal)
                ? $"**{q.Latency.Percentile(50):F1} ms / {q.Latency.Percentile(95):F1} ms / {q.Latency.Percentile(99):F1} ms**, {q.CpuPerRequest:F1} ms CPU ({q.Errors} errors, {q.Wrong} wrong) — {q.Detail}"
                : $"**{q.Latency.Percentile(50):F1} ms / {q.Latency.Percentile(99):F1} ms** ({q.Errors} errors, {q.Wrong} wrong) — {q.Detail}"));
            if (q.Pages is { } pages) rows.Add(("One month raw: single page (≤ 1,000 instances) p50 / p99", $"{pages.Percentile(50):F1} ms / {pages.Percentile(99):F1} ms ({pages.Count} pages)"));
        }
        rows.Add(("Broker peak memory (VmHWM) / RSS after seeding", $"{hwm / 1024.0:F0} MB / {rssAfterSeed / 1024.0:F0} MB"));
        rows.Add(("Broker database on disk (db + WAL)", $"{dbBytes / 1024.0 / 1024.0:F0} MB ({(seed.Instances == 0 ? 0 : dbBytes / (double)seed.Instances):F0} bytes/instance)"));
        rows.Add(("Temporal phases run time", $"{clock.Elapsed.TotalSeconds:F0} s"));

        var sb = ResultsFile.SectionHead("## Temporal (issue 5)",
            $"dotnet run -c Release --project bench/Kontext.Bench -- --only temporal{(full ? "" : $" --sensors {options.Sensors}")}", rows);
        sb.AppendLine("- Broker: Release build, separate process on 127.0.0.1, fresh data directory, `Kontext:Limits:MaxRequestBodyBytes=16777216`, `Kontext:Temporal:InstanceLimit=1000` (the default).");
        sb.AppendLine("- Data: sensors `urn:ngsi-ld:TemperatureSensor:Snnnn`, one Property `temperature`, a reading every 15 minutes of 2025 (35,040 each, observedAt on the quarter hour),");
        sb.AppendLine("  value = seasonal + daily wave + hashed noise (deterministic, 2 decimals). Seeded sensor by sensor, one `POST /temporal/entities` per sensor-month (201 for the first, 204 after).");
        sb.AppendLine("- Queries are sequential, after 3 unmeasured warm-ups, with fixed random seeds. Every answer is checked against the generated readings: lastN=1 is the last reading of");
        sb.AppendLine("  the year; a month is exactly days × 96 distinct instances inside the month with the right values, gathered by following `Link: rel=\"next\"` while the answer is 206;");
        sb.AppendLine("  the year per day is 365 periods (per month 12) of avg/min/max, each equal to the generated values (1e-6). Month latency is the whole walk, every page included.");
        sb.AppendLine("- Broker CPU per request: user + system time of the broker process (/proc/<pid>/stat) over the measured requests, divided by their number; the seeding cost per");
        sb.AppendLine("  instance likewise over the whole seeding (the request parsing and the history rows included, not only the pre-aggregation).");
        if (!full) sb.AppendLine($"- **Reduced scale: {options.Sensors} sensors instead of 100** ({seed.Instances:N0} instances instead of 3,504,000), because seeding all 3.5 M would take longer than the time budget on this machine at the measured rate. The per-sensor queries read the same amount of data per request as at full scale.");
        if (!alive) sb.AppendLine("- **The broker process had exited before the end of the temporal phases.**");
        var healthy = alive && seed.Errors == 0 && queries.All(q => q.Errors == 0 && q.Wrong == 0);
        return (sb.ToString(), healthy);
    }
}
