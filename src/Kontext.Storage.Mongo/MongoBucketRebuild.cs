using MongoDB.Bson;
using MongoDB.Driver;
using Series = Kontext.Storage.Mongo.MongoBuckets.Series;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Rebuilding buckets (<see cref="MongoBuckets"/>) from the history, a day of one series at a time: read the day's visible
/// sample rows and its stored buckets, then replace them (<see cref="MongoBuckets.Replace"/>), all in one transaction, so a
/// concurrent write that adds to one of those buckets conflicts and one of the two runs again: a rebuilt day is never
/// missing a committed sample nor holding one twice. Instance modify and delete rebuild their days in their own transaction;
/// staged writes, purges and the buckets of history stored before buckets existed (the backfill) are rebuilt afterwards
/// by <see cref="MongoHistoryMaintenance"/>, in transactions of a few days each. Until then bucket reads of those entities
/// fall back to the instances (the markers are still there, or the backfill is not recorded as done).
/// </summary>
internal sealed class MongoBucketRebuild(IMongoClient client, IMongoDatabase database, MongoStoreOptions options)
{
    /// <summary>A rebuilt day writes at most 25 bucket documents of a series (24 hours and the day, each replaced or deleted); twice that leaves room.</summary>
    private const int DocumentsPerDay = 2 * 25;
    private const int BytesPerDay = 25 * 512;
    private const string BuiltFlag = "buckets";

    private readonly IMongoCollection<BsonDocument> _instances = database.GetCollection<BsonDocument>(MongoSchema.Instances),
        _buckets = database.GetCollection<BsonDocument>(MongoSchema.Buckets),
        _markers = database.GetCollection<BsonDocument>(MongoSchema.Markers),
        _counters = database.GetCollection<BsonDocument>(MongoSchema.Counters);

    private volatile bool _built;

    /// <summary>Days per transaction within the store's budget (at least one).</summary>
    private int DaysPerTransaction => Math.Max(1, Math.Min(options.MaxTransactionDocuments / DocumentsPerDay, options.MaxTransactionBytes / BytesPerDay));

    /// <summary>Rebuilds the days in transaction <paramref name="s"/>.</summary>
    public async Task RebuildAsync(IClientSessionHandle s, IEnumerable<(Series Series, DateTime Day)> days, CancellationToken ct)
    {
        foreach (var entity in days.Distinct().GroupBy(d => d.Series.Entity))
        {
            var visible = MongoHistoryMarkers.Visible(await _markers.Find(s, new BsonDocument(MongoInstanceDocument.Entity, entity.Key)).ToListAsync(ct));
            var writes = new List<WriteModel<BsonDocument>>();
            foreach (var (series, day) in entity)
            {
                var rows = await _instances.Find(s, MongoBuckets.DayRows(series, day, visible)).Project(MongoBuckets.SampleProjection).ToListAsync(ct);
                var stored = await _buckets.Find(s, MongoBuckets.DayBuckets(series, day)).ToListAsync(ct);
                writes.AddRange(MongoBuckets.Replace(stored, MongoBuckets.Rebuilt(rows)));
            }
            if (writes.Count > 0) await _buckets.BulkWriteAsync(s, writes, new BulkWriteOptions { IsOrdered = false }, ct);
        }
    }

    /// <summary>Rebuilds the days in transactions of their own, a few days each.</summary>
    public async Task RebuildInTransactionsAsync(IEnumerable<(Series Series, DateTime Day)> days, CancellationToken ct)
    {
        foreach (var chunk in days.Distinct().Chunk(DaysPerTransaction))
        {
            using var session = await client.StartSessionAsync(cancellationToken: ct);
            await session.WithTransactionAsync(async (s, c) =>
            {
                await RebuildAsync(s, chunk, c);
                return true;
            }, cancellationToken: ct);
        }
    }

    /// <summary>The days of <paramref name="samples"/>.</summary>
    public static IEnumerable<(Series Series, DateTime Day)> DaysOf(IEnumerable<BsonDocument> samples) =>
        samples.Select(r => (Series.Of(r), MongoBuckets.DayOf(r))).Distinct();

    /// <summary>Deletes every bucket of the series <paramref name="series"/> selects, in batches, outside transactions.</summary>
    public async Task DropAsync(BsonDocument series, CancellationToken ct)
    {
        while (true)
        {
            var ids = await _buckets.Find(series).Project(new BsonDocument("_id", 1)).Limit(1000).ToListAsync(ct);
            if (ids.Count == 0) return;
            await _buckets.DeleteManyAsync(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids.Select(i => i["_id"])))), ct);
        }
    }

    /// <summary>Whether the buckets of the history stored before them have been built (once true, cached).</summary>
    public async Task<bool> IsBuiltAsync(CancellationToken ct)
    {
        if (_built) return true;
        return _built = await _counters.Find(new BsonDocument { { "_id", BuiltFlag }, { "built", true } }).AnyAsync(ct);
    }

    /// <summary>
    /// The migration to buckets, once per tenant database: every day with samples, found by one pass over the history in
    /// index order (one entity and attribute's days in memory at a time), is rebuilt; then the database records it. Idempotent,
    /// so a process stopped half-way, or several processes at once, leave the buckets right.
    /// </summary>
    public async Task BackfillAsync(CancellationToken ct)
    {
        if (await IsBuiltAsync(ct)) return;
        var filter = MongoBuckets.Samples([]);
        filter.AddRange(MongoHistoryMarkers.Visible(await _markers.Find(FilterDefinition<BsonDocument>.Empty).ToListAsync(ct)));
        var order = new BsonDocument { { MongoInstanceDocument.Entity, 1 }, { MongoInstanceDocument.Attribute, 1 }, { MongoInstanceDocument.Observed, 1 } };
        var pending = new HashSet<(Series, DateTime)>();
        (string, string)? current = null;
        using var cursor = await _instances.Find(filter, new FindOptions { AllowDiskUse = true }).Sort(order).Project(MongoBuckets.DayProjection).ToCursorAsync(ct);
        while (await cursor.MoveNextAsync(ct))
        {
            foreach (var row in cursor.Current)
            {
                var series = Series.Of(row);
                if (current != (series.Entity, series.Attribute) && pending.Count > 0)
                {
                    await RebuildInTransactionsAsync(pending.OrderBy(p => p.Item2).ToList(), ct);
                    pending.Clear();
                }
                current = (series.Entity, series.Attribute);
                pending.Add((series, MongoBuckets.DayOf(row)));
            }
        }
        if (pending.Count > 0) await RebuildInTransactionsAsync(pending.OrderBy(p => p.Item2).ToList(), ct);
        await _counters.UpdateOneAsync(new BsonDocument("_id", BuiltFlag), new BsonDocument("$set", new BsonDocument("built", true)), new UpdateOptions { IsUpsert = true }, ct);
        _built = true;
    }
}
