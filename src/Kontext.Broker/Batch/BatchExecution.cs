using Kontext.Broker.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>What became of one item of a batch.</summary>
internal enum BatchItemStatus { Failed, Created, Changed }

internal sealed record BatchItemResult(int Index, string? EntityId, BatchItemStatus Status, NgsiError? Error, string? RegistrationId = null)
{
    public bool Succeeded => Status != BatchItemStatus.Failed;
}

/// <summary>
/// Runs the per-entity writes of a batch. Each entity is its own atomic write (one write of
/// <see cref="IEntityStore.WriteManyAsync{T}"/>), so one failing entity never blocks or corrupts another; the store runs
/// them as few jobs (SQLite: a chunk of writes per job of its writer, each write in its own savepoint, group-committed),
/// and the items naming the same entity in array order, so a later instance sees the earlier one (clause 4.6.6: the same
/// id twice in a create batch is AlreadyExists the second time; in an upsert the last wins).
/// </summary>
internal static class BatchExecution
{
    /// <param name="decide">The write of a valid item written locally.</param>
    /// <param name="result">The item's result from its write's result.</param>
    public static async Task<BatchItemResult[]> RunAsync<T, R>(BatchRequest batch, IReadOnlyList<BatchItem<T>> items, BatchDistribution distributed,
        ITenantStore? store, Func<BatchItem<T>, Func<Entity?, EntityWrite<R>>> decide, Func<BatchItem<T>, R, BatchItemResult> result)
    {
        var results = new BatchItemResult[items.Count];
        var local = new List<BatchItem<T>>(items.Count);
        foreach (var item in items)
        {
            if (item.Error is not null) results[item.Index] = new(item.Index, item.Id, BatchItemStatus.Failed, item.Error);
            else if (distributed.SkippedLocally(item.Index, item.Id) is { } skipped) results[item.Index] = skipped;
            else local.Add(item);
        }
        if (local.Count == 0) return results;

        var writes = new (string, Func<Entity?, EntityWrite<R>>)[local.Count];
        for (var i = 0; i < local.Count; i++) writes[i] = (local[i].Id!, decide(local[i]));
        var outcomes = await store!.WriteManyAsync(writes, batch.Aborted);
        ILogger? logger = null;
        for (var i = 0; i < local.Count; i++)
        {
            var item = local[i];
            results[item.Index] = outcomes[i].Error switch
            {
                null => result(item, outcomes[i].Result!),
                NgsiException ex => new(item.Index, item.Id, BatchItemStatus.Failed, ex.Error),
                OperationCanceledException when batch.Aborted.IsCancellationRequested => throw new OperationCanceledException(batch.Aborted),
                var ex => Logged(ex, item),
            };
        }
        return results;

        BatchItemResult Logged(Exception ex, BatchItem<T> item)
        {
            // A storage fault on one entity is that entity's error, not the batch's: the others may well have committed.
            logger ??= batch.Request.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BatchExecution).FullName!);
            logger.LogError(ex, "Batch {Path}: writing entity {EntityId} failed", batch.Http.Request.Path, item.Id);
            return new(item.Index, item.Id, BatchItemStatus.Failed, NgsiError.InternalError("The broker failed to write this entity; the failure is logged."));
        }
    }
}
