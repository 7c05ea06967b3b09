using System.Text;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// One tenant database. Writes are optimistic: read the document and its version, run the pure decide on a fresh copy,
/// write with a version filter; on a conflict start over (decide runs again). With transactions (replica set, sharded
/// cluster) the entity, its history, the change-log entry and the sequence counter commit together (D4, D5); on a
/// standalone server the write-ahead ordering of <c>MongoTenantStore.Standalone.cs</c> is used.
/// </summary>
internal sealed partial class MongoTenantStore : ITenantStore, ITemporalStore
{
    private const int MaxAttempts = 50;
    private readonly IMongoClient _client;
    private readonly IMongoDatabase _database;
    private readonly bool _transactions;
    private readonly MongoStoreOptions _options;
    private readonly Action<string?> _committed;
    private readonly IMongoCollection<BsonDocument> _entities, _instances, _changes, _counters, _subscriptions, _outbox, _cursors, _deleted;

    public MongoTenantStore(string? name, IMongoClient client, IMongoDatabase database, bool transactions, MongoStoreOptions options, Action<string?> committed)
    {
        Name = name;
        _client = client;
        _database = database;
        _transactions = transactions;
        _options = options;
        _committed = committed;
        IMongoCollection<BsonDocument> C(string n) => database.GetCollection<BsonDocument>(n);
        (_entities, _instances, _changes, _counters) = (C(MongoSchema.Entities), C(MongoSchema.Instances), C(MongoSchema.Changes), C(MongoSchema.Counters));
        (_subscriptions, _outbox, _cursors, _deleted) = (C(MongoSchema.Subscriptions), C(MongoSchema.Outbox), C(MongoSchema.Cursors), C(MongoSchema.Deleted));
    }

    public string? Name { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await MongoSchema.CreateAsync(_database, cancellationToken);
        if (!_transactions) await CompleteAllPendingAsync(cancellationToken);
    }

    public async Task<Entity?> GetEntityAsync(string id, CancellationToken cancellationToken)
    {
        var doc = await _entities.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
        return doc is null || IsPendingDelete(doc) ? null : MongoEntityDocument.FromBson(doc);
    }

    public Task<T> WriteAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken cancellationToken) =>
        WriteCoreAsync(entityId, decide, null, cancellationToken);

    private async Task<T> WriteCoreAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide,
        Func<IClientSessionHandle?, CancellationToken, Task>? alsoInTransaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                T result;
                if (_transactions)
                {
                    using var session = await _client.StartSessionAsync(cancellationToken: cancellationToken);
                    // WithTransaction retries transient errors (write conflicts on the entity or the counter) by running the callback again.
                    result = await session.WithTransactionAsync(async (s, ct) =>
                    {
                        var r = await ApplyAsync(s, entityId, decide, ct);
                        if (alsoInTransaction is not null) await alsoInTransaction(s, ct);
                        return r;
                    }, cancellationToken: cancellationToken);
                }
                else
                {
                    result = await ApplyStandaloneAsync(entityId, decide, cancellationToken);
                    if (alsoInTransaction is not null) await alsoInTransaction(null, cancellationToken);
                }
                _committed(Name);
                return result;
            }
            catch (Exception e) when (IsConflict(e) && attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(1, 5 * Math.Min(attempt, 10)), cancellationToken);
            }
        }
    }

    private static bool IsConflict(Exception e) =>
        e is VersionConflictException
        || (e is MongoWriteException w && w.WriteError.Category == ServerErrorCategory.DuplicateKey)
        || (e is MongoCommandException c && c.Code == 112); // WriteConflict outside WithTransaction's own retry window

    /// <summary>The transactional write: every statement in session <paramref name="s"/>.</summary>
    private async Task<T> ApplyAsync<T>(IClientSessionHandle s, string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken ct)
    {
        var beforeDoc = await _entities.Find(s, Id(entityId)).FirstOrDefaultAsync(ct);
        var current = beforeDoc is null ? null : MongoEntityDocument.FromBson(beforeDoc);
        var beforeJson = current is null ? null : Json(current); // before decide, which may change current in place
        var write = decide(current);
        if (write.Kind == EntityWriteKind.None) return write.Result;

        var seq = await NextSequenceAsync(s, ct);
        var at = DateTimeOffset.UtcNow;
        if (write.Kind == EntityWriteKind.Delete)
        {
            if (beforeDoc is not null)
            {
                var deleted = await _entities.DeleteOneAsync(s, Versioned(beforeDoc), cancellationToken: ct);
                if (deleted.DeletedCount == 0) throw new VersionConflictException();
                await _deleted.ReplaceOneAsync(s, Id(entityId), DeletedDoc(entityId, beforeJson!, at), new ReplaceOptions { IsUpsert = true }, ct);
                var markers = DeletionMarkers(current!, seq, at).ToList();
                if (markers.Count > 0) await _instances.InsertManyAsync(s, markers, cancellationToken: ct);
            }
            await _changes.InsertOneAsync(s, ChangeDoc(seq, entityId, "delete", at, beforeJson, null), cancellationToken: ct);
            return write.Result;
        }

        var after = write.After ?? throw new InvalidOperationException("An upsert needs the entity's new state");
        var afterJson = Json(after);
        var doc = MongoEntityDocument.ToBson(after, beforeDoc?["seq"].ToInt64() ?? seq, (beforeDoc?["v"].ToInt64() ?? 0) + 1);
        await PutEntityAsync(s, beforeDoc, doc, ct);
        if (beforeDoc is null) await _deleted.DeleteOneAsync(s, Id(after.Id), cancellationToken: ct); // a re-creation ends the deleted state
        var instances = Instances(after.Id, write.Changes, after.ModifiedAt, seq).ToList();
        if (instances.Count > 0) await _instances.InsertManyAsync(s, instances, cancellationToken: ct);
        await _changes.InsertOneAsync(s, ChangeDoc(seq, after.Id, beforeDoc is null ? "create" : "update", at, beforeJson, afterJson), cancellationToken: ct);
        return write.Result;
    }

    /// <summary>Insert (a concurrent create loses on the unique _id) or replace under the read version.</summary>
    private async Task PutEntityAsync(IClientSessionHandle? s, BsonDocument? beforeDoc, BsonDocument doc, CancellationToken ct)
    {
        if (beforeDoc is null)
        {
            if (s is null) await _entities.InsertOneAsync(doc, cancellationToken: ct);
            else await _entities.InsertOneAsync(s, doc, cancellationToken: ct);
            return;
        }
        var replaced = s is null
            ? await _entities.ReplaceOneAsync(Versioned(beforeDoc), doc, cancellationToken: ct)
            : await _entities.ReplaceOneAsync(s, Versioned(beforeDoc), doc, cancellationToken: ct);
        if (replaced.MatchedCount == 0) throw new VersionConflictException();
    }

    /// <summary>The change-log sequence: one counter document, incremented in the write's transaction. Two writers
    /// touching it conflict, so sequence order is commit order and the matcher never reads past an uncommitted change.</summary>
    private async Task<long> NextSequenceAsync(IClientSessionHandle? s, CancellationToken ct, string name = "changes", long by = 1)
    {
        var filter = Id(name);
        var update = new BsonDocument("$inc", new BsonDocument("seq", by));
        var options = new FindOneAndUpdateOptions<BsonDocument> { IsUpsert = true, ReturnDocument = ReturnDocument.After };
        var counter = s is null
            ? await _counters.FindOneAndUpdateAsync(filter, update, options, ct)
            : await _counters.FindOneAndUpdateAsync(s, filter, update, options, ct);
        return counter["seq"].ToInt64();
    }

    internal static BsonDocument Id(string id) => new("_id", id);

    private static BsonDocument Versioned(BsonDocument doc) => new() { { "_id", doc["_id"] }, { "v", doc["v"] } };

    private static string Json(Entity entity) => Encoding.UTF8.GetString(EntityJson.Serialize(entity));

    private static BsonDocument ChangeDoc(long seq, string entityId, string op, DateTimeOffset at, string? before, string? after) => new()
    {
        { "_id", seq }, { "e", entityId }, { "op", op }, { "at", at.UtcDateTime },
        { "before", (BsonValue?)before ?? BsonNull.Value }, { "after", (BsonValue?)after ?? BsonNull.Value },
    };

    private static BsonDocument DeletedDoc(string id, string json, DateTimeOffset at) => new() { { "_id", id }, { "doc", json }, { "deletedAt", at.UtcDateTime } };

    private static IEnumerable<BsonDocument> DeletionMarkers(Entity entity, long seq, DateTimeOffset at) =>
        Instances(entity.Id, entity.Attributes.SelectMany(a => a.Value.Select(i => new AttributeChange(a.Key, Attr.DatasetId(i), AttributeChangeKind.Deleted, null))).ToList(), at, seq);

    /// <summary>History rows (D4): time-series measurements, meta = (entity, attribute), ts = observedAt else modifiedAt.</summary>
    internal static IEnumerable<BsonDocument> Instances(string entityId, IReadOnlyList<AttributeChange> changes, DateTimeOffset modifiedAt, long seq)
    {
        for (var n = 0; n < changes.Count; n++)
        {
            var change = changes[n];
            var observedText = change.Instance?["observedAt"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
            DateTime? observed = observedText is not null && Validate.TryParseDateTime(observedText, out var o) ? o.UtcDateTime : null;
            var document = new BsonDocument
            {
                { "ts", observed ?? modifiedAt.UtcDateTime },
                { "meta", new BsonDocument { { "e", entityId }, { "a", change.Attribute } } },
                { "ds", (BsonValue?)change.DatasetId ?? BsonNull.Value },
                { "iid", "urn:ngsi-ld:attribute:instance:" + Guid.NewGuid().ToString("N") },
                { "kind", change.Kind.ToString() },
                { "obs", observed is { } d ? new BsonDateTime(d) : BsonNull.Value },
                { "mod", modifiedAt.UtcDateTime },
                { "seq", seq }, { "n", n },
                { "doc", (BsonValue?)change.Instance?.ToJsonString() ?? BsonNull.Value },
            };
            if (change.Kind != AttributeChangeKind.Deleted) document.AddRange(MongoTemporalPipelines.SampleFields(change.Instance));
            yield return document;
        }
    }

    public async Task<IReadOnlyList<AttributeInstanceRecord>> ReadHistoryAsync(string entityId, string? attribute, CancellationToken cancellationToken)
    {
        var filter = new BsonDocument("meta.e", entityId);
        if (attribute is not null) filter.Add("meta.a", attribute);
        var docs = await _instances.Find(filter).Sort(new BsonDocument { { "seq", 1 }, { "n", 1 } }).ToListAsync(cancellationToken);
        return docs.Select(Record).ToList();
    }

    internal static AttributeInstanceRecord Record(BsonDocument d) => new(
        d["meta"]["e"].AsString, d["meta"]["a"].AsString, d["ds"].IsBsonNull ? null : d["ds"].AsString, d["iid"].AsString,
        Enum.Parse<AttributeChangeKind>(d["kind"].AsString),
        d["obs"].IsBsonNull ? null : new DateTimeOffset(d["obs"].ToUniversalTime()), new DateTimeOffset(d["mod"].ToUniversalTime()),
        d["doc"].IsBsonNull ? null : d["doc"].AsString);

    public async Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterSequence, int max, CancellationToken cancellationToken)
    {
        for (var pass = 0; ; pass++)
        {
            var docs = await _changes.Find(new BsonDocument("_id", new BsonDocument("$gt", afterSequence)))
                .Sort(new BsonDocument("_id", 1)).Limit(max).ToListAsync(cancellationToken);
            var records = new List<ChangeRecord>(docs.Count);
            var expected = afterSequence + 1;
            foreach (var d in docs)
            {
                var seq = d["_id"].ToInt64();
                // A gap is a standalone write between its sequence and its change entry: wait for it (or recover it) rather than skip it.
                if (seq != expected && !_transactions && DateTime.UtcNow - d["at"].ToUniversalTime() < _options.ChangeGapTimeout)
                {
                    if (pass == 0 && records.Count == 0 && await CompletePendingAsync(expected, seq, cancellationToken) > 0) goto again;
                    return records;
                }
                records.Add(new ChangeRecord(seq, d["e"].AsString, d["op"].AsString, new DateTimeOffset(d["at"].ToUniversalTime()),
                    d["before"].IsBsonNull ? null : d["before"].AsString, d["after"].IsBsonNull ? null : d["after"].AsString));
                expected = seq + 1;
            }
            return records;
            again:;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>The document changed between read and write: decide runs again on the new state.</summary>
internal sealed class VersionConflictException() : Exception("The entity changed concurrently");
