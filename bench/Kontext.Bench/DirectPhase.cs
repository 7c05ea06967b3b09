using System.Diagnostics;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;

namespace Kontext.Bench;

/// <summary>
/// The baseline: the same batches written straight into an in-process <see cref="SqliteStorage"/>, no HTTP. Each group
/// of 1,000 is parsed the way the broker parses a batch (EntityParser, core context) and its writes are issued
/// concurrently, so the store group-commits them, as UpsertBatch does; groups run on as many workers as the HTTP
/// phase has clients.
/// </summary>
internal static class DirectPhase
{
    public sealed record Result(int Entities, int Created, int Failed, TimeSpan Elapsed, Latencies Groups)
    {
        public double PerSecond => Entities / Elapsed.TotalSeconds;
    }

    public static async Task<Result> RunAsync(string dataDirectory, IReadOnlyList<byte[]> batches, int workers, CancellationToken cancellationToken)
    {
        var storage = new SqliteStorage(dataDirectory);
        try
        {
            var store = (await storage.GetTenantAsync(null, true, cancellationToken))!;
            var next = -1;
            int created = 0, failed = 0, entities = 0;
            var latencies = new Latencies();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < batches.Count)
                {
                    var start = Stopwatch.GetTimestamp();
                    var items = JsonNode.Parse(batches[index])!.AsArray();
                    var parsed = items.Select(i => EntityParser.ParseEntity(i!.AsObject(), ContextProcessor.Core, ParseMode.Full)).ToList();
                    var results = await Task.WhenAll(parsed.Select(async entity =>
                    {
                        try
                        {
                            return await UpsertAsync(store, entity, cancellationToken) ? 1 : 0;
                        }
                        catch (Exception ex) when (ex is NgsiException or Microsoft.Data.Sqlite.SqliteException)
                        {
                            Interlocked.Increment(ref failed);
                            return 0;
                        }
                    }));
                    latencies.Add(start);
                    Interlocked.Add(ref created, results.Sum());
                    Interlocked.Add(ref entities, parsed.Count);
                    if ((index + 1) % 10 == 0) Console.WriteLine($"  direct: {index + 1}/{batches.Count} groups ({clock.Elapsed.TotalSeconds:F1} s)");
                }
            }, cancellationToken)));
            clock.Stop();
            return new Result(entities, created, failed, clock.Elapsed, latencies);
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    /// <summary>The decision of UpsertBatch (options=replace, the default): create when absent, replace when present.</summary>
    private static Task<bool> UpsertAsync(ITenantStore store, Entity parsed, CancellationToken cancellationToken) =>
        store.WriteAsync(parsed.Id, current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            var entity = parsed.Clone();
            if (current is null) return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
            return EntityWrite<bool>.Upsert(operations.Replace(current, entity), operations.Changes, false);
        }, cancellationToken);
}
