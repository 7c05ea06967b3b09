using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Drops consumed entries of the change log (<c>changes</c>), by the SQLite store's rule (keep <see cref="Kept"/> entries
/// behind the cursor, drop the rest) made safe for several processes sharing the database:
/// <list type="bullet">
/// <item>The bound is the lowest position of every durable cursor (<c>cursors</c>, read from the database after the move
/// committed), less the tail: never one this process believes, only what is committed.</item>
/// <item>The readers without a durable position (each process's expiry reaper follows the log from memory) are covered by
/// age: an entry goes only once this process has seen the lowest cursor past it at least <see cref="MongoStoreOptions.ChangeLogRetention"/>
/// ago, so a reader that is never that far behind the log misses nothing.</item>
/// <item>Deletes are ranges of <c>_id</c> (the sequence), at most <see cref="RangeSize"/> sequences each, from the log's
/// first entry up to the bound; every filter is on <c>_id</c>, which its own index serves.</item>
/// </list>
/// Nothing here runs in a transaction or needs to: each step is idempotent, several processes may prune at once, and a crash
/// between steps leaves entries for the next pass, never removes one a cursor has not passed.
/// </summary>
internal sealed class MongoChangeLogPrune(IMongoCollection<BsonDocument> changes, IMongoCollection<BsonDocument> cursors, TimeSpan retention, bool background) : IAsyncDisposable
{
    /// <summary>Consumed entries kept behind the lowest cursor, as the SQLite store keeps them (for diagnosis, and slack for readers without a cursor).</summary>
    public const long Kept = 10_000;

    /// <summary>Most sequences one delete covers, so most entries it removes.</summary>
    public const int RangeSize = 1_000;

    /// <summary>A requested pass is skipped within this time of the previous one: the tail makes a precise prune pointless.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private static readonly BsonDocument IdOnly = new("_id", 1), Ascending = new("_id", 1);
    private readonly List<(TimeSpan At, long Position)> _checkpoints = [];
    private readonly MongoBackgroundPass _background = new(background, repeatWhenBusy: false);
    private TimeSpan _lastPass = TimeSpan.MinValue;
    /// <summary>Every entry up to here is gone: entries commit in sequence order, and the cursors passed these before the delete.</summary>
    private long _prunedTo;

    private static TimeSpan Now => TimeSpan.FromMilliseconds(Environment.TickCount64);

    /// <summary>Called after a cursor moved: a pass in the background, unless one ran within <see cref="Interval"/> or runs now.</summary>
    public void Request() => _background.Request(ct => PassAsync(Now, ct), () =>
    {
        // A failed pass is left to the next cursor move: an entry left over is only kept longer.
        var now = Now;
        if (_lastPass != TimeSpan.MinValue && now - _lastPass < Interval) return false;
        _lastPass = now;
        return true;
    });

    /// <summary>The filter of one deleted range: the sequences after <paramref name="after"/> up to <paramref name="upTo"/>.</summary>
    public static BsonDocument Range(long after, long upTo) => new("_id", new BsonDocument { { "$gt", after }, { "$lte", upTo } });

    /// <summary>The last sequence that may go: <see cref="Kept"/> behind the lowest cursor, and not past what aged beyond the retention.</summary>
    public static long Bound(long lowestCursor, long aged) => Math.Min(lowestCursor - Kept, aged);

    /// <summary>One pass at monotonic time <paramref name="now"/>. Returns how many entries it removed.</summary>
    public async Task<long> PassAsync(TimeSpan now, CancellationToken ct)
    {
        var positions = await cursors.Find(FilterDefinition<BsonDocument>.Empty).Project(new BsonDocument("position", 1)).ToListAsync(ct);
        if (positions.Count == 0) return 0; // no reader has a durable position: nothing is known to be consumed
        var lowest = positions.Min(p => p.GetValue("position", 0L).ToInt64()); // a cursor without one holds everything
        var bound = Bound(lowest, Aged(now, lowest));
        var after = Volatile.Read(ref _prunedTo); // 0 at first: sequences start at 1
        if (bound <= after) return 0; // an idle tenant's pass costs the read of its cursors
        long removed = 0;
        while (true)
        {
            // From the next entry, not the next sequence: a gap in the log (a purge's sequence) costs no empty delete.
            var first = await changes.Find(Range(after, bound)).Sort(Ascending).Limit(1).Project(IdOnly).FirstOrDefaultAsync(ct);
            if (first is null)
            {
                Volatile.Write(ref _prunedTo, bound);
                return removed;
            }
            after = first["_id"].ToInt64() - 1;
            var upTo = Math.Min(after + RangeSize, bound);
            removed += (await changes.DeleteManyAsync(Range(after, upTo), ct)).DeletedCount;
            after = upTo;
        }
    }

    /// <summary>
    /// Notes that the lowest cursor was at <paramref name="lowest"/> at <paramref name="now"/> (so every entry up to it was
    /// committed by then) and returns the position of the newest such note at least the retention old (0: none yet). Notes
    /// are kept a tenth of the retention apart, so there are about ten.
    /// </summary>
    private long Aged(TimeSpan now, long lowest)
    {
        if (retention <= TimeSpan.Zero) return lowest;
        lock (_checkpoints)
        {
            if (_checkpoints.Count == 0 || now - _checkpoints[^1].At >= retention / 10) _checkpoints.Add((now, lowest));
            while (_checkpoints.Count > 1 && now - _checkpoints[1].At >= retention) _checkpoints.RemoveAt(0);
            return now - _checkpoints[0].At >= retention ? _checkpoints[0].Position : 0;
        }
    }

    public ValueTask DisposeAsync() => _background.DisposeAsync();
}
