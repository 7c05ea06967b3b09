using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// What the matcher and the expiry reaper read of a SQLite tenant without reading everything (issue 12): the log's
/// end by its key, the prune behind a cursor moved without notifications, and the transient documents by windows of
/// entity keys, so that a start-up scan costs one pass over the entities; and when the dispatcher's next stored retry
/// comes due.
/// </summary>
public sealed class SqliteChangeLogTests : IAsyncLifetime
{
    private readonly SqliteTestDirectory _directory = new("change-log");
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    public async Task InitializeAsync()
    {
        _storage = _directory.Open();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_directory.DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private Task CreateAsync(string json)
    {
        var entity = EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        return _store.WriteAsync(entity.Id, _ =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);
    }

    [Fact]
    public async Task A_cursor_moved_without_notifications_prunes_the_log_behind_it_and_keeps_a_tail()
    {
        Scalar("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050)
            INSERT INTO change_log(entity_id, operation, at, before_doc, after_doc) SELECT 'urn:x:' || i, 'update', '2025-01-01T00:00:00.000Z', NULL, NULL FROM n
            RETURNING 0
            """);
        var end = await _store.ReadLastChangeSequenceAsync(default);

        await _store.AppendNotificationsAsync("notifications", end, [], default);

        end.Should().Be(10050);
        (await _store.ReadCursorAsync("notifications", default)).Should().Be(end);
        Scalar("SELECT count(*) FROM change_log").Should().Be(10_000);
        Scalar("SELECT min(seq) FROM change_log").Should().Be(51);
    }

    [Fact]
    public async Task The_transient_scan_reads_the_documents_naming_expiresAt_in_every_key_window_and_no_other()
    {
        await CreateAsync("""{"id":"urn:ngsi-ld:T:a","type":"T","expiresAt":"2100-01-01T00:00:00Z","p":1}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:T:b","type":"T","p":1}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:T:c","type":"T","p":{"type":"Property","value":1,"expiresAt":"2100-01-01T00:00:00Z"}}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:T:d","type":"T","p":2}""");
        // Keys far apart, as a long-lived file has them: c two windows further, d beyond it.
        Scalar("UPDATE entities SET ek = ek + 25000 WHERE id = 'urn:ngsi-ld:T:c' RETURNING 0");
        Scalar("UPDATE entities SET ek = ek + 40000 WHERE id = 'urn:ngsi-ld:T:d' RETURNING 0");

        var read = new List<string>();
        await foreach (var entity in _store.ReadTransientCandidatesAsync(default)) read.Add(entity.Id);

        read.Should().Equal("urn:ngsi-ld:T:a", "urn:ngsi-ld:T:c");
    }

    [Fact]
    public async Task The_next_retry_time_is_the_earliest_stored_retry_still_ahead()
    {
        // The dispatcher reads the outbox only when signalled, and time passing raises no signal: it asks when to look again.
        const string subscription = "urn:ngsi-ld:Subscription:retries";
        var now = DateTimeOffset.UtcNow;
        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeNull("the outbox is empty");
        await _store.WriteSubscriptionAsync(subscription, _ => new SubscriptionWrite<bool>(true, $$"""{"id":"{{subscription}}"}"""), default);
        await _store.AppendNotificationsAsync(null, 0,
            [.. new[] { "a", "b", "c" }.Select(request => new OutboxMessage(0, subscription, "http://127.0.0.1:9/n", request, 0, now))], default);
        var messages = await _store.ReadDueNotificationsAsync(now, 10, default);
        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeNull("a message not yet attempted is due at once");

        await _store.RecordDeliveryAsync(messages[0].Sequence, subscription, DeliveryOutcome.Retry, now, now.AddMinutes(5), default);
        await _store.RecordDeliveryAsync(messages[1].Sequence, subscription, DeliveryOutcome.Retry, now, now.AddMinutes(2), default);

        (await _store.ReadNextRetryAtAsync(now, default)).Should().BeCloseTo(now.AddMinutes(2), TimeSpan.FromMilliseconds(1));
        (await _store.ReadNextRetryAtAsync(now.AddMinutes(3), default)).Should().BeCloseTo(now.AddMinutes(5), TimeSpan.FromMilliseconds(1));
        (await _store.ReadNextRetryAtAsync(now.AddMinutes(6), default)).Should().BeNull("every stored retry is due by then");
    }
}
