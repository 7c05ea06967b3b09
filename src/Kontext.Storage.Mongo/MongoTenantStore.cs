using System.Text;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// One tenant database. Every entity write is one multi-document transaction (the deployment is a replica set or a sharded
/// cluster, see <see cref="MongoDeployment"/>): read the entity and its version, run the pure decide, then write the entity
/// under a version filter, its history rows (D4), its change-log entry (D5) and the sequence counter. A conflict (another
/// writer changed the entity or took the counter first) runs the whole transaction again, decide included.
/// </summary>
internal sealed partial class MongoTenantStore : ITenantStore
{
    private const int MaxAttempts = 50;
    private const int TransactionOverhead = 8;
    private readonly IMongoClient _client;
    private readonly IMongoDatabase _database;
    private readonly MongoStoreOptions _options;
    private readonly Action<string?> _committed;
    private readonly IMongoCollection<BsonDocument> _entities, _instances, _changes, _counters, _subscriptions, _outbox, _cursors, _deleted, _markers, _buckets;
    private readonly MongoBucketRebuild _rebuild;
    private readonly MongoHistoryMaintenance _maintenance;
    private readonly MongoChangeLogPrune _prune;
    private readonly MongoOutboxOrphans _orphans;

    public MongoTenantStore(string? name, IMongoClient client, IMongoDatabase database, MongoStoreOptions options, Action<string?> committed)
    {
        Name = name;
        _client = client;
        _database = database;
        _options = options;
        _committed = committed;
        IMongoCollection<BsonDocument> C(string n) => database.GetCollection<BsonDocument>(n);
        (_entities, _instances, _changes, _counters) = (C(MongoSchema.Entities), C(MongoSchema.Instances), C(MongoSchema.Changes), C(MongoSchema.Counters));
        (_subscriptions, _outbox, _cursors, _deleted, _markers) = (C(MongoSchema.Subscriptions), C(MongoSchema.Outbox), C(MongoSchema.Cursors), C(MongoSchema.Deleted), C(MongoSchema.Markers));
        _buckets = C(MongoSchema.Buckets);
        _rebuild = new MongoBucketRebuild(client, database, options);
        _maintenance = new MongoHistoryMaintenance(_instances, _markers, _rebuild, options.BackgroundMaintenance);
        _prune = new MongoChangeLogPrune(_changes, _cursors, options.ChangeLogRetention, options.BackgroundMaintenance);
        _orphans = new MongoOutboxOrphans(_outbox, _subscriptions, C(MongoSchema.RegistrationSubscriptions), options.BackgroundMaintenance);
    }

    public string? Name { get; }

    /// <summary>The background work history markers leave (tests run a pass themselves).</summary>
    internal MongoHistoryMaintenance Maintenance => _maintenance;

    /// <summary>The change log's pruning behind the cursors (tests run a pass themselves).</summary>
    internal MongoChangeLogPrune ChangeLogPrune => _prune;

    /// <summary>The removal of outbox messages whose subscription is gone (tests run a pass themselves).</summary>
    internal MongoOutboxOrphans OutboxOrphans => _orphans;

    /// <summary>
    /// Creates the collections and indexes, then, in the background, finishes what a stopped process may have left (history
    /// markers, outbox messages of deleted subscriptions) and builds the buckets of history stored before them (bucket reads
    /// fall back to the instances until then).
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await MongoSchema.CreateAsync(_database, cancellationToken);
        await RecordWhetherSubscribedOnceAsync(cancellationToken);
        _maintenance.Request();
        _orphans.Request();
    }

    public async Task<Entity?> GetEntityAsync(string id, CancellationToken cancellationToken)
    {
        var doc = await _entities.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : MongoEntityDocument.FromBson(doc);
    }

    public Task<T> WriteAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken cancellationToken) =>
        StorageMetrics.TimeWrite("mongo", async () => (await WriteCoreAsync(entityId, decide, null, cancellationToken)).Result);

    private async Task<(T Result, long Purged)> WriteCoreAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge? purge, CancellationToken cancellationToken)
    {
        var indexGeometry = true;
        for (var attempt = 1; ; attempt++)
        {
            var staged = false;
            try
            {
                using var session = await _client.StartSessionAsync(cancellationToken: cancellationToken);
                // WithTransaction runs the callback again on transient errors (a write conflict on the entity or the counter).
                var outcome = await session.WithTransactionAsync(async (s, ct) =>
                {
                    var (result, large) = await ApplyAsync(s, entityId, decide, indexGeometry, ct);
                    staged |= large;
                    var purged = purge is null ? 0 : await MarkPurgeAsync(s, entityId, purge, ct);
                    return (result, purged);
                }, cancellationToken: cancellationToken);
                _committed(Name);
                if (outcome.purged > 0) _maintenance.Request(); // delete the purged rows now hidden by the marker
                return outcome;
            }
            catch (Exception e) when (IsConflict(e) && attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 5 * Math.Min(attempt, 10)), cancellationToken);
            }
            catch (Exception e) when (indexGeometry && MongoErrors.Code(e) == MongoErrors.CannotExtractGeoKeys)
            {
                // S2 rejected a geometry NetTopologySuite accepted (a spherical self-crossing, say): write again with the
                // entity's geometries unindexed (geoUnindexed), which every geo pre-filter lets through to the evaluator.
                indexGeometry = false;
            }
            finally
            {
                if (staged) _maintenance.Request(); // make a large write's rows plain (committed) or remove them later (not committed)
            }
        }
    }

    private static bool IsConflict(Exception e) =>
        e is VersionConflictException
        || MongoErrors.Code(e) is MongoErrors.DuplicateKey or MongoErrors.WriteConflict; // a concurrent create; WriteConflict beyond WithTransaction's retry window

    /// <summary>The transactional write: every statement in session <paramref name="s"/>. Returns the result and whether the history was staged.</summary>
    private async Task<(T Result, bool Staged)> ApplyAsync<T>(IClientSessionHandle s, string entityId, Func<Entity?, EntityWrite<T>> decide, bool indexGeometry, CancellationToken ct)
    {
        var beforeDoc = await _entities.Find(s, Id(entityId)).FirstOrDefaultAsync(ct);
        var current = beforeDoc is null ? null : MongoEntityDocument.FromBson(beforeDoc);
        var before = current?.Clone(); // before decide, which may change current in place
        var scopesBefore = current?.Scopes?.ToList();
        var write = decide(current);
        if (write.Kind == EntityWriteKind.None) return (write.Result, false);

        var (seq, subscribed) = await TakeChangeSequenceAsync(s, ct);
        var at = DateTimeOffset.UtcNow;
        var staged = false;
        if (write.Kind == EntityWriteKind.Delete)
        {
            var beforeJson = before is null ? null : Json(before);
            var deletion = ChangeLogged(subscribed, before, null) ? MongoChangeDocument.Whole(seq, entityId, "delete", at, beforeJson, null) : null;
            if (deletion is not null) MongoWriteLimits.RequireStorable(deletion, "change-log entry");
            if (beforeDoc is not null)
            {
                var deleted = await _entities.DeleteOneAsync(s, Versioned(beforeDoc), cancellationToken: ct);
                if (deleted.DeletedCount == 0) throw new VersionConflictException();
                await _deleted.ReplaceOneAsync(s, Id(entityId), DeletedDoc(entityId, beforeJson!, at), new ReplaceOptions { IsUpsert = true }, ct);
                if (write.DeletionMarkers) staged = await AppendHistoryAsync(s, entityId, DeletionMarkers(current!, seq, at), ct);
            }
            if (deletion is not null) await _changes.InsertOneAsync(s, deletion, cancellationToken: ct);
            return (write.Result, staged);
        }

        var after = write.After ?? throw new InvalidOperationException("An upsert needs the entity's new state");
        var doc = MongoEntityDocument.ToBson(after, beforeDoc?["seq"].ToInt64() ?? seq, (beforeDoc?["v"].ToInt64() ?? 0) + 1, indexGeometry);
        MongoWriteLimits.RequireStorable(doc, "entity");
        var change = !ChangeLogged(subscribed, before, after) ? null
            : before is null ? MongoChangeDocument.Whole(seq, after.Id, "create", at, null, Json(after))
            : MongoChangeDocument.Update(seq, after.Id, at, before, after, Json(after));
        if (change is not null) MongoWriteLimits.RequireStorable(change, "change-log entry");
        await PutEntityAsync(s, beforeDoc, doc, ct);
        if (beforeDoc is null) await _deleted.DeleteOneAsync(s, Id(after.Id), cancellationToken: ct); // a re-creation ends the deleted state
        var history = MongoInstanceDocument.Build(after.Id, ScopeHistory.Complete(scopesBefore, after, write.Changes), after.ModifiedAt, seq);
        var additions = MongoBuckets.Additions(history);
        staged = await AppendHistoryAsync(s, after.Id, history, additions.Count, additions.Sum(a => MongoWriteLimits.Size(a.Key) + MongoWriteLimits.Size(a.Update)), ct);
        // The samples join their buckets in this transaction; a staged history's buckets are rebuilt once it is revealed.
        if (!staged && additions.Count > 0) await _buckets.BulkWriteAsync(s, MongoBuckets.Upserts(additions), new BulkWriteOptions { IsOrdered = false }, ct);
        if (change is not null) await _changes.InsertOneAsync(s, change, cancellationToken: ct);
        return (write.Result, staged);
    }

    /// <summary>
    /// Whether a write's change-log entry has a reader, by the SQLite store's rule: the notification matcher while the
    /// tenant has a subscription, and every process's expiry reaper for a transient entity (something of it expires before
    /// or after the write). Without either, the entry, the reapers' reads of it and its prune are pure cost (issue 12).
    /// <paramref name="subscribed"/> comes from the sequence counter this write increments (<see cref="TakeChangeSequenceAsync"/>).
    /// </summary>
    private static bool ChangeLogged(bool subscribed, Entity? before, Entity? after) =>
        subscribed || (before is not null && Transience.NextExpiry(before) is not null) || (after is not null && Transience.NextExpiry(after) is not null);

    /// <summary>
    /// History rows join the transaction when they fit its budget. A larger history (a temporal create with thousands of
    /// instances) is inserted first, outside the transaction and in batches, marked with a write id that keeps it out of every
    /// read; the transaction commits the write marker with the entity and its change, which makes the rows visible at once
    /// (<see cref="MongoHistoryMarkers"/>). <paramref name="alongside"/> documents of <paramref name="alongsideBytes"/> (the bucket
    /// upserts) join the transaction with the rows when they fit. Returns whether the history was staged.
    /// </summary>
    private async Task<bool> AppendHistoryAsync(IClientSessionHandle s, string entityId, List<BsonDocument> history, CancellationToken ct) =>
        await AppendHistoryAsync(s, entityId, history, 0, 0, ct);

    private async Task<bool> AppendHistoryAsync(IClientSessionHandle s, string entityId, List<BsonDocument> history, int alongside, int alongsideBytes, CancellationToken ct)
    {
        if (history.Count == 0) return false;
        // Room in the transaction for the entity, its change, the counter, the deleted-entity record and a marker.
        var room = _options.MaxTransactionDocuments - TransactionOverhead;
        var fits = history.Count + alongside <= room && alongsideBytes < _options.MaxTransactionBytes
            && MongoWriteLimits.Batches(history, _options.MaxTransactionBytes - alongsideBytes, room - alongside).Count == 1;
        if (fits)
        {
            await _instances.InsertManyAsync(s, history, cancellationToken: ct);
            return false;
        }
        var writeId = Guid.NewGuid().ToString("N");
        foreach (var batch in MongoWriteLimits.Batches(history, _options.MaxTransactionBytes, room))
        {
            foreach (var row in batch) row[MongoInstanceDocument.PendingWrite] = writeId;
            await _instances.InsertManyAsync(batch, cancellationToken: ct); // no session: outside the transaction, invisible until the marker commits
        }
        await _markers.InsertOneAsync(s, MongoHistoryMarkers.WriteMarker(writeId, entityId), cancellationToken: ct);
        return true;
    }

    /// <summary>Insert (a concurrent create loses on the unique _id) or update under the read version, by what changed.</summary>
    private async Task PutEntityAsync(IClientSessionHandle s, BsonDocument? beforeDoc, BsonDocument doc, CancellationToken ct)
    {
        if (beforeDoc is null)
        {
            await _entities.InsertOneAsync(s, doc, cancellationToken: ct);
            return;
        }
        var updated = await _entities.UpdateOneAsync(s, Versioned(beforeDoc), MongoEntityDocument.Changes(beforeDoc, doc), cancellationToken: ct);
        if (updated.MatchedCount == 0) throw new VersionConflictException();
    }

    /// <summary>
    /// The write's sequence and whether the tenant has a subscription, from the one counter document every entity write
    /// increments: <c>{_id: "changes", seq, subscribed}</c>. Each subscription write that can change the answer (a creation,
    /// a deletion) sets <c>subscribed</c> in its own transaction (<see cref="RecordWhetherSubscribedAsync"/>). Two transactions
    /// that write one document cannot both commit if they overlap (the later one fails with a WriteConflict and runs again),
    /// so a write and a subscription's creation commit in an order: a write committed after the subscription read the flag
    /// after it, and logs its change; a write that read the flag before it committed before it, a change the subscription
    /// owes no notification. A counter without the flag (an earlier version's) counts as subscribed.
    /// </summary>
    private async Task<(long Sequence, bool Subscribed)> TakeChangeSequenceAsync(IClientSessionHandle s, CancellationToken ct)
    {
        var counter = await IncrementAsync(s, ChangeCounter, 1, ct);
        return (counter["seq"].ToInt64(), !counter.TryGetValue(SubscribedFlag, out var flag) || flag.ToBoolean());
    }

    internal const string ChangeCounter = "changes", SubscribedFlag = "subscribed";

    /// <summary>The change-log sequence: one counter document, incremented in the write's transaction. Two writers
    /// touching it conflict, so sequence order is commit order and the matcher never reads past an uncommitted change.
    /// (A sequence taken by a purge, or by a write nothing reads the change of, has no change entry: the log may have gaps,
    /// which readers pass.)</summary>
    private async Task<long> NextSequenceAsync(IClientSessionHandle? s, CancellationToken ct, string name = ChangeCounter, long by = 1) =>
        (await IncrementAsync(s, name, by, ct))["seq"].ToInt64();

    private async Task<BsonDocument> IncrementAsync(IClientSessionHandle? s, string name, long by, CancellationToken ct)
    {
        var filter = Id(name);
        var update = new BsonDocument("$inc", new BsonDocument("seq", by));
        var options = new FindOneAndUpdateOptions<BsonDocument> { IsUpsert = true, ReturnDocument = ReturnDocument.After };
        var counter = s is null
            ? await _counters.FindOneAndUpdateAsync(filter, update, options, ct)
            : await _counters.FindOneAndUpdateAsync(s, filter, update, options, ct);
        return counter;
    }

    internal static BsonDocument Id(string id) => new("_id", id);

    private static BsonDocument Versioned(BsonDocument doc) => new() { { "_id", doc["_id"] }, { "v", doc["v"] } };

    private static string Json(Entity entity) => Encoding.UTF8.GetString(EntityJson.Serialize(entity));

    private static BsonDocument DeletedDoc(string id, string json, DateTimeOffset at) => new() { { "_id", id }, { "doc", json }, { "deletedAt", at.UtcDateTime } };

    private static List<BsonDocument> DeletionMarkers(Entity entity, long seq, DateTimeOffset at) =>
        MongoInstanceDocument.Build(entity.Id, ScopeHistory.DeletionMarkers(entity, at), at, seq);

    public async Task<IReadOnlyList<AttributeInstanceRecord>> ReadHistoryAsync(string entityId, string? attribute, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument(MongoInstanceDocument.Entity, entityId);
        if (attribute is not null) filter.Add(MongoInstanceDocument.Attribute, attribute);
        filter.AddRange(await VisibleAsync([entityId], cancellationToken));
        var docs = await _instances.Find(filter, new FindOptions { AllowDiskUse = true })
            .Sort(new BsonDocument { { MongoInstanceDocument.Sequence, 1 }, { MongoInstanceDocument.Order, 1 } }).ToListAsync(cancellationToken);
        return docs.Select(MongoInstanceDocument.Record).ToList();
    }

    public async Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterSequence, int max, CancellationToken cancellationToken)
    {
        var docs = await _changes.Find(new BsonDocument("_id", new BsonDocument("$gt", afterSequence)))
            .Sort(new BsonDocument("_id", 1)).Limit(max).ToListAsync(cancellationToken);
        return docs.Select(MongoChangeDocument.Record).ToList();
    }

    public async Task<long> ReadLastChangeSequenceAsync(CancellationToken cancellationToken)
    {
        // Sequence order is commit order (NextSequenceAsync): the newest visible entry has the highest committed sequence.
        var last = await _changes.Find(FilterDefinition<BsonDocument>.Empty).Sort(new BsonDocument("_id", -1)).Limit(1)
            .Project(new BsonDocument("_id", 1)).FirstOrDefaultAsync(cancellationToken);
        return last?["_id"].ToInt64() ?? 0;
    }

    /// <summary>
    /// Every entity, a page at a time after the last id (a seek on _id, never a skip), without the derived fields. Unlike the
    /// SQLite scan, durable entities come too: which attribute instance names expiresAt is not indexed here.
    /// </summary>
    public async IAsyncEnumerable<Entity> ReadTransientCandidatesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int page = 500;
        string? after = null;
        while (true)
        {
            var filter = after is null ? new BsonDocument() : new BsonDocument("_id", new BsonDocument("$gt", after));
            var docs = await _entities.Find(filter).Sort(new BsonDocument("_id", 1)).Limit(page).Project(MongoEntityDocument.Stored).ToListAsync(cancellationToken);
            foreach (var doc in docs) yield return MongoEntityDocument.FromBson(doc);
            if (docs.Count < page) yield break;
            after = docs[^1]["_id"].AsString;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _prune.DisposeAsync();
        await _orphans.DisposeAsync();
        await _maintenance.DisposeAsync();
    }
}

/// <summary>The document changed between read and write: decide runs again on the new state.</summary>
internal sealed class VersionConflictException() : Exception("The entity changed concurrently");
