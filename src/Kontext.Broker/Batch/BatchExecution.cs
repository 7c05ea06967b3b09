using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Batch;

/// <summary>What became of one item of a batch.</summary>
internal enum BatchItemStatus { Failed, Created, Changed }

internal sealed record BatchItemResult(int Index, string? EntityId, BatchItemStatus Status, NgsiError? Error, string? RegistrationId = null)
{
    public bool Succeeded => Status != BatchItemStatus.Failed;
}

/// <summary>
/// Runs the per-entity writes of a batch. Each entity is its own atomic write (ITenantStore.WriteAsync), so one failing
/// entity never blocks or corrupts another. Writes to different entities are issued concurrently (the store group-commits
/// them); the items naming the same entity run one after the other in array order, so a later instance sees the earlier
/// one (clause 4.6.6: the same id twice in a create batch is AlreadyExists the second time; in an upsert the last wins).
/// </summary>
internal static class BatchExecution
{
    public static async Task<BatchItemResult[]> RunAsync<T>(BatchRequest batch, IReadOnlyList<BatchItem<T>> items,
        Func<BatchItem<T>, Task<BatchItemResult>> write)
    {
        var results = new BatchItemResult[items.Count];
        foreach (var item in items)
        {
            if (item.Error is not null) results[item.Index] = new(item.Index, item.Id, BatchItemStatus.Failed, item.Error);
        }

        var logger = batch.Http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BatchExecution).FullName!);
        var groups = items.Where(i => i.Error is null).GroupBy(i => i.Id!, StringComparer.Ordinal);
        await Task.WhenAll(groups.Select(async group =>
        {
            foreach (var item in group) results[item.Index] = await RunOneAsync(batch, item, write, logger);
        }));
        return results;
    }

    private static async Task<BatchItemResult> RunOneAsync<T>(BatchRequest batch, BatchItem<T> item,
        Func<BatchItem<T>, Task<BatchItemResult>> write, ILogger logger)
    {
        try
        {
            return await write(item);
        }
        catch (NgsiException ex)
        {
            return new(item.Index, item.Id, BatchItemStatus.Failed, ex.Error);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !batch.Aborted.IsCancellationRequested)
        {
            // A storage fault on one entity is that entity's error, not the batch's: the others may well have committed.
            logger.LogError(ex, "Batch {Path}: writing entity {EntityId} failed", batch.Http.Request.Path, item.Id);
            return new(item.Index, item.Id, BatchItemStatus.Failed, NgsiError.InternalError("The broker failed to write this entity; the failure is logged."));
        }
    }
}
