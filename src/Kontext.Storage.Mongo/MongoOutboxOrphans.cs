using Kontext.Ngsi.Storage;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Removes outbox messages whose subscription (or registration subscription) no longer exists (issue 12). Earlier versions
/// left them: an append matched against a subscription list read before a deletion could commit its messages after the
/// deletion's removal of the outbox (since session 11 the two are ordered, <see cref="MongoOutbox.Appended"/>); and a process
/// stopped between a deletion's commit and that removal still leaves them. The dispatcher knows no withdrawal for such a
/// message after a restart, so without this it would be sent.
/// <list type="bullet">
/// <item>A pass walks the outbox's subscription keys in order, one find on the <c>sub</c> index per key, at most
/// <see cref="KeysPerPass"/> keys and <see cref="MessagesPerPass"/> removed messages; the next pass goes on from there, and
/// after the last key starts over. Run in the background when the store opens and, at most every <see cref="Interval"/>,
/// when the dispatcher reads the outbox.</item>
/// <item>Only messages created at least <see cref="Margin"/> before the pass go: a subscription created again under the same
/// id after the pass looked has only messages made after it was created, so none of them is taken for an orphan.</item>
/// <item>Nothing runs in a transaction or needs to: each delete is idempotent and several processes may clean at once.</item>
/// </list>
/// </summary>
internal sealed class MongoOutboxOrphans(
    IMongoCollection<BsonDocument> outbox, IMongoCollection<BsonDocument> subscriptions, IMongoCollection<BsonDocument> registrationSubscriptions,
    bool background, int keysPerPass = MongoOutboxOrphans.KeysPerPass, int messagesPerPass = MongoOutboxOrphans.MessagesPerPass) : IAsyncDisposable
{
    public const int KeysPerPass = 100;
    public const int MessagesPerPass = 10_000;
    /// <summary>Messages one delete names by id (a find of their ids first, as the history maintenance deletes).</summary>
    public const int DeleteBatch = 1_000;

    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Margin = TimeSpan.FromMinutes(10);

    private static readonly BsonDocument KeyOnly = new() { { "sub", 1 }, { "_id", 0 } }, ByKey = new("sub", 1), IdOnly = new("_id", 1);
    private readonly MongoBackgroundPass _background = new(background, repeatWhenBusy: false);
    /// <summary>The last subscription key a pass finished with (null: start from the first).</summary>
    private string? _after;
    /// <summary>When the last pass began (Environment.TickCount64, which counts from boot); 0: none yet.</summary>
    private long _lastPass;

    /// <summary>A pass in the background, unless one began within <see cref="Interval"/> or runs now. When none is due: one read.</summary>
    public void Request()
    {
        if (!Due(Environment.TickCount64)) return;
        // Admitted under the background pass's gate, so two requests at once start one pass.
        _background.Request(ct => PassAsync(DateTime.UtcNow, ct), () =>
        {
            var now = Environment.TickCount64;
            if (!Due(now)) return false;
            Volatile.Write(ref _lastPass, now);
            return true;
        });
    }

    private bool Due(long now)
    {
        var last = Volatile.Read(ref _lastPass);
        return last == 0 || now - last >= (long)Interval.TotalMilliseconds;
    }

    /// <summary>One pass at <paramref name="now"/> (UTC). Returns how many messages it removed.</summary>
    public async Task<long> PassAsync(DateTime now, CancellationToken ct)
    {
        var before = now - Margin;
        long removed = 0;
        for (var looked = 0; looked < keysPerPass && removed < messagesPerPass; looked++)
        {
            var filter = _after is null ? new BsonDocument() : new BsonDocument("sub", new BsonDocument("$gt", _after));
            var next = await outbox.Find(filter).Sort(ByKey).Limit(1).Project(KeyOnly).FirstOrDefaultAsync(ct);
            if (next is null)
            {
                _after = null; // past the last key: the next pass starts over
                break;
            }
            var key = next["sub"].AsString;
            if (!await SubscribedAsync(key, ct))
            {
                var (count, more) = await RemoveAsync(key, before, messagesPerPass - removed, ct);
                removed += count;
                if (more) break; // this pass's budget ran out within the key: the next pass looks at it again
            }
            _after = key;
        }
        return removed;
    }

    /// <summary>Whether the subscription an outbox key names exists (a registration subscription's key names one of those).</summary>
    private Task<bool> SubscribedAsync(string key, CancellationToken ct) =>
        RegistrationSubscriptionKey.TryRead(key, out var registrationSubscription)
            ? registrationSubscriptions.Find(MongoTenantStore.Id(registrationSubscription)).AnyAsync(ct)
            : subscriptions.Find(MongoTenantStore.Id(key)).AnyAsync(ct);

    /// <summary>Up to <paramref name="most"/> of the key's messages created before <paramref name="before"/>; whether some may be left.</summary>
    private async Task<(long Removed, bool More)> RemoveAsync(string key, DateTime before, long most, CancellationToken ct)
    {
        var orphaned = new BsonDocument { { "sub", key }, { "createdAt", new BsonDocument("$lt", before) } };
        long removed = 0;
        while (removed < most)
        {
            var batch = (int)Math.Min(DeleteBatch, most - removed);
            var ids = await outbox.Find(orphaned).Limit(batch).Project(IdOnly).ToListAsync(ct);
            if (ids.Count == 0) return (removed, false);
            removed += (await outbox.DeleteManyAsync(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids.Select(i => i["_id"])))), ct)).DeletedCount;
            if (ids.Count < batch) return (removed, false);
        }
        return (removed, true);
    }

    /// <summary>The background pass running now, or the last one (for tests).</summary>
    internal Task Running => _background.Running;

    public ValueTask DisposeAsync() => _background.DisposeAsync();
}
