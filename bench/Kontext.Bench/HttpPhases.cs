using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Kontext.Bench;

/// <summary>The measurements made over HTTP against the running broker.</summary>
internal sealed class HttpPhases(HttpClient client, BenchOptions options, IReadOnlyList<byte[]> batches, IReadOnlyList<GeneratedEntity> entities)
{
    private const string Entities = "/ngsi-ld/v1/entities";

    public sealed record UpsertResult(int Entities, int Created, int Failed, TimeSpan Elapsed, Latencies Batches)
    {
        public double PerSecond => Entities / Elapsed.TotalSeconds;
    }

    public sealed record LoadResult(int Requests, int Errors, TimeSpan Elapsed, Latencies Latency)
    {
        public double PerSecond => Requests / Elapsed.TotalSeconds;
    }

    public sealed record QueryResult(int Requests, int Errors, int Wrong, double AverageResults, Latencies Latency, string Example);

    public sealed record PaginationResult(bool Pass, int Pages, int IdsSeen, int Duplicates, long? ResultsCount, int Expected, TimeSpan Elapsed, Latencies Latency, string Detail);

    /// <summary>POST /entityOperations/upsert, one batch per request, from <see cref="BenchOptions.UpsertClients"/> clients.</summary>
    public async Task<UpsertResult> UpsertAsync(CancellationToken cancellationToken)
    {
        var next = -1;
        int created = 0, failed = 0;
        var latencies = new Latencies();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.UpsertClients).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < batches.Count)
            {
                using var content = new ByteArrayContent(batches[index]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                var start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("/ngsi-ld/v1/entityOperations/upsert", content, cancellationToken);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                latencies.Add(start);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    using var ids = JsonDocument.Parse(body);
                    Interlocked.Add(ref created, ids.RootElement.GetArrayLength());
                }
                else if (response.StatusCode != HttpStatusCode.NoContent)
                {
                    Interlocked.Increment(ref failed);
                    Console.Error.WriteLine($"  upsert batch {index}: {(int)response.StatusCode} {Truncate(body)}");
                }
                if ((index + 1) % 10 == 0) Console.WriteLine($"  upserted {index + 1}/{batches.Count} batches ({clock.Elapsed.TotalSeconds:F1} s)");
            }
        }, cancellationToken)));
        clock.Stop();
        return new UpsertResult(entities.Count, created, failed, clock.Elapsed, latencies);
    }

    /// <summary>GET /entities/{id} for random ids, a fixed number of requests shared by the clients.</summary>
    public async Task<LoadResult> RetrieveAsync(CancellationToken cancellationToken)
    {
        // Warm-up (JIT, connection pool, SQLite page cache), not measured.
        await RetrieveLoopAsync(200, options.GetClients, 7, null, cancellationToken);
        var latencies = new Latencies();
        var clock = Stopwatch.StartNew();
        var errors = await RetrieveLoopAsync(options.GetRequests, options.GetClients, 11, latencies, cancellationToken);
        clock.Stop();
        return new LoadResult(options.GetRequests, errors, clock.Elapsed, latencies);
    }

    private async Task<int> RetrieveLoopAsync(int requests, int clients, int seed, Latencies? latencies, CancellationToken cancellationToken)
    {
        var remaining = requests;
        var errors = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed * 100 + c);
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                var entity = entities[random.Next(entities.Count)];
                var start = Stopwatch.GetTimestamp();
                using var response = await client.GetAsync($"{Entities}/{entity.Id}", cancellationToken);
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                latencies?.Add(start);
                if (response.StatusCode != HttpStatusCode.OK || body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(entity.Id)) < 0)
                {
                    if (Interlocked.Increment(ref errors) <= 3) Console.Error.WriteLine($"  GET {entity.Id}: {(int)response.StatusCode} {Truncate(body)}");
                }
            }
        }, cancellationToken)));
        return errors;
    }

    /// <summary>type + one numeric q comparison; every answer is checked (type, no2 &gt; 50, a full page).</summary>
    public async Task<QueryResult> TypeAndQAsync(CancellationToken cancellationToken)
    {
        const int limit = 100;
        var url = $"{Entities}?type=AirQualityObserved&q={Uri.EscapeDataString("no2>50")}&limit={limit}";
        var expected = Math.Min(limit, entities.Count(e => e.Type == "AirQualityObserved" && e.No2 > 50));
        var latencies = new Latencies();
        int errors = 0, wrong = 0;
        long results = 0;
        for (var i = 0; i < options.QueryRequests + 5; i++)
        {
            var measured = i >= 5; // the first few warm up
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (measured) latencies.Add(start);
            if (response.StatusCode != HttpStatusCode.OK) { errors++; if (errors <= 3) Console.Error.WriteLine($"  query: {(int)response.StatusCode} {Truncate(body)}"); continue; }
            using var json = JsonDocument.Parse(body);
            var count = 0;
            var ok = true;
            foreach (var e in json.RootElement.EnumerateArray())
            {
                count++;
                ok &= e.GetProperty("type").GetString() == "AirQualityObserved" && e.GetProperty("no2").GetProperty("value").GetDouble() > 50;
            }
            if (!ok || count != expected) wrong++;
            if (measured) results += count;
        }
        return new QueryResult(options.QueryRequests, errors, wrong, (double)results / options.QueryRequests, latencies, url);
    }

    /// <summary>near;maxDistance==500 around random points; every answer is checked against the generated coordinates.</summary>
    public async Task<QueryResult> GeoNearAsync(CancellationToken cancellationToken)
    {
        const int limit = 100;
        const double maxDistance = 500;
        var random = new Random(4242);
        var latencies = new Latencies();
        int errors = 0, wrong = 0;
        long results = 0;
        string example = "";
        for (var i = 0; i < options.GeoRequests + 5; i++)
        {
            var measured = i >= 5;
            var (lon, lat) = EntityGenerator.RandomPoint(random, EntityGenerator.RadiusMetres);
            var coordinates = string.Create(CultureInfo.InvariantCulture, $"[{lon},{lat}]");
            var url = $"{Entities}?georel={Uri.EscapeDataString($"near;maxDistance=={maxDistance}")}&geometry=Point&coordinates={Uri.EscapeDataString(coordinates)}&limit={limit}";
            if (example.Length == 0) example = url;
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (measured) latencies.Add(start);
            if (response.StatusCode != HttpStatusCode.OK) { errors++; if (errors <= 3) Console.Error.WriteLine($"  near: {(int)response.StatusCode} {Truncate(body)}"); continue; }

            // Expected: every entity within 500 m (a hair of tolerance either side for floating point), capped by the page.
            int surelyIn = 0, possiblyIn = 0;
            foreach (var e in entities)
            {
                var d = EntityGenerator.Haversine(lon, lat, e.Lon, e.Lat);
                if (d <= maxDistance - 0.01) surelyIn++;
                if (d <= maxDistance + 0.01) possiblyIn++;
            }
            using var json = JsonDocument.Parse(body);
            var count = 0;
            var ok = true;
            foreach (var e in json.RootElement.EnumerateArray())
            {
                count++;
                var c = e.GetProperty("location").GetProperty("value").GetProperty("coordinates");
                ok &= EntityGenerator.Haversine(lon, lat, c[0].GetDouble(), c[1].GetDouble()) <= maxDistance + 0.01;
            }
            ok &= count >= Math.Min(limit, surelyIn) && count <= Math.Min(limit, possiblyIn);
            if (!ok) wrong++;
            if (measured) results += count;
        }
        return new QueryResult(options.GeoRequests, errors, wrong, (double)results / options.GeoRequests, latencies, example);
    }

    /// <summary>Walks every ParkingSpot page by page: each id exactly once, and as many as NGSILD-Results-Count says.</summary>
    public async Task<PaginationResult> DeepPaginationAsync(CancellationToken cancellationToken)
    {
        const int limit = 1000;
        const string type = "ParkingSpot";
        var expected = entities.Count(e => e.Type == type);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = 0;
        var pages = 0;
        long? resultsCount = null;
        var countsAgree = true;
        var latencies = new Latencies();
        var detail = "";
        var clock = Stopwatch.StartNew();
        var maxPages = expected / limit + 3; // bounded even if the broker kept answering
        for (var offset = 0; pages < maxPages; offset += limit)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync($"{Entities}?type={type}&limit={limit}&offset={offset}&count=true", cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            latencies.Add(start);
            pages++;
            if (response.StatusCode != HttpStatusCode.OK) { detail = $"page at offset {offset}: {(int)response.StatusCode} {Truncate(body)}"; break; }
            if (response.Headers.TryGetValues("NGSILD-Results-Count", out var values)
                && long.TryParse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture, out var total))
            {
                if (resultsCount is not null && resultsCount != total) countsAgree = false;
                resultsCount ??= total;
            }
            else countsAgree = false;
            using var json = JsonDocument.Parse(body);
            var returned = 0;
            foreach (var e in json.RootElement.EnumerateArray())
            {
                returned++;
                if (!seen.Add(e.GetProperty("id").GetString()!)) duplicates++;
            }
            if (returned < limit || offset + limit >= (resultsCount ?? long.MaxValue)) break;
        }
        clock.Stop();
        var pass = detail.Length == 0 && duplicates == 0 && countsAgree && resultsCount == seen.Count && seen.Count == expected;
        if (detail.Length == 0)
            detail = $"{seen.Count} distinct ids, {duplicates} duplicates, NGSILD-Results-Count {resultsCount?.ToString(CultureInfo.InvariantCulture) ?? "missing"}"
                     + (countsAgree ? "" : " (inconsistent across pages)") + $", {expected} generated";
        return new PaginationResult(pass, pages, seen.Count, duplicates, resultsCount, expected, clock.Elapsed, latencies, detail);
    }

    private static string Truncate(byte[] body)
    {
        var text = System.Text.Encoding.UTF8.GetString(body);
        return text.Length <= 300 ? text : text[..300] + "…";
    }
}
