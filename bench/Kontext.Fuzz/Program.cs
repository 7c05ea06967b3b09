using System.Diagnostics;
using Kontext.Fuzz;

// Usage: dotnet run -c Release --project bench/Kontext.Fuzz -- --url http://127.0.0.1:1026 --seeds 1,2,3,4 --requests 5000 [--parallel 8]
// Sends the generated requests to a running broker (give its adapters sources fuzz-tts, fuzz-json, fuzz-chirpstack of those kinds, secret "fuzz-secret", to
// reach the ingest paths) and reports every answer that breaks the oracle: a 5xx, or an error that is not a ProblemDetails.
var options = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--")).ToDictionary(p => p.a[2..], p => p.i + 1 < args.Length ? args[p.i + 1] : "");
var url = options.GetValueOrDefault("url", "http://127.0.0.1:1026");
var seeds = options.GetValueOrDefault("seeds", "1").Split(',').Select(int.Parse).ToArray();
var perSeed = int.Parse(options.GetValueOrDefault("requests", "5000"));
var parallel = int.Parse(options.GetValueOrDefault("parallel", "8"));

using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 }) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
var clock = Stopwatch.StartNew();
var sent = 0;
foreach (var seed in seeds)
{
    var requests = new RequestFuzzer(seed, [null, "fuzz-a", "fuzz-b"]).Generate(perSeed).ToList();
    await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (request, ct) =>
    {
        try
        {
            using var response = await client.SendAsync(request.ToHttp(), ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (FuzzOracle.Check(request.Method, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body) is { } problem)
                failures.Add($"seed {seed}: {problem}: {request}");
        }
        catch (HttpRequestException ex)
        {
            failures.Add($"seed {seed}: no answer ({ex.Message}): {request}");
        }
        Interlocked.Increment(ref sent);
    });
}
Console.WriteLine($"{sent} requests, seeds {string.Join(",", seeds)}, {clock.Elapsed.TotalSeconds:F0} s");
Console.WriteLine("statuses: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
Console.WriteLine($"{failures.Count} answers broke the oracle");
foreach (var failure in failures.Take(50)) Console.WriteLine("  " + failure);
return failures.IsEmpty ? 0 : 1;
