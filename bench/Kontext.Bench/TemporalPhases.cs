using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kontext.Bench;

/// <summary>
/// Issue 5: N sensors × one year (2025) of 15-minute readings of one Property `temperature`, seeded with
/// POST /temporal/entities one sensor-month per request, then lastN=1, one month raw (following 206 pages) and one
/// year aggregated per day. Values are a deterministic function of (sensor, slot), so every answer is checked.
/// </summary>
internal sealed class TemporalPhases(HttpClient client, BenchOptions options, int brokerPid)
{
    public const string Root = "/ngsi-ld/v1/temporal/entities";
    public const int SlotsPerDay = 96;
    public static readonly DateTimeOffset YearStart = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset YearEnd = YearStart.AddYears(1);
    public static readonly int SlotsPerYear = (int)((YearEnd - YearStart).TotalMinutes / 15); // 35,040

    /// <param name="Broker">The broker's CPU time and bytes written over the whole seeding (/proc), for the write cost per instance.</param>
    public sealed record SeedResult(int Sensors, long Instances, int Requests, int Errors, TimeSpan Elapsed, Latencies RequestLatency, long AverageBodyBytes,
        ProcessCounters Broker = default)
    {
        public double PerSecond => Instances / Elapsed.TotalSeconds;
    }

    /// <param name="Broker">The broker's CPU time and bytes written over the measured requests (warm-ups excluded).</param>
    public sealed record QueryResult(string Name, int Requests, int Errors, int Wrong, Latencies Latency, string Example, string Detail, Latencies? Pages = null,
        ProcessCounters Broker = default)
    {
        public double CpuPerRequest => Broker.CpuMilliseconds / Math.Max(1, Requests);
    }

    public static string SensorId(int sensor) => $"urn:ngsi-ld:TemperatureSensor:S{sensor + 1:D4}";

    /// <summary>The reading of a sensor in a 15-minute slot of the year: seasonal and daily waves plus hashed noise, 2 decimals.</summary>
    public static double Value(int sensor, int slot)
    {
        var h = (uint)(sensor * 2654435761u) ^ (uint)(slot * 40503u);
        h ^= h >> 13; h *= 0x5bd1e995; h ^= h >> 15;
        var noise = (h % 1000) / 1000.0 - 0.5;
        return Math.Round(12 + 10 * Math.Sin(2 * Math.PI * (slot / (double)SlotsPerYear - 0.3)) + 4 * Math.Sin(2 * Math.PI * (slot % SlotsPerDay) / SlotsPerDay) + sensor * 0.01 + noise, 2);
    }

    private static string Time(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A temporal entity with the readings of one sensor in one month.</summary>
    public static byte[] MonthBody(int sensor, int month)
    {
        var from = YearStart.AddMonths(month - 1);
        var first = (int)((from - YearStart).TotalMinutes / 15);
        var last = (int)((from.AddMonths(1) - YearStart).TotalMinutes / 15);
        var buffer = new ArrayBufferWriter<byte>((last - first) * 90 + 200);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", SensorId(sensor));
            w.WriteString("type", "TemperatureSensor");
            w.WriteStartArray("temperature");
            for (var slot = first; slot < last; slot++)
            {
                w.WriteStartObject();
                w.WriteString("type", "Property");
                w.WriteNumber("value", Value(sensor, slot));
                w.WriteString("observedAt", Time(YearStart.AddMinutes(15 * slot)));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>POST /temporal/entities, sensor-major, one sensor-month per request, from several clients.</summary>
    public async Task<SeedResult> SeedAsync(CancellationToken cancellationToken)
    {
        var work = Enumerable.Range(0, options.Sensors).SelectMany(s => Enumerable.Range(1, 12).Select(m => (Sensor: s, Month: m))).ToList();
        var next = -1;
        int errors = 0, done = 0;
        long instances = 0, bytes = 0;
        var latencies = new Latencies();
        var before = ProcessCounters.Read(brokerPid);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.TemporalClients).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < work.Count)
            {
                var (sensor, month) = work[index];
                var body = MonthBody(sensor, month); // ~1 ms of client CPU per request, inside the measured time
                var count = (int)((YearStart.AddMonths(month) - YearStart.AddMonths(month - 1)).TotalMinutes / 15);
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(Root, content, cancellationToken);
                var answer = await response.Content.ReadAsStringAsync(cancellationToken);
                latencies.Add(start);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.NoContent)
                {
                    Interlocked.Add(ref instances, count);
                    Interlocked.Add(ref bytes, body.Length);
                }
                else if (Interlocked.Increment(ref errors) <= 3) Console.Error.WriteLine($"  temporal POST {SensorId(sensor)} month {month}: {(int)response.StatusCode} {Truncate(answer)}");
                var n = Interlocked.Increment(ref done);
                if (n % 60 == 0) Console.WriteLine($"  {n}/{work.Count} sensor-months, {Interlocked.Read(ref instances) / clock.Elapsed.TotalSeconds:N0} instances/s ({clock.Elapsed.TotalSeconds:F0} s)");
            }
        }, cancellationToken)));
        clock.Stop();
        var cost = ProcessCounters.Read(brokerPid) - before;
        var ok = work.Count - errors;
        return new SeedResult(options.Sensors, instances, work.Count, errors, clock.Elapsed, latencies, ok == 0 ? 0 : bytes / ok, cost);
    }

    /// <summary>GET /temporal/entities/{id}?lastN=1: exactly the last reading of the year.</summary>
    public async Task<QueryResult> LastNAsync(CancellationToken cancellationToken)
    {
        var random = new Random(501);
        var latencies = new Latencies();
        int errors = 0, wrong = 0;
        var example = "";
        for (var i = 0; i < options.TemporalRequests + 3; i++)
        {
            var sensor = random.Next(options.Sensors);
            var url = $"{Root}/{SensorId(sensor)}?lastN=1";
            if (example.Length == 0) example = url;
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (i >= 3) latencies.Add(start);
            if (response.StatusCode != HttpStatusCode.OK) { if (++errors <= 3) Console.Error.WriteLine($"  {url}: {(int)response.StatusCode} {Truncate(body)}"); continue; }
            var instances = Instances(body);
            var lastSlot = SlotsPerYear - 1;
            if (instances.Count != 1 || instances[0].ObservedAt != Time(YearStart.AddMinutes(15 * lastSlot)) || instances[0].Value != Value(sensor, lastSlot))
            {
                if (++wrong <= 3) Console.Error.WriteLine($"  {url}: unexpected {Truncate(body)}");
            }
        }
        return new QueryResult("lastN=1", options.TemporalRequests, errors, wrong, latencies, example, "1 instance, the last reading, checked");
    }

    /// <summary>One calendar month of one sensor, normalized, following the 206 pages (Link rel="next") to the end.</summary>
    public async Task<QueryResult> MonthRawAsync(CancellationToken cancellationToken)
    {
        var random = new Random(502);
        var latencies = new Latencies();
        var pageLatencies = new Latencies();
        int errors = 0, wrong = 0, pagesTotal = 0, minPages = int.MaxValue, maxPages = 0;
        long instancesTotal = 0;
        var example = "";
        for (var i = 0; i < options.TemporalRequests + 3; i++)
        {
            var measured = i >= 3;
            var sensor = random.Next(options.Sensors);
            var month = random.Next(1, 13);
            var from = YearStart.AddMonths(month - 1);
            var to = from.AddMonths(1);
            var expected = (int)((to - from).TotalMinutes / 15);
            string? url = $"{Root}/{SensorId(sensor)}?timerel=between&timeAt={Uri.EscapeDataString(Time(from))}&endTimeAt={Uri.EscapeDataString(Time(to))}";
            if (example.Length == 0) example = url;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int pages = 0, duplicates = 0, badValues = 0;
            var failed = false;
            var start = Stopwatch.GetTimestamp();
            while (url is not null && pages < 20)
            {
                var pageStart = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync(url, cancellationToken);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (measured) pageLatencies.Add(pageStart);
                pages++;
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
                {
                    if (++errors <= 3) Console.Error.WriteLine($"  {url}: {(int)response.StatusCode} {Truncate(body)}");
                    failed = true;
                    break;
                }
                foreach (var instance in Instances(body))
                {
                    if (!seen.Add(instance.ObservedAt)) { duplicates++; continue; }
                    var slot = (int)((DateTimeOffset.Parse(instance.ObservedAt, CultureInfo.InvariantCulture) - YearStart).TotalMinutes / 15);
                    if (instance.Value != Value(sensor, slot)) badValues++;
                }
                url = response.StatusCode == HttpStatusCode.PartialContent ? NextLink(response) : null;
                if (response.StatusCode == HttpStatusCode.PartialContent && url is null) { failed = true; if (++errors <= 3) Console.Error.WriteLine("  206 without Link rel=next"); }
            }
            if (measured) latencies.Add(start);
            if (failed) continue;
            var inMonth = seen.All(t => DateTimeOffset.Parse(t, CultureInfo.InvariantCulture) is var at && at >= from && at < to);
            if (seen.Count != expected || duplicates > 0 || badValues > 0 || !inMonth)
            {
                if (++wrong <= 3) Console.Error.WriteLine($"  month {month} of {SensorId(sensor)}: {seen.Count} distinct of {expected}, {duplicates} duplicates, {badValues} wrong values, all in month: {inMonth}");
            }
            if (measured)
            {
                pagesTotal += pages;
                instancesTotal += seen.Count;
                minPages = Math.Min(minPages, pages);
                maxPages = Math.Max(maxPages, pages);
            }
        }
        var detail = $"{instancesTotal / (double)options.TemporalRequests:F0} instances/month on average (expected 2,880–2,976, each month checked exactly: days × 96, no duplicates, values), "
                     + $"{minPages}–{maxPages} pages per month ({pagesTotal / (double)options.TemporalRequests:F1} on average)";
        return new QueryResult("month raw", options.TemporalRequests, errors, wrong, latencies, example, detail, pageLatencies);
    }

    /// <summary>
    /// The whole year of one sensor aggregated (avg, min, max) per day (365 periods) or per calendar month (P1M, 12 periods),
    /// every value checked; the broker's CPU time per request from /proc over the measured requests.
    /// </summary>
    public async Task<QueryResult> YearAggregatedAsync(string period, CancellationToken cancellationToken)
    {
        var random = new Random(period == "P1D" ? 503 : 504);
        var latencies = new Latencies();
        int errors = 0, wrong = 0;
        var example = "";
        var periods = Periods(period);
        var before = default(ProcessCounters);
        for (var i = 0; i < options.TemporalRequests + 3; i++)
        {
            if (i == 3) before = ProcessCounters.Read(brokerPid);
            var sensor = random.Next(options.Sensors);
            var url = $"{Root}/{SensorId(sensor)}?options=aggregatedValues&aggrMethods=avg,min,max&aggrPeriodDuration={period}&timerel=between"
                      + $"&timeAt={Uri.EscapeDataString(Time(YearStart))}&endTimeAt={Uri.EscapeDataString(Time(YearEnd))}";
            if (example.Length == 0) example = url;
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (i >= 3) latencies.Add(start);
            if (response.StatusCode != HttpStatusCode.OK) { if (++errors <= 3) Console.Error.WriteLine($"  {url}: {(int)response.StatusCode} {Truncate(body)}"); continue; }
            var problem = CheckAggregates(body, sensor, periods);
            if (problem is not null && ++wrong <= 3) Console.Error.WriteLine($"  aggregated {SensorId(sensor)}: {problem}");
        }
        var cost = ProcessCounters.Read(brokerPid) - before;
        return new QueryResult(period == "P1D" ? "year per day" : "year per month", options.TemporalRequests, errors, wrong, latencies, example,
            $"{periods.Count} periods × avg/min/max, every value checked against the generated readings", Broker: cost);
    }

    /// <summary>The periods of the year: days or calendar months, as [start, end).</summary>
    private static List<(DateTimeOffset Start, DateTimeOffset End)> Periods(string period)
    {
        var list = new List<(DateTimeOffset, DateTimeOffset)>();
        for (var t = YearStart; t < YearEnd;)
        {
            var next = period == "P1D" ? t.AddDays(1) : t.AddMonths(1);
            list.Add((t, next));
            t = next;
        }
        return list;
    }

    private static string? CheckAggregates(byte[] body, int sensor, List<(DateTimeOffset Start, DateTimeOffset End)> expectedPeriods)
    {
        using var json = JsonDocument.Parse(body);
        if (!json.RootElement.TryGetProperty("temperature", out var attribute)) return "no temperature";
        foreach (var method in new[] { "avg", "min", "max" })
        {
            if (!attribute.TryGetProperty(method, out var periods)) return $"no {method}";
            if (periods.GetArrayLength() != expectedPeriods.Count) return $"{method}: {periods.GetArrayLength()} periods, expected {expectedPeriods.Count}";
            var d = 0;
            foreach (var period in periods.EnumerateArray())
            {
                var (from, to) = expectedPeriods[d];
                var first = (int)((from - YearStart).TotalMinutes / 15);
                var last = (int)((to - YearStart).TotalMinutes / 15);
                var values = Enumerable.Range(first, last - first).Select(slot => Value(sensor, slot)).ToList();
                var expected = method switch { "avg" => values.Average(), "min" => values.Min(), _ => values.Max() };
                if (period[0].ValueKind != JsonValueKind.Number || Math.Abs(period[0].GetDouble() - expected) > 1e-6)
                    return $"{method} of period {d}: {period[0]} instead of {expected}";
                if (DateTimeOffset.Parse(period[1].GetString()!, CultureInfo.InvariantCulture) != from) return $"{method} period {d} starts {period[1]}";
                d++;
            }
        }
        return null;
    }

    private readonly record struct Reading(string ObservedAt, double Value);

    /// <summary>The instances of `temperature` in a normalized temporal entity (an object for one instance, an array otherwise).</summary>
    private static List<Reading> Instances(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var list = new List<Reading>();
        if (!json.RootElement.TryGetProperty("temperature", out var attribute)) return list;
        IEnumerable<JsonElement> items = attribute.ValueKind == JsonValueKind.Array ? attribute.EnumerateArray() : [attribute];
        foreach (var item in items)
            list.Add(new Reading(item.GetProperty("observedAt").GetString()!, item.GetProperty("value").GetDouble()));
        return list;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            if (!link.Contains("rel=\"next\"", StringComparison.Ordinal)) continue;
            var open = link.IndexOf('<');
            var close = link.IndexOf('>');
            if (open >= 0 && close > open) return link[(open + 1)..close];
        }
        return null;
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
    private static string Truncate(byte[] body) => Truncate(System.Text.Encoding.UTF8.GetString(body));
}
