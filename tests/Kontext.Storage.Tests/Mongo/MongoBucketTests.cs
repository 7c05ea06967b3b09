using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// The MongoDB store's pre-aggregated buckets (issue 12) on its real code over the recording fake: the upserts an entity write
/// sends in its transaction, the day rebuilds of instance modify and delete, staged writes and purges left to the history
/// maintenance (bucket reads fall back meanwhile), the backfill, the read's index range, and the bucket differential's history
/// whose buckets must hold the figures of their instances. The fake applies $inc/$min/$max as the manual describes them; the
/// same differential against a real server is <see cref="MongoBucketDifferentialTests"/> (KONTEXT_TEST_MONGO).
/// </summary>
public sealed class MongoBucketTests
{
    private const string Temperature = "https://uri.etsi.org/ngsi-ld/default-context/temperature";
    private static readonly MongoStoreOptions Manual = new() { BackgroundMaintenance = false };
    private static readonly DateTime Jan1 = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static IReadOnlyList<BsonDocument> Stored(FakeMongoServer server, string collection) => server.Existing("kontext", collection)!.Stored;

    private static JsonObject Reading(JsonNode value, DateTime at) => new() { ["type"] = "Property", ["value"] = value, ["observedAt"] = at.ToString("yyyy-MM-ddTHH:mm:ssZ") };

    private static Task WriteAsync(ITenantStore store, string id, params JsonObject[] readings) =>
        FakeTenant.TemporalWriteAsync(store, new JsonObject { ["id"] = id, ["type"] = "T", ["temperature"] = new JsonArray(readings.Select(r => (JsonNode)r).ToArray()) });

    private static async Task<IReadOnlyList<BucketStatistics>?> ReadAsync(ITemporalStore store, string id, BucketGranularity granularity) =>
        await store.ReadBucketsAsync(new TemporalBucketRequest([id], null, granularity, new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), null), default);

    [Fact]
    public async Task A_write_adds_its_samples_to_their_hour_and_day_with_one_upsert_each_in_its_transaction()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);

        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(3, Jan1.AddMinutes(10)), Reading(5, Jan1.AddMinutes(20)), Reading("x", Jan1.AddHours(1)));

        var transaction = server.Calls.Single(c => c.Collection == "entities" && c.Command == "insert").Transaction;
        var upserts = server.Calls.Where(c => c.Collection == MongoSchema.Buckets && c.Command == "update").ToList();
        upserts.Should().HaveCount(3, "two hours and their day").And.OnlyContain(c => c.Transaction == transaction && c.Upsert);
        var seq = Stored(server, MongoSchema.Instances)[0]["seq"];
        var key = new BsonDocument { { "e", "urn:ngsi-ld:T:1" }, { "a", Temperature }, { "g", "H" }, { "ds", BsonNull.Value }, { "s", Jan1 } };
        var first = upserts.Single(c => c.Filter == key);
        first.Update.Should().Be(new BsonDocument
        {
            { "$inc", new BsonDocument { { "n", 2L }, { "nn", 2L }, { "sum", 8.0 }, { "sumsq", 34.0 } } },
            { "$min", new BsonDocument { { "first", Jan1.AddMinutes(10) }, { "minNum", 3.0 } } },
            { "$max", new BsonDocument
                {
                    { "last", Jan1.AddMinutes(20) }, { "latest", new BsonDocument { { "t", Jan1.AddMinutes(20) }, { "q", seq }, { "o", 1 }, { "y", "Property" } } },
                    { "maxNum", 5.0 },
                } },
        });

        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(1, Jan1.AddMinutes(30)), Reading("a", Jan1.AddMinutes(40)));
        await store.Maintenance.PassAsync(DateTime.UtcNow, default); // records that there was no older history to build

        var day = (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Day))!.Should().ContainSingle().Subject;
        day.Figures.Should().Be(new PeriodFigures(5, 0, 3, 9, 35, 1, 5, "a", "x"));
        (day.FirstSample, day.LastSample, day.LastType).Should().Be((Jan1.AddMinutes(10), Jan1.AddHours(1), "Property"));
        (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Hour))!.Select(b => (b.Start.UtcDateTime, b.Figures.Count))
            .Should().Equal((Jan1, 4L), (Jan1.AddHours(1), 1L));
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Modifying_an_instance_rebuilds_the_days_it_leaves_and_enters_in_one_transaction()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);
        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(1, Jan1), Reading(2, Jan1.AddHours(5)));
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);
        var moved = (await store.ReadHistoryAsync("urn:ngsi-ld:T:1", Temperature, default))[0];
        server.ClearCalls();

        (await store.ReplaceInstanceAsync("urn:ngsi-ld:T:1", Temperature, moved.InstanceId, Reading(7, Jan1.AddDays(2).AddHours(10)), DateTimeOffset.UtcNow, default))
            .Should().BeTrue();

        var writes = server.Calls.Where(c => c.IsWrite).ToList();
        writes.Select(c => c.Transaction).Distinct().Should().ContainSingle().Which.Should().NotBeNull("the instance and its buckets change together");
        writes.Should().ContainSingle(c => c.Collection == MongoSchema.Buckets && c.Command == "delete", "the hour the instance left has no sample any more");
        var days = (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Day))!;
        days.Select(b => (b.Start.UtcDateTime, b.Figures.Count, b.Figures.Sum)).Should().Equal((Jan1, 1L, 2.0), (Jan1.AddDays(2), 1L, 7.0));
        (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Hour))!.Select(b => b.Start.UtcDateTime).Should().Equal(Jan1.AddHours(5), Jan1.AddDays(2).AddHours(10));

        (await store.DeleteInstanceAsync("urn:ngsi-ld:T:1", Temperature, moved.InstanceId, default)).Should().BeTrue();
        (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Day))!.Select(b => b.Start.UtcDateTime).Should().Equal(Jan1);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_staged_temporal_create_adds_no_buckets_in_its_transaction_and_the_maintenance_rebuilds_its_days()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual with { MaxTransactionBytes = 64 * 1024 });
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);

        await FakeTenant.TemporalCreateAsync(store, "urn:ngsi-ld:T:big", 3000); // a minute apart: 50 hours over three days

        var transaction = server.Calls.Single(c => c.Collection == "entities" && c.Command == "insert").Transaction;
        server.Calls.Should().NotContain(c => c.Collection == MongoSchema.Buckets && c.Transaction == transaction);
        (await ReadAsync(store, "urn:ngsi-ld:T:big", BucketGranularity.Day)).Should().BeNull("while the write marker is there, the instances are aggregated");

        await store.Maintenance.PassAsync(DateTime.UtcNow, default);

        (await ReadAsync(store, "urn:ngsi-ld:T:big", BucketGranularity.Day))!.Select(b => b.Figures.Count).Should().Equal(1440, 1440, 120);
        (await ReadAsync(store, "urn:ngsi-ld:T:big", BucketGranularity.Hour))!.Should().HaveCount(50).And.OnlyContain(b => b.Figures.Count == 60);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task A_purge_drops_the_series_buckets_after_its_commit_and_rebuilds_the_days_written_since()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);
        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(1, Jan1), Reading(2, Jan1.AddDays(1)));
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);
        server.ClearCalls();

        await store.WriteAndPurgeAsync("urn:ngsi-ld:T:1", _ => EntityWrite<bool>.Nothing(true), new HistoryPurge(Temperature), default);
        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(40, Jan1.AddHours(3)));

        server.Calls.Where(c => c.Collection == MongoSchema.Buckets && c.Transaction is not null).Should().OnlyContain(c => c.Command == "update" && c.Update!.AsBsonDocument.Contains("$inc"),
            "the purge's transaction touches no bucket; only the later write adds to one");
        (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Day)).Should().BeNull("the purge marker is still there");

        await store.Maintenance.PassAsync(DateTime.UtcNow, default);

        var day = (await ReadAsync(store, "urn:ngsi-ld:T:1", BucketGranularity.Day))!.Should().ContainSingle().Subject;
        (day.Start.UtcDateTime, day.Figures.Count, day.Figures.Sum).Should().Be((Jan1, 1L, 40.0));
        server.Calls.Should().Contain(c => c.Collection == MongoSchema.Buckets && c.Command == "delete" && c.Transaction == null);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task The_backfill_builds_the_buckets_of_history_stored_before_them_and_bucket_reads_wait_for_it()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);
        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(1, Jan1), Reading(2, Jan1.AddHours(30)));
        await WriteAsync(store, "urn:ngsi-ld:T:2", Reading("on", Jan1.AddDays(3)));
        await store.Maintenance.PassAsync(DateTime.UtcNow, default);
        var built = Stored(server, MongoSchema.Buckets).Select(Comparable).ToList();
        // As a database of an earlier version: history, no buckets, no record of a backfill.
        lock (server.Collection("kontext", MongoSchema.Buckets)) { server.Collection("kontext", MongoSchema.Buckets).Documents.Clear(); server.Collection("kontext", MongoSchema.Buckets).Ids.Clear(); }
        var counters = server.Collection("kontext", MongoSchema.Counters);
        lock (counters) { counters.Documents.RemoveAll(d => d["_id"] == "buckets"); counters.Ids.Remove("buckets"); }

        var reopened = await FakeTenant.OpenAsync(server, Manual);
        (await ReadAsync(reopened, "urn:ngsi-ld:T:1", BucketGranularity.Day)).Should().BeNull("the buckets are not built yet");
        await reopened.Maintenance.PassAsync(DateTime.UtcNow, default);

        Stored(server, MongoSchema.Buckets).Select(Comparable).Should().BeEquivalentTo(built);
        (await ReadAsync(reopened, "urn:ngsi-ld:T:1", BucketGranularity.Day))!.Should().HaveCount(2);
        FakeTenant.NoViolations(server);
    }

    /// <summary>A bucket without its generated id and with its numbers as doubles (an $inc-built and a rebuilt one compare equal).</summary>
    private static string Comparable(BsonDocument bucket)
    {
        var copy = bucket.DeepClone().AsBsonDocument;
        copy.Remove("_id");
        foreach (var name in copy.Names.ToList()) if (copy[name].IsNumeric) copy[name] = copy[name].ToDouble();
        return new BsonDocument(copy.OrderBy(e => e.Name, StringComparer.Ordinal)).ToJson();
    }

    [Fact]
    public async Task A_rebuild_reads_only_the_projected_fields_of_a_sample()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);
        await WriteAsync(store, "urn:ngsi-ld:T:1", Reading(3, Jan1), Reading("x", Jan1.AddMinutes(5)), Reading(true, Jan1.AddHours(2)));
        var rows = Stored(server, MongoSchema.Instances);

        // The fake returns whole documents; the server returns only the projection's fields.
        var projected = rows.Select(r => new BsonDocument(r.Where(e => MongoBuckets.SampleProjection.Contains(e.Name) || e.Name == "_id"))).ToList();

        MongoBuckets.Rebuilt(projected).Should().Equal(MongoBuckets.Rebuilt(rows)).And.HaveCount(3, "two hours and the day");
    }

    [Fact]
    public void The_bucket_read_is_one_range_of_the_unique_series_index()
    {
        var from = new DateTimeOffset(Jan1);
        var filter = MongoBuckets.Filter(new TemporalBucketRequest(["urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2"], new HashSet<string> { Temperature }, BucketGranularity.Hour,
            from, from.AddDays(7), new HashSet<string?> { null, "urn:ngsi-ld:Dataset:b" }));

        filter.ToJson().Should().Be(new BsonDocument
        {
            { "e", new BsonDocument("$in", new BsonArray { "urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2" }) },
            { "a", new BsonDocument("$in", new BsonArray { Temperature }) },
            { "g", "H" },
            { "ds", new BsonDocument("$in", new BsonArray { BsonNull.Value, "urn:ngsi-ld:Dataset:b" }) },
            { "s", new BsonDocument { { "$gte", Jan1 }, { "$lt", Jan1.AddDays(7) } } },
        }.ToJson());
        var index = MongoSchema.Indexes().Single(i => i.Collection == MongoSchema.Buckets);
        index.Unique.Should().BeTrue("one bucket per series, granularity and start");
        index.Keys.Names.Should().Equal(filter.Names, "every field of the read is an equality or the last range of the index");
        MongoBuckets.Order.Names.Should().Equal(index.Keys.Names, "the sort is the index order");
    }

    [Fact]
    public async Task Buckets_hold_the_figures_of_their_instances_after_writes_modifications_deletions_and_a_purge()
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, Manual);
        await store.Maintenance.PassAsync(DateTime.UtcNow, default); // nothing to backfill
        await BucketDifferentialTests.SeedAsync(store, writes: 1, edits: 10);
        await store.Maintenance.PassAsync(DateTime.UtcNow, default); // the purge

        var samples = Stored(server, MongoSchema.Instances).Where(MongoBuckets.IsSample).ToList();
        samples.Should().HaveCountGreaterThan(300);
        foreach (var granularity in new[] { BucketGranularity.Hour, BucketGranularity.Day })
        {
            var expected = samples.GroupBy(r => (E: r["e"].AsString, A: r["a"].AsString, Ds: r["ds"].IsBsonNull ? null : r["ds"].AsString,
                    Start: Buckets.Floor(new DateTimeOffset(r["obs"].ToUniversalTime()), granularity)))
                .ToDictionary(g => g.Key, g =>
                {
                    var rows = g.OrderBy(r => r["obs"].ToUniversalTime()).ThenBy(r => r["seq"].ToInt64()).ThenBy(r => r["n"].ToInt32()).ToList();
                    var docs = rows.Select(r => JsonNode.Parse(r["doc"].AsString)!.AsObject()).ToList();
                    var figures = PeriodFigures.Of(docs.Zip(rows, (d, r) => new Sample(Attr.Payload(d), new DateTimeOffset(r["obs"].ToUniversalTime()))).ToList());
                    return (Figures: figures with { Distinct = 0 }, First: new DateTimeOffset(rows[0]["obs"].ToUniversalTime()),
                        Last: new DateTimeOffset(rows[^1]["obs"].ToUniversalTime()), Type: Attr.Type(docs[^1]));
                });
            var buckets = (await store.ReadBucketsAsync(new TemporalBucketRequest(BucketDifferentialTests.Entities, null, granularity,
                new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero), null), default))!;

            buckets.ToDictionary(b => (E: b.EntityId, A: b.Attribute, Ds: b.DatasetId, b.Start), b => (b.Figures, First: b.FirstSample, Last: b.LastSample, Type: b.LastType))
                .Should().BeEquivalentTo(expected, $"every {granularity} bucket holds exactly the figures of its instances");
        }
        FakeTenant.NoViolations(server);
    }
}
