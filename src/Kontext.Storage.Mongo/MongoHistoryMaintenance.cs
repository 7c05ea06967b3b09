using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The work <see cref="MongoHistoryMarkers"/> leave for after the commit, run in the background of a tenant store when a write
/// asks for it and when the store opens (so a process stopped half-way is finished by the next): rows of committed large writes
/// lose their write id, rows covered by a purge are deleted in batches, and rows of writes that never committed are deleted once
/// they are older than any transaction can last. The buckets follow (<see cref="MongoBucketRebuild"/>): a revealed write's days and
/// the days a purge leaves samples in are rebuilt before the marker goes (bucket reads of the entity fall back to the instances
/// while it is there), and the buckets of history older than them are built once per database. Every step is idempotent and outside transactions, so several processes may
/// run it at once; reads are right at every point, because they apply the markers still present.
/// </summary>
internal sealed class MongoHistoryMaintenance(IMongoCollection<BsonDocument> instances, IMongoCollection<BsonDocument> markers, MongoBucketRebuild buckets, bool background = true) : IAsyncDisposable
{
    /// <summary>Rows of an uncommitted write older than this are abandoned: a transaction lives at most 60 s by default
    /// (transactionLifetimeLimitSeconds); raise this with it.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    private const int DeleteBatch = 1000;
    private readonly MongoBackgroundPass _background = new(background, repeatWhenBusy: true);

    /// <summary>A pass in the background; asked while one runs, another follows it (the work asked for may come after what it read).</summary>
    public void Request() => _background.Request(ct => PassAsync(DateTime.UtcNow, ct));

    /// <summary>One pass: the bucket backfill (once per database), the markers, the abandoned rows.</summary>
    public async Task PassAsync(DateTime now, CancellationToken ct)
    {
        await buckets.BackfillAsync(ct);
        foreach (var marker in await markers.Find(FilterDefinition<BsonDocument>.Empty).ToListAsync(ct))
        {
            if (marker[MongoHistoryMarkers.Kind] == MongoHistoryMarkers.Write)
            {
                // Rebuilt while the marker still shows the rows, so a pass stopped here does it again.
                var staged = await instances.Find(MongoBuckets.Samples(new BsonDocument(MongoInstanceDocument.PendingWrite, marker["_id"])))
                    .Project(MongoBuckets.DayProjection).ToListAsync(ct);
                await buckets.RebuildInTransactionsAsync(MongoBucketRebuild.DaysOf(staged), ct);
                await instances.UpdateManyAsync(new BsonDocument(MongoInstanceDocument.PendingWrite, marker["_id"]),
                    new BsonDocument("$unset", new BsonDocument(MongoInstanceDocument.PendingWrite, "")), cancellationToken: ct);
            }
            else
            {
                var covered = MongoHistoryMarkers.Covered(marker);
                while (true)
                {
                    var ids = await instances.Find(covered).Project(new BsonDocument("_id", 1)).Limit(DeleteBatch).ToListAsync(ct);
                    if (ids.Count == 0) break;
                    await instances.DeleteManyAsync(new BsonDocument("_id", new BsonDocument("$in", new BsonArray(ids.Select(i => i["_id"])))), ct);
                }
                // The purged series' buckets go; the days of rows written after the purge are rebuilt from what is left.
                var series = MongoHistoryMarkers.Covered(marker);
                series.Remove(MongoInstanceDocument.Sequence);
                await buckets.DropAsync(series, ct);
                var later = series.DeepClone().AsBsonDocument;
                later.Add(MongoInstanceDocument.Sequence, new BsonDocument("$gt", marker[MongoHistoryMarkers.UpTo]));
                var rows = await instances.Find(MongoBuckets.Samples(later)).Project(MongoBuckets.DayProjection).ToListAsync(ct);
                await buckets.RebuildInTransactionsAsync(MongoBucketRebuild.DaysOf(rows), ct);
            }
            await markers.DeleteOneAsync(new BsonDocument("_id", marker["_id"]), ct);
        }

        var pending = await (await instances.DistinctAsync<string>(MongoInstanceDocument.PendingWrite,
            new BsonDocument(MongoInstanceDocument.PendingWrite, new BsonDocument("$ne", BsonNull.Value)), cancellationToken: ct)).ToListAsync(ct);
        foreach (var writeId in pending)
        {
            var id = new BsonDocument("_id", writeId);
            var rows = new BsonDocument(MongoInstanceDocument.PendingWrite, writeId);
            var newest = await instances.Find(rows).Sort(new BsonDocument(MongoInstanceDocument.Modified, -1)).Limit(1).FirstOrDefaultAsync(ct);
            if (newest is null || newest[MongoInstanceDocument.Modified].ToUniversalTime() >= now - AbandonedAfter) continue;
            if (!await markers.Find(id).AnyAsync(ct)) await instances.DeleteManyAsync(rows, ct);
        }
    }

    public ValueTask DisposeAsync() => _background.DisposeAsync();
}
