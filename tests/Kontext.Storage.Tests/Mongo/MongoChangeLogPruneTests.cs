using Kontext.Storage.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// The change log's prune (issue 12) on the store's real code over the recording fake: the rule of the SQLite store (a tail of
/// 10,000 behind the cursor) bounded by the lowest committed cursor and by age, deletes in ranges of _id, every filter on _id.
/// </summary>
public sealed class MongoChangeLogPruneTests
{
    private const string Cursor = "notifications";
    private static readonly TimeSpan Start = TimeSpan.FromHours(1); // a monotonic clock reading
    private static readonly JsonWriterSettings Relaxed = new() { OutputMode = JsonOutputMode.RelaxedExtendedJson };

    private static async Task<(FakeMongoServer Server, MongoTenantStore Store)> OpenAsync(TimeSpan retention)
    {
        var server = new FakeMongoServer();
        var store = await FakeTenant.OpenAsync(server, new MongoStoreOptions { BackgroundMaintenance = false, ChangeLogRetention = retention });
        return (server, store);
    }

    /// <summary>Change-log entries with these sequences, as committed writes leave them (the fake stores what it is given).</summary>
    private static void Log(FakeMongoServer server, IEnumerable<long> sequences)
    {
        var changes = server.Collection("kontext", "changes");
        lock (changes)
        {
            foreach (var seq in sequences)
            {
                changes.Documents.Add(MongoChangeDocument.Whole(seq, $"urn:ngsi-ld:T:{seq}", "create", DateTimeOffset.UtcNow, null, "{}"));
                changes.Ids.Add(seq);
            }
        }
    }

    private static IReadOnlyList<long> Logged(FakeMongoServer server) =>
        server.Existing("kontext", "changes")!.Stored.Select(d => d["_id"].ToInt64()).Order().ToList();

    private static async Task MoveCursorAsync(MongoTenantStore store, string name, long position)
    {
        await store.ReadCursorAsync(name, default);
        await store.AppendNotificationsAsync(name, position, [], default);
    }

    private static List<string> Deletes(FakeMongoServer server) =>
        server.Calls.Where(c => c.Collection == "changes" && c.Command == "delete").Select(c => c.Filter!.ToJson(Relaxed)).ToList();

    private static string Json(string json) => BsonDocument.Parse(json).ToJson(Relaxed);

    [Fact]
    public async Task The_log_behind_the_cursor_goes_in_ranges_of_ids_and_a_tail_of_10000_stays()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 12_500);
        server.ClearCalls();

        var removed = await store.ChangeLogPrune.PassAsync(Start, default);

        removed.Should().Be(2_500);
        Logged(server).Should().HaveCount(10_000).And.StartWith(2_501);
        Deletes(server).Should().Equal(
            Json("""{"_id": {"$gt": 0, "$lte": 1000}}"""), Json("""{"_id": {"$gt": 1000, "$lte": 2000}}"""), Json("""{"_id": {"$gt": 2000, "$lte": 2500}}"""));
        server.Calls.Where(c => c.Collection == "changes").Should().OnlyContain(c => c.Transaction == null && !c.Upsert);
        FakeTenant.NoViolations(server);
    }

    [Fact]
    public async Task Every_filter_and_sort_of_the_prune_is_on_id_which_its_own_index_serves()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 11_000).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 11_000);
        server.ClearCalls();

        await store.ChangeLogPrune.PassAsync(Start, default);

        var calls = server.Calls;
        calls.Select(c => (c.Command, c.Collection)).Distinct().Should().BeEquivalentTo([("find", "cursors"), ("find", "changes"), ("delete", "changes")]);
        calls.Single(c => c.Collection == "cursors").Filter!.ElementCount.Should().Be(0, "the cursors are a handful of documents, read whole");
        var onChanges = calls.Where(c => c.Collection == "changes").ToList();
        onChanges.Should().OnlyContain(c => c.Filter!.Names.SequenceEqual(new[] { "_id" }));
        onChanges.Where(c => c.Command == "find").Should().OnlyContain(c => c.Sort!.ToJson() == """{ "_id" : 1 }""" && c.Limit == 1);
        MongoSchema.Indexes().Should().NotContain(i => i.Collection == MongoSchema.Changes, "the change log needs no index beyond _id");
    }

    [Fact]
    public async Task A_pass_with_nothing_new_to_prune_reads_only_the_cursors()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 12_500);
        await store.ChangeLogPrune.PassAsync(Start, default);
        server.ClearCalls();

        (await store.ChangeLogPrune.PassAsync(Start + TimeSpan.FromMinutes(1), default)).Should().Be(0);

        server.Calls.Select(c => (c.Command, c.Collection)).Should().Equal([("find", "cursors")]);
    }

    [Fact]
    public async Task The_lowest_cursor_bounds_the_prune()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 12_500);
        await MoveCursorAsync(store, "another reader", 11_000);

        await store.ChangeLogPrune.PassAsync(Start, default);

        Logged(server).Should().StartWith(1_001);
    }

    [Fact]
    public async Task The_prune_follows_the_committed_cursor_not_the_position_this_process_asked_for()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));
        await store.ReadCursorAsync(Cursor, default);
        // Another process matched part of the log meanwhile: this one's compare-and-set fails.
        var cursors = server.Collection("kontext", "cursors");
        lock (cursors) { cursors.Documents.Add(new BsonDocument { { "_id", Cursor }, { "position", 10_500L } }); cursors.Ids.Add(Cursor); }

        await store.AppendNotificationsAsync(Cursor, 12_500, [], default);
        await store.ChangeLogPrune.PassAsync(Start, default);

        (await store.ReadCursorAsync(Cursor, default)).Should().Be(10_500);
        Logged(server).Should().StartWith(501);
    }

    [Fact]
    public async Task Nothing_goes_before_any_reader_has_a_cursor()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));

        (await store.ChangeLogPrune.PassAsync(Start, default)).Should().Be(0);

        Logged(server).Should().HaveCount(12_500);
        Deletes(server).Should().BeEmpty();
    }

    [Fact]
    public async Task An_entry_goes_only_once_the_cursor_was_seen_past_it_the_retention_ago()
    {
        var retention = TimeSpan.FromMinutes(10);
        var (server, store) = await OpenAsync(retention);
        Log(server, Enumerable.Range(1, 12_500).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 12_500);

        (await store.ChangeLogPrune.PassAsync(Start, default)).Should().Be(0, "this process has not yet seen the cursor past anything long enough");
        Log(server, Enumerable.Range(12_501, 12_500).Select(i => (long)i));
        await MoveCursorAsync(store, Cursor, 25_000);
        (await store.ChangeLogPrune.PassAsync(Start + retention / 2, default)).Should().Be(0);
        Logged(server).Should().HaveCount(25_000);

        await store.ChangeLogPrune.PassAsync(Start + retention, default);

        // 10,000 behind the cursor would be 15,000: the entries after 12,500 were not seen consumed long enough.
        Logged(server).Should().StartWith(12_501);
    }

    [Fact]
    public async Task A_gap_in_the_log_costs_no_empty_delete()
    {
        var (server, store) = await OpenAsync(TimeSpan.Zero);
        Log(server, Enumerable.Range(1, 100).Select(i => (long)i).Concat(Enumerable.Range(5_000, 11_001).Select(i => (long)i)));
        await MoveCursorAsync(store, Cursor, 16_000);
        server.ClearCalls();

        await store.ChangeLogPrune.PassAsync(Start, default);

        Deletes(server).Should().Equal(
            Json("""{"_id": {"$gt": 0, "$lte": 1000}}"""), Json("""{"_id": {"$gt": 4999, "$lte": 5999}}"""), Json("""{"_id": {"$gt": 5999, "$lte": 6000}}"""));
        server.Calls.Where(c => c.Collection == "changes" && c.Command == "delete").Should().OnlyContain(c => c.Affected > 0);
        Logged(server).Should().StartWith(6_001);
    }

    [Fact]
    public void The_bound_is_the_tail_behind_the_lowest_cursor_unless_less_has_aged()
    {
        MongoChangeLogPrune.Bound(lowestCursor: 12_500, aged: 20_000).Should().Be(2_500);
        MongoChangeLogPrune.Bound(lowestCursor: 12_500, aged: 1_000).Should().Be(1_000);
        MongoChangeLogPrune.Bound(lowestCursor: 5_000, aged: 5_000).Should().BeNegative("a log shorter than the tail keeps everything");
        MongoChangeLogPrune.Range(0, 1_000).ToJson(Relaxed).Should().Be(Json("""{"_id": {"$gt": 0, "$lte": 1000}}"""));
    }
}

/// <summary>The prune against a real MongoDB: the log behind the cursor goes and its tail stays, as SqliteChangeLogTests shows for SQLite.</summary>
[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoChangeLogServerTests : IAsyncLifetime
{
    private readonly MongoTestDatabase _database = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _database.DropAsync();

    [ContractFact]
    public async Task A_cursor_moved_without_notifications_prunes_the_log_behind_it_and_keeps_a_tail()
    {
        await using var storage = new MongoStorage(_database.ConnectionString, new MongoStoreOptions { BackgroundMaintenance = false, ChangeLogRetention = TimeSpan.Zero });
        var store = (MongoTenantStore)(await storage.GetTenantAsync(null, true, default))!;
        using var client = new MongoClient(_database.ConnectionString);
        var changes = client.GetDatabase(MongoUrl.Create(_database.ConnectionString).DatabaseName).GetCollection<BsonDocument>(MongoSchema.Changes);
        await changes.InsertManyAsync(Enumerable.Range(1, 10_050).Select(i =>
            MongoChangeDocument.Whole(i, $"urn:x:{i}", "update", DateTimeOffset.UtcNow, null, null)));
        var end = await store.ReadLastChangeSequenceAsync(default);

        await store.ReadCursorAsync("notifications", default);
        await store.AppendNotificationsAsync("notifications", end, [], default);
        await store.ChangeLogPrune.PassAsync(TimeSpan.Zero, default);

        end.Should().Be(10_050);
        (await changes.CountDocumentsAsync(FilterDefinition<BsonDocument>.Empty)).Should().Be(10_000);
        (await store.ReadChangesAsync(0, 1, default)).Single().Sequence.Should().Be(51);
    }
}
