using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// The temporal port (issue 5): windowed reads of the attribute-instance history (D4) and the few writes the
/// Temporal API makes beyond ordinary entity writes. A tenant store that keeps history exposes it as
/// <see cref="ITenantStore.History"/>; history of ordinary writes is appended by <see cref="IEntityStore.WriteAsync{T}"/>.
/// </summary>
public interface ITemporalStore
{
    /// <summary>
    /// Instances of several entities in one read, each (entity, attribute) limited to the first (or, when
    /// <see cref="TemporalReadRequest.Newest"/>, the last) <see cref="TemporalReadRequest.PerAttributeLimit"/>
    /// instances of the window, ordered by time then append order. Only the window is touched (index on entity, attribute, time).
    /// </summary>
    Task<IReadOnlyList<TemporalInstance>> ReadInstancesAsync(TemporalReadRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The figures of the Aggregated Temporal Representation (clause 4.5.19) computed where the data lives, per
    /// (entity, attribute, datasetId) and period, over the samples (non-deleted instances) of the window. Period k of a
    /// series starts at <see cref="TemporalAggregateRequest.From"/> (or the series' first sample) plus k times the
    /// period; a zero period puts every sample in period 0. Ordered by entity, attribute, datasetId, period.
    /// </summary>
    Task<IReadOnlyList<PeriodStatistics>> AggregateAsync(TemporalAggregateRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The pre-aggregated buckets (<see cref="Kontext.Ngsi.Temporal.Buckets"/>) of the observedAt samples whose start lies
    /// in [<see cref="TemporalBucketRequest.From"/>, <see cref="TemporalBucketRequest.To"/>), ordered by entity, attribute,
    /// datasetId and start. The store keeps them with every instance write, modification and deletion. Null when the store
    /// has no buckets for it yet (a MongoDB backfill still running, or the entity's history being changed in the background): the caller aggregates as it would without them.
    /// </summary>
    Task<IReadOnlyList<BucketStatistics>?> ReadBucketsAsync(TemporalBucketRequest request, CancellationToken cancellationToken);

    /// <summary>The last state of an entity deleted through the entity API, and when it was deleted; null when not deleted (or purged).</summary>
    Task<DeletedEntity?> GetDeletedEntityAsync(string entityId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="decide"/> exactly as <see cref="IEntityStore.WriteAsync{T}"/> does and, in the same
    /// transaction, removes the history rows that <paramref name="purge"/> selects. Returns the result and the number of rows removed.
    /// </summary>
    Task<(T Result, long Purged)> WriteAndPurgeAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge purge, CancellationToken cancellationToken);

    /// <summary>Replaces one stored instance in place (same instanceId); false when there is no such instance.</summary>
    Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, System.Text.Json.Nodes.JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken);

    /// <summary>Removes one stored instance; false when there is no such instance.</summary>
    Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken);
}

/// <summary>Which timestamp of an instance a temporal query filters and orders on (clause 4.11 timeproperty).</summary>
public enum TemporalTimeProperty { ObservedAt, CreatedAt, ModifiedAt, DeletedAt }

/// <summary>
/// A windowed read. The window is [From, To) when <see cref="FromInclusive"/>, else (From, To); a null bound is open.
/// <see cref="Attributes"/> null reads every attribute; <see cref="DatasetIds"/> null reads every instance, else only
/// those with one of the datasetIds (a null element: the default instance, clause 4.5.5). An observedAt window holds
/// the instances with an observedAt, deletions written by the Temporal API included; createdAt holds no deletions,
/// deletedAt only deletions, modifiedAt everything.
/// </summary>
public sealed record TemporalReadRequest(
    IReadOnlyList<string> EntityIds,
    IReadOnlySet<string>? Attributes,
    TemporalTimeProperty TimeProperty,
    DateTimeOffset? From,
    bool FromInclusive,
    DateTimeOffset? To,
    int PerAttributeLimit,
    bool Newest,
    IReadOnlySet<string?>? DatasetIds = null);

/// <summary>
/// An aggregation over a window ([From, To) or (From, To) as in <see cref="TemporalReadRequest"/>) with a fixed
/// <see cref="Period"/> (calendar periods, months and years, are aggregated in memory); zero is one period;
/// <see cref="DatasetIds"/> as in <see cref="TemporalReadRequest"/>.
/// Only <see cref="TemporalTimeProperty.ObservedAt"/> and <see cref="TemporalTimeProperty.CreatedAt"/> windows, which hold no deletions.
/// </summary>
public sealed record TemporalAggregateRequest(
    IReadOnlyList<string> EntityIds,
    IReadOnlySet<string>? Attributes,
    TemporalTimeProperty TimeProperty,
    DateTimeOffset? From,
    bool FromInclusive,
    DateTimeOffset? To,
    TimeSpan Period,
    IReadOnlySet<string?>? DatasetIds = null);

/// <summary>Buckets of one granularity whose start lies in [From, To) (To null: open); the selection as in <see cref="TemporalReadRequest"/>.</summary>
public sealed record TemporalBucketRequest(
    IReadOnlyList<string> EntityIds,
    IReadOnlySet<string>? Attributes,
    Kontext.Ngsi.Temporal.BucketGranularity Granularity,
    DateTimeOffset From,
    DateTimeOffset? To,
    IReadOnlySet<string?>? DatasetIds = null);

/// <summary>
/// One bucket of one series: its start, its first and last sample time, the attribute type of its latest sample (the
/// latest appended among samples of the same time) and its figures (the distinct count is not kept: 0).
/// </summary>
public sealed record BucketStatistics(
    string EntityId, string Attribute, string? DatasetId, DateTimeOffset Start,
    DateTimeOffset FirstSample, DateTimeOffset LastSample, string LastType, Kontext.Ngsi.Temporal.PeriodFigures Figures);

/// <summary>One period of one series: its index, its first and last sample time, the attribute type of its latest sample and its figures.</summary>
public sealed record PeriodStatistics(
    string EntityId, string Attribute, string? DatasetId, string AttributeType, long Period,
    DateTimeOffset FirstSample, DateTimeOffset LastSample, Kontext.Ngsi.Temporal.PeriodFigures Figures);

/// <summary>One instance read from history with the timestamp the query used.</summary>
public sealed record TemporalInstance(AttributeInstanceRecord Record, DateTimeOffset Time);

public sealed record DeletedEntity(Entity Entity, DateTimeOffset DeletedAt);

/// <summary>
/// History rows to remove: the whole entity's history (Attribute null), or one attribute's default instance
/// (DatasetId null), the instance with DatasetId, or every instance (AnyDataset).
/// </summary>
public sealed record HistoryPurge(string? Attribute = null, string? DatasetId = null, bool AnyDataset = false)
{
    public static HistoryPurge WholeEntity { get; } = new();
}
