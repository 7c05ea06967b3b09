using System.Collections.Concurrent;
using Kontext.Broker.Entities;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using Kontext.Storage.Tests;
using Kontext.Storage.Tests.Mongo.Recording;
using Microsoft.Data.Sqlite;
using MongoDB.Bson;
using MongoDB.Driver;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// The expiry reaper follows each tenant's change log from a cursor held in memory, and the log is pruned behind the
/// matcher's durable cursor, not the reaper's (issue 12). A reaper the prune has passed scans the tenant again, so a transient
/// entity whose record was pruned unread is still removed; one the prune has not passed reads on. Rounds are driven by the
/// test, over each store's real code (MongoDB on the recording fake); the prune is forced by moving the matcher's cursor
/// past a log grown with filler entries.
/// </summary>
public sealed class ExpiryReaperGapTests : IAsyncLifetime
{
    private const string Transient = "urn:ngsi-ld:T:transient", Expired = "urn:ngsi-ld:T:expired";
    private readonly SqliteTestDirectory _directory = new("reaper-gap");
    private readonly FakeMongoServer _mongo = new();
    private readonly WarningLogger _log = new();
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;
    private ExpiryReaper _reaper = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_storage is not null) await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    /// <summary>Opens the store with a transient entity, lets the reaper visit it once, and returns the reaper's position then.</summary>
    private async Task<long> OpenAsync(string provider)
    {
        _storage = provider == "sqlite"
            ? new Kontext.Storage.Sqlite.SqliteStorage(_directory.Path)
            : new MongoStorage(_mongo.Client, "kontext", new MongoStoreOptions { BackgroundMaintenance = false, ChangeLogRetention = TimeSpan.Zero });
        _store = (await _storage.GetTenantAsync(null, true, default))!;
        _reaper = new ExpiryReaper(_storage, Options.Create(new KontextOptions()), _log);
        await FakeTenant.CreateAsync(_store, $$"""{"id":"{{Transient}}","type":"T","expiresAt":"2100-01-01T00:00:00Z","p":1}""");
        await RoundAsync(); // the first visit: a scan, and the cursor at the log's end
        return await _store.ReadLastChangeSequenceAsync(default);
    }

    private Task CreateExpiredAsync() => FakeTenant.CreateAsync(_store, $$"""{"id":"{{Expired}}","type":"T","expiresAt":"2020-01-01T00:00:00Z","p":1}""");

    private async Task OnlyTheExpiredEntityIsGoneAsync(string because)
    {
        (await _store.GetEntityAsync(Expired, default)).Should().BeNull(because);
        (await _store.GetEntityAsync(Transient, default)).Should().NotBeNull("it expires in 2100");
    }

    private Task RoundAsync()
    {
        _reaper.Changed(null);
        return _reaper.RoundAsync(default);
    }

    /// <summary>Fills the log after the entries written so far and moves the matcher's cursor to its end, pruning up to <paramref name="prunedTo"/>.</summary>
    private async Task PruneAsync(string provider, long prunedTo)
    {
        var last = await _store.ReadLastChangeSequenceAsync(default);
        var end = prunedTo + 10_000; // both stores keep a tail of 10,000 entries behind the matcher's cursor
        if (provider == "sqlite")
        {
            // Entries written by hand (as SqliteChangeLogTests does): 10,000 logged writes through the store would take seconds.
            using var connection = new SqliteConnection($"Data Source={_directory.DbPath};Pooling=False");
            connection.Open();
            using var fill = connection.CreateCommand();
            fill.CommandText = """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
                INSERT INTO change_log(entity_id, operation, at, before_doc, after_doc) SELECT 'urn:ngsi-ld:Filler:' || i, 'update', '2025-01-01T00:00:00.000Z', NULL, NULL FROM n
                """;
            fill.Parameters.AddWithValue("$count", end - last);
            fill.ExecuteNonQuery();
            await _store.AppendNotificationsAsync("notifications", end, [], default);
        }
        else
        {
            var database = _mongo.Client.GetDatabase("kontext");
            await database.GetCollection<BsonDocument>(MongoSchema.Changes).InsertManyAsync(Enumerable.Range(1, (int)(end - last))
                .Select(i => MongoChangeDocument.Whole(last + i, $"urn:ngsi-ld:Filler:{i}", "update", DateTimeOffset.UtcNow, null, "{}")));
            // as if the fillers were writes: the next one takes the sequence after them
            await database.GetCollection<BsonDocument>(MongoSchema.Counters).UpdateOneAsync(new BsonDocument("_id", "changes"), new BsonDocument("$set", new BsonDocument("seq", end)));
            await _store.ReadCursorAsync("notifications", default);
            await _store.AppendNotificationsAsync("notifications", end, [], default);
            await ((MongoTenantStore)_store).ChangeLogPrune.PassAsync(TimeSpan.FromHours(1), default);
        }
        (await _store.ReadChangesAsync(0, 1, default))[0].Sequence.Should().Be(prunedTo + 1, "the prune keeps the tail behind the cursor");
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("mongo")]
    public async Task A_transient_entity_whose_change_was_pruned_before_the_reaper_read_it_is_still_removed(string provider)
    {
        var cursor = await OpenAsync(provider);
        await CreateExpiredAsync();

        await PruneAsync(provider, prunedTo: cursor + 1); // the expired entity's change goes unread
        (await _store.GetEntityAsync(Expired, default)).Should().NotBeNull();
        await RoundAsync();

        await OnlyTheExpiredEntityIsGoneAsync("the reaper scanned the tenant again and found it expired");
        _log.Warnings.Should().ContainSingle().Which.Should().Contain("scanning the tenant again");
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("mongo")]
    public async Task A_prune_up_to_the_reapers_position_loses_nothing_after_it_and_costs_no_scan(string provider)
    {
        var cursor = await OpenAsync(provider);
        await CreateExpiredAsync();

        await PruneAsync(provider, prunedTo: cursor);
        await RoundAsync();

        await OnlyTheExpiredEntityIsGoneAsync("its change was read from the log");
        _log.Warnings.Should().BeEmpty();
    }

    [Fact]
    public async Task A_hole_in_the_sequences_after_the_reapers_position_costs_no_scan_while_the_log_holds_the_position()
    {
        var cursor = await OpenAsync("mongo");
        // A MongoDB purge takes a sequence and logs no change.
        await _store.History!.WriteAndPurgeAsync(Transient, _ => EntityWrite<bool>.Nothing(false), new HistoryPurge("https://uri.etsi.org/ngsi-ld/default-context/p"), default);
        await CreateExpiredAsync();
        (await _store.ReadChangesAsync(cursor, 1, default))[0].Sequence.Should().BeGreaterThan(cursor + 1);

        await RoundAsync();

        await OnlyTheExpiredEntityIsGoneAsync("its change was read from the log");
        _log.Warnings.Should().BeEmpty("the log still holds the entry at the reaper's position: nothing after it was pruned");
    }

    private sealed class WarningLogger : ILogger<ExpiryReaper>
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning) Warnings.Enqueue(formatter(state, exception));
        }
    }
}
