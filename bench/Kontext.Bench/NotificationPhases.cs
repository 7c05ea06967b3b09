using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Kontext.Bench;

/// <summary>
/// Issue 4: notification latency (update acknowledged → notification received) and fan-out throughput, against the
/// broker process, with <see cref="NotificationReceiver"/> as the subscriptions' endpoint.
/// </summary>
internal sealed class NotificationPhases(HttpClient client, NotificationReceiver receiver, BenchOptions options)
{
    private const string Entities = "/ngsi-ld/v1/entities";
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";
    private static readonly TimeSpan PerNotificationTimeout = TimeSpan.FromSeconds(10);

    public sealed record LatencyResult(int Updates, int Received, int Duplicates, int Missing, int BeforeAck, int WriteErrors,
        Latencies NotifyLatency, Latencies WriteLatency, TimeSpan Elapsed);

    public sealed record FanoutResult(int Subscriptions, int Writes, int Expected, int Received, int Requests, int Duplicates, int WriteErrors, bool Complete,
        TimeSpan FirstWriteToLastNotification, TimeSpan LastAckToLastNotification, TimeSpan FirstWriteToFirstNotification,
        Latencies TriggerWrites, Latencies IdleProbe, Latencies ProbeDuringFanout)
    {
        public double PerSecond => Received / FirstWriteToLastNotification.TotalSeconds;
    }

    /// <summary>
    /// One subscription on type Sensor (keyValues); then sequential PATCHes of one entity, each with `seq` = i. Closed
    /// loop: the next PATCH is sent once the notification of the previous one arrived (or after 10 s), so every sample
    /// is the latency of an idle pipeline, not of a queue.
    /// </summary>
    public async Task<LatencyResult> LatencyAsync(CancellationToken cancellationToken)
    {
        const string type = "Sensor";
        const string id = "urn:ngsi-ld:Sensor:latency-001";
        var sink = receiver["/latency"];
        await ExpectAsync(HttpMethod.Post, Entities, $$$"""{"id":"{{{id}}}","type":"{{{type}}}","seq":{"type":"Property","value":0}}""", HttpStatusCode.Created, cancellationToken);
        await ExpectAsync(HttpMethod.Post, Subscriptions, Subscription("urn:ngsi-ld:Subscription:bench-latency", type, receiver.Endpoint("/latency")), HttpStatusCode.Created, cancellationToken);

        var path = $"{Entities}/{id}/attrs";
        // Warm-up (JIT on both sides, connections of the broker's notification client), negative seq, not measured.
        for (var i = 1; i <= 20; i++)
        {
            await SendAsync(HttpMethod.Patch, path, Seq(-i), cancellationToken);
            await sink.Waiter(-i).Task.WaitAsync(PerNotificationTimeout, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        var notify = new Latencies();
        var writes = new Latencies();
        int missing = 0, beforeAck = 0, writeErrors = 0;
        var clock = Stopwatch.StartNew();
        for (var seq = 1; seq <= options.NotifyUpdates; seq++)
        {
            var start = Stopwatch.GetTimestamp();
            var (status, body) = await SendAsync(HttpMethod.Patch, path, Seq(seq), cancellationToken);
            var ack = Stopwatch.GetTimestamp();
            writes.Add(start);
            if (status != HttpStatusCode.NoContent)
            {
                if (++writeErrors <= 3) Console.Error.WriteLine($"  PATCH seq {seq}: {(int)status} {body}");
                continue;
            }
            try
            {
                var arrived = await sink.Waiter(seq).Task.WaitAsync(PerNotificationTimeout, cancellationToken);
                // The broker wakes its matcher on commit, before the HTTP answer is written: the notification can win the race.
                if (arrived < ack) beforeAck++;
                notify.AddMilliseconds(Math.Max(0, Stopwatch.GetElapsedTime(ack, arrived).TotalMilliseconds));
            }
            catch (TimeoutException)
            {
                missing++;
                Console.Error.WriteLine($"  no notification for seq {seq} within {PerNotificationTimeout.TotalSeconds} s");
            }
            if (seq % 200 == 0) Console.WriteLine($"  {seq}/{options.NotifyUpdates} updates, notification p50 so far {notify.Percentile(50):F2} ms ({clock.Elapsed.TotalSeconds:F1} s)");
        }
        clock.Stop();
        await Task.Delay(1000, cancellationToken); // late duplicates / stragglers
        var received = sink.SeqReceived(1, options.NotifyUpdates);
        return new LatencyResult(options.NotifyUpdates, received, sink.Duplicates, options.NotifyUpdates - received, beforeAck, writeErrors, notify, writes, clock.Elapsed);
    }

    /// <summary>
    /// N subscriptions on type FanSensor, all with the same endpoint; then M sequential entity creates of that type, so
    /// N×M notified entities (the broker may put several of one subscription's in one notification, so entities are
    /// counted, not requests). While they are delivered a probe PATCHes an entity no subscription watches (every 10 ms) to
    /// show whether writes wait for the fan-out; the same probe ran 100 times before, idle, as the baseline.
    /// </summary>
    public async Task<FanoutResult> FanoutAsync(CancellationToken cancellationToken)
    {
        const string type = "FanSensor";
        const string probeId = "urn:ngsi-ld:Probe:fanout-probe";
        var sink = receiver["/fanout"];
        var probePath = $"{Entities}/{probeId}/attrs";
        await ExpectAsync(HttpMethod.Post, Entities, $$$"""{"id":"{{{probeId}}}","type":"Probe","seq":{"type":"Property","value":0}}""", HttpStatusCode.Created, cancellationToken);
        var idle = new Latencies();
        for (var i = 0; i < 110; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await SendAsync(HttpMethod.Patch, probePath, Seq(i), cancellationToken);
            if (i >= 10) idle.Add(start);
            await Task.Delay(10, cancellationToken);
        }

        for (var s = 0; s < options.FanoutSubscriptions; s++)
            await ExpectAsync(HttpMethod.Post, Subscriptions, Subscription($"urn:ngsi-ld:Subscription:bench-fanout-{s:D3}", type, receiver.Endpoint("/fanout")), HttpStatusCode.Created, cancellationToken);
        await Task.Delay(500, cancellationToken); // let the matcher load the subscriptions while idle

        var expected = options.FanoutSubscriptions * options.FanoutWrites;
        var during = new Latencies();
        using var stopProbe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var trigger = new Latencies();
        var writeErrors = 0;
        var firstWrite = Stopwatch.GetTimestamp();
        var probe = Task.Run(async () =>
        {
            var n = 1000;
            while (!stopProbe.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try { await SendAsync(HttpMethod.Patch, probePath, Seq(n++), stopProbe.Token); }
                catch (OperationCanceledException) { break; }
                during.Add(start);
                try { await Task.Delay(10, stopProbe.Token); } catch (OperationCanceledException) { break; }
            }
        }, CancellationToken.None);
        long lastAck = 0;
        for (var w = 0; w < options.FanoutWrites; w++)
        {
            var start = Stopwatch.GetTimestamp();
            var (status, body) = await SendAsync(HttpMethod.Post, Entities,
                $$$"""{"id":"urn:ngsi-ld:{{{type}}}:{{{w:D4}}}","type":"{{{type}}}","seq":{"type":"Property","value":{{{w}}}}}""", cancellationToken);
            lastAck = Stopwatch.GetTimestamp();
            trigger.Add(start);
            if (status != HttpStatusCode.Created && ++writeErrors <= 3) Console.Error.WriteLine($"  create {w}: {(int)status} {body}");
        }
        Console.WriteLine($"  {options.FanoutWrites} creates acknowledged in {Stopwatch.GetElapsedTime(firstWrite).TotalSeconds:F2} s; waiting for {expected:N0} notified entities");
        var progress = Task.Run(async () =>
        {
            while (!stopProbe.IsCancellationRequested)
            {
                try { await Task.Delay(5000, stopProbe.Token); } catch (OperationCanceledException) { return; }
                Console.WriteLine($"  {sink.Entities:N0}/{expected:N0} notified entities in {sink.Distinct:N0} notifications ({Stopwatch.GetElapsedTime(firstWrite).TotalSeconds:F0} s)");
            }
        }, CancellationToken.None);
        var complete = await sink.WaitForEntitiesAsync(expected, TimeSpan.FromMinutes(5), cancellationToken);
        stopProbe.Cancel();
        await Task.WhenAll(probe, progress);
        await Task.Delay(500, cancellationToken); // late duplicates
        var last = sink.LastArrival;
        return new FanoutResult(options.FanoutSubscriptions, options.FanoutWrites, expected, sink.Entities, sink.Distinct, sink.Duplicates, writeErrors, complete,
            Stopwatch.GetElapsedTime(firstWrite, last), Stopwatch.GetElapsedTime(lastAck, last), Stopwatch.GetElapsedTime(firstWrite, sink.FirstArrival),
            trigger, idle, during);
    }

    private static string Seq(long value) => $$$"""{"seq":{"type":"Property","value":{{{value.ToString(CultureInfo.InvariantCulture)}}}}}""";

    private static string Subscription(string id, string type, Uri endpoint) => $$$"""
        {"id":"{{{id}}}","type":"Subscription","entities":[{"type":"{{{type}}}"}],
         "notification":{"format":"keyValues","endpoint":{"uri":"{{{endpoint}}}","accept":"application/json"} } }
        """;

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.StatusCode, body);
    }

    private async Task ExpectAsync(HttpMethod method, string path, string json, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(method, path, json, cancellationToken);
        if (status != expected) throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)status} {body}");
    }
}
