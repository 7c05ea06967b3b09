using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// The storage port (D1, D4, D6). Backend-neutral: the SQLite and MongoDB stores implement it, nothing above it
/// knows which one runs. A tenant is a separate database.
/// </summary>
public interface IEntityStorage : IAsyncDisposable
{
    /// <summary>The tenant's store; null when it does not exist and <paramref name="create"/> is false. A null name is the default tenant.</summary>
    ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken);

    /// <summary>Every tenant that exists (null is the default tenant).</summary>
    Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Called after each commit with the tenant that changed, so the notifier wakes without polling; before the write is
    /// answered, so a reader the answer reaches never sees a result derived from before the commit as current.
    /// </summary>
    event Action<string?>? Committed;

    /// <summary>Remote @context documents fetched once and kept, so a restart does not need the network again.</summary>
    IContextDocumentStore Contexts { get; }

    /// <summary>True when other processes write to the same data (several instances over one MongoDB): their commits raise no <see cref="Committed"/> here.</summary>
    bool SharedByProcesses => false;
}

/// <summary>
/// One tenant's store and its facets. The entity and notification facets every store has are inherited, so a tenant store
/// is one; the others are properties, null when this store does not keep them (a snapshot's read-only view keeps neither
/// history nor registrations). A consumer depends on the facet it needs (<see cref="IEntityStore"/>,
/// <see cref="INotificationStore"/>, <see cref="ITemporalStore"/>, <see cref="IRegistrationStore"/>, <see cref="IAdapterStore"/>);
/// the @context documents are a facet of the whole storage (<see cref="IEntityStorage.Contexts"/>), shared by every tenant.
/// </summary>
public interface ITenantStore : IEntityStore, INotificationStore
{
    /// <summary>The tenant's name; null for the default tenant.</summary>
    string? Name { get; }

    /// <summary>The temporal evolution of the tenant's entities; null when this store keeps no history.</summary>
    ITemporalStore? History { get; }

    /// <summary>Context source registrations and the subscriptions to them; null when this store keeps none.</summary>
    IRegistrationStore? Registrations { get; }

    /// <summary>The adapters' state (dead letters, uplink claims, validation modes); null when this store keeps none.</summary>
    IAdapterStore? Adapters { get; }
}

/// <summary>The entities of one tenant: reads, queries, atomic writes with their history (D4), and the change log (D5).</summary>
public interface IEntityStore
{
    Task<Entity?> GetEntityAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the entity's current state, lets <paramref name="decide"/> compute the write, and commits the new
    /// state, its history (D4) and a change-log entry (D5; see <see cref="ReadChangesAsync"/>) atomically. Writes to one entity are serialized, so
    /// concurrent writers never lose an update. An exception from <paramref name="decide"/> aborts this write only.
    /// The task completes once the write is durable.
    /// </summary>
    Task<T> WriteAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken cancellationToken);

    /// <summary>
    /// Several writes as <see cref="WriteAsync{T}"/> makes each (a batch operation's entities): every write is its own
    /// atomic write with its own result or error, in list order for writes naming the same entity. The task completes
    /// once every write is durable or failed. A store may run them as one job of its writer (SQLite) instead of a job each.
    /// </summary>
    async Task<WriteOutcome<T>[]> WriteManyAsync<T>(IReadOnlyList<(string EntityId, Func<Entity?, EntityWrite<T>> Decide)> writes, CancellationToken cancellationToken)
    {
        var outcomes = new WriteOutcome<T>[writes.Count];
        // Writes to different entities are issued concurrently (a store may group-commit them); those naming the same
        // entity one after the other, so a later one sees the earlier.
        await Task.WhenAll(Enumerable.Range(0, writes.Count).GroupBy(i => writes[i].EntityId, StringComparer.Ordinal).Select(async same =>
        {
            foreach (var i in same)
            {
                try
                {
                    outcomes[i] = WriteOutcome<T>.Done(await WriteAsync(writes[i].EntityId, writes[i].Decide, cancellationToken));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    outcomes[i] = WriteOutcome<T>.Failed(ex);
                }
            }
        }));
        return outcomes;
    }

    /// <summary>The entities matching a query, one page of them (D3: the store pushes down what it can, the evaluator decides).</summary>
    Task<EntityPage> QueryAsync(EntityPageRequest request, CancellationToken cancellationToken);

    /// <summary>Every entity type with its entity count, from the type index.</summary>
    Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken);

    /// <summary>Every (type, attribute) pair in use, from the attribute index.</summary>
    Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken);

    /// <summary>History of an entity's attribute instances, oldest first (the temporal API builds on this).</summary>
    Task<IReadOnlyList<AttributeInstanceRecord>> ReadHistoryAsync(string entityId, string? attribute, CancellationToken cancellationToken);

    /// <summary>
    /// Committed changes after <paramref name="afterSequence"/>, in commit order. Their readers are the notification
    /// matcher and the expiry reaper, so a store may leave out the record of a write made while the tenant had no
    /// subscription, unless the entity was transient before or after it (names expiresAt): nobody would read it
    /// (the SQLite store does; the MongoDB store logs every write). Consumed entries are pruned oldest first (every entry
    /// up to a bound, keeping a tail behind the durable cursors): a reader without a durable cursor (the expiry reaper)
    /// knows the prune has passed it when the oldest entry left is after its position.
    /// </summary>
    Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterSequence, int max, CancellationToken cancellationToken);

    /// <summary>
    /// The sequence of the newest committed change (0 when there is none): every change up to it is committed, and
    /// every later one commits after this call. A look-up of the log's last key, not a read of the log.
    /// </summary>
    Task<long> ReadLastChangeSequenceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Every entity that may be transient (names expiresAt, itself or an attribute instance; clause 4.22), read a page at
    /// a time after the last key read, never by offset, so reading them all costs one pass over the entities. Durable
    /// entities may come too (the caller decides). The expiry reaper's start-up scan. The default pages
    /// <see cref="QueryAsync"/>, fine for a store that holds few entities in memory.
    /// </summary>
    async IAsyncEnumerable<Entity> ReadTransientCandidatesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int page = 500;
        for (var offset = 0; ; offset += page)
        {
            var entities = (await QueryAsync(new EntityPageRequest(Query.EntityQuery.All, offset, page, false), cancellationToken)).Entities;
            foreach (var entity in entities) yield return entity;
            if (entities.Count < page) yield break;
        }
    }
}

/// <summary>
/// What a write decision asks the store to do. <paramref name="DeletionMarkers"/> (deletes only): whether the history
/// records the deletion of every attribute; an expired entity (clause 4.22) leaves its current state without one, its
/// history ending where it ended.
/// </summary>
public sealed record EntityWrite<T>(T Result, EntityWriteKind Kind, Entity? After, IReadOnlyList<AttributeChange> Changes, bool DeletionMarkers = true)
{
    /// <summary>
    /// Whether the decision replaced every attribute instance it changed (or removed it) and edited none in place, so an
    /// instance of <see cref="After"/> that is the object the store handed in is unchanged; a store may then skip the
    /// work of what kept its instances (the SQLite store's index fingerprints). <see cref="EntityWrites"/> says so; a
    /// decision that edits instances in place must not.
    /// </summary>
    public bool ReplacesInstances { get; init; }

    public static EntityWrite<T> Upsert(Entity after, IReadOnlyList<AttributeChange> changes, T result) => new(result, EntityWriteKind.Upsert, after, changes);
    public static EntityWrite<T> Delete(T result) => new(result, EntityWriteKind.Delete, null, []);
    public static EntityWrite<T> Expire(T result) => new(result, EntityWriteKind.Delete, null, [], DeletionMarkers: false);
    public static EntityWrite<T> Nothing(T result) => new(result, EntityWriteKind.None, null, []);
}

public enum EntityWriteKind { None, Upsert, Delete }

/// <summary>One stored attribute instance: a point in an attribute's history.</summary>
public sealed record AttributeInstanceRecord(
    string EntityId, string Attribute, string? DatasetId, string InstanceId, AttributeChangeKind Kind,
    DateTimeOffset? ObservedAt, DateTimeOffset ModifiedAt, string? InstanceJson);

/// <summary>One committed write: the entity before and after (null when absent), as stored JSON.</summary>
public sealed record ChangeRecord(long Sequence, string EntityId, string Operation, DateTimeOffset At, string? BeforeJson, string? AfterJson);

/// <summary>A stored @context document: its key, when it was stored, its size in UTF-8 bytes (for the caps).</summary>
public sealed record StoredContextDocument(string Key, DateTimeOffset StoredAt, long Bytes);

public interface IContextDocumentStore
{
    Task<string?> GetAsync(string url, CancellationToken cancellationToken);
    Task PutAsync(string url, string document, CancellationToken cancellationToken);

    /// <summary>Every stored key (remote URLs and hosted:{id} keys) with the time it was stored and its size, oldest first.</summary>
    Task<IReadOnlyList<StoredContextDocument>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Removes a stored document; false when there was none.</summary>
    Task<bool> DeleteAsync(string url, CancellationToken cancellationToken);
}

/// <summary>What became of one write of <see cref="IEntityStore.WriteManyAsync{T}"/>: its result, or the exception that failed it.</summary>
public readonly record struct WriteOutcome<T>(T? Result, Exception? Error)
{
    public static WriteOutcome<T> Done(T result) => new(result, null);
    public static WriteOutcome<T> Failed(Exception error) => new(default, error);
}
