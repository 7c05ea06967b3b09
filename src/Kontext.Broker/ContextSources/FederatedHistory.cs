using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Local history with the instances context sources answered for one distributed temporal request (clause 4.3.6): reads
/// merge both (<see cref="TemporalMerge"/>), so the temporal selection and response code answer from the merged series
/// exactly as from a store. Aggregation is done in memory over the merged series, never in the store (the store holds
/// only the local part); writes and deleted entities are the local store's.
/// </summary>
internal sealed class FederatedHistory(ITemporalStore local, IReadOnlyList<AttributeInstanceRecord> remote) : ITemporalStore
{
    public async Task<IReadOnlyList<TemporalInstance>> ReadInstancesAsync(TemporalReadRequest request, CancellationToken cancellationToken) =>
        TemporalMerge.Merge(await local.ReadInstancesAsync(request, cancellationToken), remote, request);

    public Task<IReadOnlyList<PeriodStatistics>> AggregateAsync(TemporalAggregateRequest request, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("a federated series is aggregated in memory");

    /// <summary>None: the local buckets hold only the local part of a merged series.</summary>
    public Task<IReadOnlyList<BucketStatistics>?> ReadBucketsAsync(TemporalBucketRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<BucketStatistics>?>(null);

    public Task<DeletedEntity?> GetDeletedEntityAsync(string entityId, CancellationToken cancellationToken) =>
        local.GetDeletedEntityAsync(entityId, cancellationToken);

    public Task<(T Result, long Purged)> WriteAndPurgeAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge purge, CancellationToken cancellationToken) =>
        local.WriteAndPurgeAsync(entityId, decide, purge, cancellationToken);

    public Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, System.Text.Json.Nodes.JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken) =>
        local.ReplaceInstanceAsync(entityId, attribute, instanceId, instance, modifiedAt, cancellationToken);

    public Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken) =>
        local.DeleteInstanceAsync(entityId, attribute, instanceId, cancellationToken);
}
