using System.Collections.Concurrent;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Subscriptions, the matcher cursor and the leased outbox. Several processes may run the matcher over the same change log:
/// the cursor moves by compare-and-set from the position this process read, in the transaction that appends the
/// notifications, so a batch another process already matched is dropped instead of being notified twice.
/// </summary>
internal sealed partial class MongoTenantStore
{
    private readonly ConcurrentDictionary<string, long> _cursorsRead = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<StoredSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken)
    {
        var docs = await _subscriptions.Find(FilterDefinition<BsonDocument>.Empty).Sort(new BsonDocument { { "createdAt", 1 }, { "_id", 1 } }).ToListAsync(cancellationToken);
        return docs.Select(Subscription).ToList();
    }

    public async Task<StoredSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        var doc = await _subscriptions.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
        return doc is null ? null : Subscription(doc);
    }

    private static StoredSubscription Subscription(BsonDocument d) => new(
        d["_id"].AsString, d["doc"].AsString,
        new SubscriptionStatus(d.GetValue("timesSent", 0).ToInt64(), d.GetValue("timesFailed", 0).ToInt64(),
            Time(d, "lastNotification"), Time(d, "lastSuccess"), Time(d, "lastFailure")),
        new DateTimeOffset(d["createdAt"].ToUniversalTime()), new DateTimeOffset(d["modifiedAt"].ToUniversalTime()));

    private static DateTimeOffset? Time(BsonDocument d, string name) =>
        d.TryGetValue(name, out var v) && !v.IsBsonNull ? new DateTimeOffset(v.ToUniversalTime()) : null;

    public async Task<T> WriteSubscriptionAsync<T>(string id, Func<StoredSubscription?, SubscriptionWrite<T>> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var doc = await _subscriptions.Find(Id(id)).FirstOrDefaultAsync(cancellationToken);
            var write = decide(doc is null ? null : Subscription(doc));
            if (!write.Write) return write.Result;
            var now = DateTime.UtcNow;
            try
            {
                if (write.Document is null)
                {
                    if (doc is not null) await OnceInTransactionAsync(async (s, ct) =>
                    {
                        if ((await _subscriptions.DeleteOneAsync(s, Versioned(doc), cancellationToken: ct)).DeletedCount == 0) throw new VersionConflictException();
                        await RecordWhetherSubscribedAsync(s, ct);
                    }, cancellationToken);
                }
                else if (doc is null)
                {
                    await OnceInTransactionAsync(async (s, ct) =>
                    {
                        await _subscriptions.InsertOneAsync(s, new BsonDocument
                        {
                            { "_id", id }, { "v", 1L }, { "doc", write.Document }, { "createdAt", now }, { "modifiedAt", now }, { "timesSent", 0L }, { "timesFailed", 0L },
                        }, cancellationToken: ct);
                        await RecordWhetherSubscribedAsync(s, ct);
                    }, cancellationToken);
                }
                else
                {
                    var update = new BsonDocument { { "$set", new BsonDocument { { "doc", write.Document }, { "modifiedAt", now } } }, { "$inc", new BsonDocument("v", 1L) } };
                    if ((await _subscriptions.UpdateOneAsync(Versioned(doc), update, cancellationToken: cancellationToken)).MatchedCount == 0)
                        throw new VersionConflictException();
                }
                // After the commit, outside its transaction: a subscription's queue may exceed one transaction's budget.
                // An append racing with the write is ordered by the subscription's document (SubscribedOnlyAsync).
                if (write.Document is null || write.DropsPending) await _outbox.DeleteManyAsync(MongoOutbox.Of(id), cancellationToken);
                return write.Result;
            }
            catch (Exception e) when (IsConflict(e) && attempt < MaxAttempts) { }
        }
    }

    /// <summary>
    /// Sets the change counter's <c>subscribed</c> flag to whether a subscription exists, in the transaction of the
    /// subscription write that may change it. The entity writes read the flag from the counter they increment
    /// (<see cref="TakeChangeSequenceAsync"/>), so this write and theirs are ordered, and two subscription writes are too:
    /// the answer is right at this transaction's commit.
    /// </summary>
    private async Task RecordWhetherSubscribedAsync(IClientSessionHandle s, CancellationToken ct)
    {
        var any = await _subscriptions.Find(s, FilterDefinition<BsonDocument>.Empty).Limit(1).Project(new BsonDocument("_id", 1)).AnyAsync(ct);
        await _counters.UpdateOneAsync(s, Id(ChangeCounter), new BsonDocument("$set", new BsonDocument(SubscribedFlag, any)), new UpdateOptions { IsUpsert = true }, ct);
    }

    /// <summary>A counter written by an earlier version has no flag (read as subscribed): set it once, when a process opens the tenant.</summary>
    private async Task RecordWhetherSubscribedOnceAsync(CancellationToken ct)
    {
        var counter = await _counters.Find(Id(ChangeCounter)).FirstOrDefaultAsync(ct);
        if (counter is null || !counter.Contains(SubscribedFlag)) await InTransactionAsync(async (s, c) =>
        {
            await RecordWhetherSubscribedAsync(s, c);
            return true;
        }, ct);
    }

    /// <summary>One transaction, run again only on the server's transient errors: the caller reads again on a version conflict.</summary>
    private async Task OnceInTransactionAsync(Func<IClientSessionHandle, CancellationToken, Task> work, CancellationToken ct)
    {
        using var session = await _client.StartSessionAsync(cancellationToken: ct);
        await session.WithTransactionAsync(async (s, c) =>
        {
            await work(s, c);
            return true;
        }, cancellationToken: ct);
    }

    public async Task<long> ReadCursorAsync(string name, CancellationToken cancellationToken)
    {
        var doc = await _cursors.Find(Id(name)).FirstOrDefaultAsync(cancellationToken);
        var position = doc?["position"].ToInt64() ?? 0;
        _cursorsRead[name] = position;
        return position;
    }

    /// <summary>
    /// Of the outbox documents, those whose subscription exists, writing each such subscription's document in the caller's
    /// transaction (<see cref="MongoOutbox.Appended"/>). A deletion writes the same document in its transaction, so MongoDB
    /// orders the two (the later writer gets a write conflict and its transaction runs again): either the append commits
    /// first, and the deletion's removal of the outbox after its commit takes these messages too; or the deletion commits
    /// first, and the append finds no subscription and leaves its messages out. Without it an append that matched against
    /// a subscription list read before the deletion could leave a message that nobody removes, sent after a restart.
    /// <paramref name="subscriptionOf"/> names the subscription a message's key belongs to in
    /// <paramref name="subscriptions"/> (null: none there, left out).
    /// </summary>
    private static async Task<List<BsonDocument>> SubscribedOnlyAsync(IClientSessionHandle s, IMongoCollection<BsonDocument> subscriptions,
        IEnumerable<BsonDocument> messages, Func<string, string?> subscriptionOf, CancellationToken ct)
    {
        var kept = new List<BsonDocument>();
        foreach (var group in messages.GroupBy(d => d["sub"].AsString))
        {
            if (subscriptionOf(group.Key) is not { } id) continue;
            var latest = group.Max(d => d["createdAt"].ToUniversalTime());
            if ((await subscriptions.UpdateOneAsync(s, Id(id), MongoOutbox.Appended(latest), cancellationToken: ct)).MatchedCount > 0) kept.AddRange(group);
        }
        return kept;
    }

    /// <summary>
    /// Appends the notifications and moves the cursor in one transaction; a message whose subscription is gone is left out
    /// (<see cref="SubscribedOnlyAsync"/>). Notifications beyond one transaction's budget
    /// (<see cref="MongoStoreOptions.MaxTransactionBytes"/>) go in several: the earlier ones each check that the cursor has
    /// not moved, the last moves it; if another process moved it meanwhile, the batches already committed are deleted again.
    /// A crash between batches leaves the cursor where it was, so the changes are matched again: a notification may then be
    /// sent twice, never lost (at-least-once, D5).
    /// </summary>
    public async Task AppendNotificationsAsync(string? cursorName, long cursorPosition, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        if (cursorName is null && messages.Count == 0) return;
        var last = messages.Count == 0 ? 0 : await NextSequenceAsync(null, cancellationToken, "outbox", messages.Count);
        var docs = messages.Select((m, i) => MongoOutbox.Message(last - messages.Count + 1 + i, m.SubscriptionId, m.Endpoint, m.Request, m.CreatedAt.UtcDateTime)).ToList();
        var expected = cursorName is null ? 0 : _cursorsRead.GetValueOrDefault(cursorName);
        // Each message may also update its subscription's lastNotification: half the documents per transaction are messages.
        var batches = MongoWriteLimits.Batches(docs, _options.MaxTransactionBytes, _options.MaxTransactionDocuments / 2);
        if (batches.Count == 0) batches.Add([]);
        var appended = new List<BsonValue>();
        for (var b = 0; b < batches.Count; b++)
        {
            var batch = batches[b];
            var moveCursor = b == batches.Count - 1;
            List<BsonDocument> kept = [];

            async Task<bool> Apply(IClientSessionHandle s, CancellationToken ct)
            {
                kept = [];
                if (cursorName is not null && !(moveCursor
                        ? await MoveCursorAsync(s, cursorName, expected, cursorPosition, ct)
                        : await CursorAtAsync(s, cursorName, expected, ct)))
                    return false;
                kept = await SubscribedOnlyAsync(s, _subscriptions, batch, key => key, ct);
                if (kept.Count > 0) await _outbox.InsertManyAsync(s, kept, cancellationToken: ct);
                return true;
            }

            bool applied;
            using (var session = await _client.StartSessionAsync(cancellationToken: cancellationToken))
            {
                try { applied = await session.WithTransactionAsync(Apply, cancellationToken: cancellationToken); }
                catch (MongoException e) when (MongoErrors.Code(e) == MongoErrors.DuplicateKey) { applied = false; } // another process created the cursor
            }
            if (!applied)
            {
                // Another process matched these changes first: what this one appended would be sent twice.
                if (appended.Count > 0) await _outbox.DeleteManyAsync(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(appended))), cancellationToken);
                break;
            }
            appended.AddRange(kept.Select(d => d["_id"]));
        }
        if (cursorName is null) return;
        _cursorsRead[cursorName] = cursorPosition;
        _prune.Request(); // the log behind the cursors, as the SQLite store prunes it with the cursor write
    }

    private async Task<bool> CursorAtAsync(IClientSessionHandle s, string name, long expected, CancellationToken ct)
    {
        var cursor = await _cursors.Find(s, Id(name)).FirstOrDefaultAsync(ct);
        return (cursor?["position"].ToInt64() ?? 0) == expected;
    }

    /// <summary>
    /// Compare-and-set in the transaction; false when another process moved the cursor since this one read it. Decided by a
    /// read, not by a failing upsert: a write error inside a transaction aborts it. Two processes creating the cursor at once
    /// conflict on its _id; the loser sees it moved when its transaction runs again (or gets the duplicate key, see the caller).
    /// </summary>
    private async Task<bool> MoveCursorAsync(IClientSessionHandle s, string name, long expected, long position, CancellationToken ct)
    {
        var cursor = await _cursors.Find(s, Id(name)).FirstOrDefaultAsync(ct);
        if ((cursor?["position"].ToInt64() ?? 0) != expected) return false;
        if (cursor is null)
        {
            await _cursors.InsertOneAsync(s, new BsonDocument { { "_id", name }, { "position", position } }, cancellationToken: ct);
            return true;
        }
        var moved = await _cursors.UpdateOneAsync(s, new BsonDocument { { "_id", name }, { "position", expected } },
            new BsonDocument("$set", new BsonDocument("position", position)), cancellationToken: ct);
        return moved.MatchedCount > 0;
    }

    public async Task<IReadOnlyList<OutboxMessage>> ReadDueNotificationsAsync(DateTimeOffset now, int max, long after, CancellationToken cancellationToken)
    {
        _orphans.Request(); // at most every minute, in the background: messages whose subscription is gone leave the outbox
        var at = now.UtcDateTime;
        var claimable = MongoOutbox.Claimable(at);
        if (after > 0) claimable.Add("_id", new BsonDocument("$gt", after));
        var candidates = await _outbox.Find(claimable).Sort(new BsonDocument("_id", 1)).Limit(max)
            .Project(new BsonDocument("_id", 1)).ToListAsync(cancellationToken);
        if (candidates.Count == 0) return [];
        var token = Guid.NewGuid().ToString("N");
        await _outbox.UpdateManyAsync(MongoOutbox.ClaimFilter(candidates.Select(c => c["_id"].ToInt64()), at),
            MongoOutbox.Claim(_options.InstanceId, token, at + _options.OutboxLease), cancellationToken: cancellationToken);
        var claimed = await _outbox.Find(new BsonDocument("leaseToken", token)).Sort(new BsonDocument("_id", 1)).ToListAsync(cancellationToken);
        return claimed.Select(d => new OutboxMessage(d["_id"].ToInt64(), d["sub"].AsString, d["endpoint"].AsString, d["request"].AsString,
            d["attempts"].ToInt32(), new DateTimeOffset(d["createdAt"].ToUniversalTime()))).ToList();
    }

    /// <summary>
    /// Extends this process's lease on every message it still owns (one update), then reads which those are (one find):
    /// a message another process took over, or that left the outbox, is not among them.
    /// </summary>
    public async Task<IReadOnlySet<long>> RenewLeasesAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var held = new HashSet<long>();
        if (sequences.Count == 0) return held;
        var owned = MongoOutbox.OwnedAll(sequences, _options.InstanceId);
        await _outbox.UpdateManyAsync(owned, MongoOutbox.Renew(now.UtcDateTime + _options.OutboxLease), cancellationToken: cancellationToken);
        foreach (var doc in await _outbox.Find(owned).Project(new BsonDocument("_id", 1)).ToListAsync(cancellationToken))
            held.Add(doc["_id"].ToInt64());
        return held;
    }

    /// <summary>
    /// The delivered and given-up messages leave the outbox in one delete, retries are rescheduled one by one (each has its
    /// own time), and each subscription's counters move once for the whole batch. Not one transaction: a crash in between
    /// leaves a delivered message in the outbox (sent again: at-least-once, D5) or its counters short, never a lost message.
    /// </summary>
    public async Task RecordDeliveriesAsync(IReadOnlyList<DeliveryRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        foreach (var retry in records.Where(r => r.Outcome == DeliveryOutcome.Retry))
            await _outbox.UpdateOneAsync(MongoOutbox.Owned(retry.Sequence, _options.InstanceId),
                MongoOutbox.Reschedule((retry.RetryAt ?? retry.At).UtcDateTime, _options.OutboxLease), cancellationToken: cancellationToken);
        // whoever holds the lease now: a process that took the message over finds it gone and drops it
        var done = records.Where(r => r.Outcome != DeliveryOutcome.Retry).Select(r => r.Sequence).ToList();
        if (done.Count > 0)
            await _outbox.DeleteManyAsync(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(done))), cancellationToken);
        foreach (var group in records.Where(r => r.Counts).GroupBy(r => r.SubscriptionId))
        {
            var counters = new BsonDocument
            {
                { "timesSent", (long)group.Count(r => r.CountsAsSent) }, { "timesFailed", (long)group.Count(r => r.CountsAsFailed) },
            };
            var latest = new BsonDocument();
            if (group.Where(r => r.Outcome == DeliveryOutcome.Delivered).Select(r => r.At).DefaultIfEmpty().Max() is var success && success != default)
                latest["lastSuccess"] = success.UtcDateTime;
            if (group.Where(r => r.Outcome != DeliveryOutcome.Delivered).Select(r => r.At).DefaultIfEmpty().Max() is var failure && failure != default)
                latest["lastFailure"] = failure.UtcDateTime;
            var status = new BsonDocument { { "$inc", counters }, { "$max", latest } };
            // A registration subscription's message carries its key: its counters live in csourceSubscriptions.
            var (subscriptions, id) = RegistrationSubscriptionKey.TryRead(group.Key, out var registrationSubscription)
                ? (RegistrationSubscriptions, registrationSubscription) : (_subscriptions, group.Key);
            await subscriptions.UpdateOneAsync(Id(id), status, cancellationToken: cancellationToken);
        }
    }
}
