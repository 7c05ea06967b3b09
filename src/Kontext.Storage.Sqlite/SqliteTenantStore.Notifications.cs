using System.Globalization;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>Subscriptions, cursors and the outbox, written through the same single writer as entities.</summary>
internal sealed partial class SqliteTenantStore
{
    private const long ConsumedChangesKept = 10_000;
    private const string SubscriptionColumns = "id, doc, created_at, modified_at, times_sent, times_failed, last_notification, last_success, last_failure";

    public async Task<IReadOnlyList<StoredSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, $"SELECT {SubscriptionColumns} FROM subscriptions ORDER BY rowid");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredSubscription>();
        while (await reader.ReadAsync(cancellationToken)) list.Add(ReadSubscription(reader));
        return list;
    }

    public async Task<StoredSubscription?> GetSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        return GetSubscription(pooled.Connection, id);
    }

    private static StoredSubscription? GetSubscription(SqliteConnection connection, string id)
    {
        using var command = SqliteDatabase.Command(connection, $"SELECT {SubscriptionColumns} FROM subscriptions WHERE id = $id", ("$id", id));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadSubscription(reader) : null;
    }

    private static StoredSubscription ReadSubscription(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1),
        new SubscriptionStatus(reader.GetInt64(4), reader.GetInt64(5), Time(reader, 6), Time(reader, 7), Time(reader, 8)),
        ParseTime(reader.GetString(2)), ParseTime(reader.GetString(3)));

    private static DateTimeOffset? Time(SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : ParseTime(reader.GetString(column));

    public Task<T> WriteSubscriptionAsync<T>(string id, Func<StoredSubscription?, SubscriptionWrite<T>> decide, CancellationToken cancellationToken) =>
        Enqueue(connection =>
        {
            var current = GetSubscription(connection, id);
            var write = decide(current);
            if (!write.Write) return write.Result;
            SubscriptionsChanged(connection);
            var now = Validate.Format(DateTimeOffset.UtcNow);
            if (write.Document is null)
            {
                using var delete = SqliteDatabase.Command(connection, "DELETE FROM subscriptions WHERE id = $id", ("$id", id));
                delete.ExecuteNonQuery();
            }
            else
            {
                using var upsert = SqliteDatabase.Command(connection, """
                    INSERT INTO subscriptions(id, doc, created_at, modified_at) VALUES($id, $doc, $now, $now)
                    ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at
                    """, ("$id", id), ("$doc", write.Document), ("$now", now));
                upsert.ExecuteNonQuery();
            }
            if (write.Document is null || write.DropsPending) DropPending(connection, id);
            return write.Result;
        }, cancellationToken);

    /// <summary>A deleted or paused subscription's pending notifications (its outbox key), in the writer job that deletes or pauses it.</summary>
    private static void DropPending(SqliteConnection connection, string outboxKey)
    {
        using var outbox = SqliteDatabase.Command(connection, "DELETE FROM outbox WHERE subscription_id = $key", ("$key", outboxKey));
        outbox.ExecuteNonQuery();
    }

    public async Task<long> ReadCursorAsync(string name, CancellationToken cancellationToken)
    {
        await using var reader = await RentReaderAsync(cancellationToken);
        return reader.Command("SELECT position FROM cursors WHERE name = $name", ("$name", name)).ExecuteScalar() is long position ? position : 0;
    }

    public async Task<long> ReadLastChangeSequenceAsync(CancellationToken cancellationToken)
    {
        // max of the primary key: one step down the B-tree's right edge (AUTOINCREMENT: a pruned key is never given again).
        await using var reader = await RentReaderAsync(cancellationToken);
        return reader.Command("SELECT coalesce(max(seq), 0) FROM change_log").ExecuteScalar() is long last ? last : 0;
    }

    public Task AppendNotificationsAsync(string? cursorName, long cursorPosition, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken) =>
        Enqueue(connection =>
        {
            // Matched against a subscription list read before this job: one deleted since gets nothing (its deletion
            // emptied its outbox and no notification of it may follow).
            var insert = SqliteDatabase.Cached(connection, """
                INSERT INTO outbox(subscription_id, endpoint, request, created_at, next_attempt_at)
                SELECT $sub, $endpoint, $request, $at, $at WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = $sub)
                """, ("$sub", ""), ("$endpoint", ""), ("$request", ""), ("$at", ""));
            var notified = SqliteDatabase.Cached(connection, "UPDATE subscriptions SET last_notification = $at WHERE id = $sub", ("$sub", ""), ("$at", ""));
            var latest = new Dictionary<string, string>(StringComparer.Ordinal); // one update per subscription, not per message
            foreach (var message in messages)
            {
                var at = Validate.Format(message.CreatedAt);
                insert.Parameters["$sub"].Value = message.SubscriptionId;
                insert.Parameters["$endpoint"].Value = message.Endpoint;
                insert.Parameters["$request"].Value = message.Request;
                insert.Parameters["$at"].Value = at;
                insert.ExecuteNonQuery();
                if (!latest.TryGetValue(message.SubscriptionId, out var seen) || string.CompareOrdinal(at, seen) > 0) latest[message.SubscriptionId] = at;
            }
            foreach (var (subscriptionId, at) in latest)
            {
                notified.Parameters["$sub"].Value = subscriptionId;
                notified.Parameters["$at"].Value = at;
                notified.ExecuteNonQuery();
            }
            if (cursorName is not null)
            {
                SqliteDatabase.Cached(connection, """
                    INSERT INTO cursors(name, position) VALUES($name, $position) ON CONFLICT(name) DO UPDATE SET position = excluded.position
                    """, ("$name", cursorName), ("$position", cursorPosition)).ExecuteNonQuery();
                // The change log is a queue, not the history (attribute_instances is): keep a tail of consumed entries for
                // diagnosis and drop the rest, or it would grow by a full entity document per write forever.
                SqliteDatabase.Cached(connection, "DELETE FROM change_log WHERE seq <= $position - $keep",
                    ("$position", cursorPosition), ("$keep", ConsumedChangesKept)).ExecuteNonQuery();
            }
            return true;
        }, cancellationToken);

    public async Task<IReadOnlyList<OutboxMessage>> ReadDueNotificationsAsync(DateTimeOffset now, int max, long after, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, """
            SELECT o.seq, o.subscription_id, o.endpoint, o.request, o.attempts, o.created_at FROM outbox o
            WHERE o.seq > $after AND o.next_attempt_at <= $now
              -- keep each subscription's order: nothing overtakes an earlier message still waiting for its retry time
              AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.subscription_id = o.subscription_id AND p.seq < o.seq AND p.next_attempt_at > $now)
            ORDER BY o.seq LIMIT $max
            """, ("$now", Validate.Format(now)), ("$max", max), ("$after", after));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var messages = new List<OutboxMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new OutboxMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetInt32(4), ParseTime(reader.GetString(5))));
        }
        return messages;
    }

    public async Task<DateTimeOffset?> ReadNextRetryAtAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        // A message not yet attempted is due from its creation: only a retry lies ahead (ix_outbox_due finds the earliest).
        await using var reader = await RentReaderAsync(cancellationToken);
        return reader.Command("SELECT min(next_attempt_at) FROM outbox WHERE next_attempt_at > $now", ("$now", Validate.Format(now))).ExecuteScalar()
            is string at ? ParseTime(at) : null;
    }

    /// <summary>One process owns a SQLite file, so there is no lease: a message only has to be still in the outbox.</summary>
    public async Task<IReadOnlySet<long>> RenewLeasesAsync(IReadOnlyList<long> sequences, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var held = new HashSet<long>();
        if (sequences.Count == 0) return held;
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT o.seq FROM json_each($seqs) j JOIN outbox o ON o.seq = j.value",
            ("$seqs", "[" + string.Join(',', sequences.Select(s => s.ToString(CultureInfo.InvariantCulture))) + "]"));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) held.Add(reader.GetInt64(0));
        return held;
    }

    /// <summary>
    /// All the records in one writer job (one transaction): the outbox rows first, then one counter update per
    /// subscription with what the batch adds up to.
    /// </summary>
    public Task RecordDeliveriesAsync(IReadOnlyList<DeliveryRecord> records, CancellationToken cancellationToken) =>
        records.Count == 0 ? Task.CompletedTask : Enqueue(connection =>
        {
            var delete = SqliteDatabase.Cached(connection, "DELETE FROM outbox WHERE seq = $seq", ("$seq", 0L));
            var reschedule = SqliteDatabase.Cached(connection, "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $retry WHERE seq = $seq",
                ("$seq", 0L), ("$retry", ""));
            var totals = new Dictionary<string, SubscriptionTotals>(StringComparer.Ordinal);
            foreach (var record in records)
            {
                var time = Validate.Format(record.At);
                if (record.Outcome == DeliveryOutcome.Retry)
                {
                    reschedule.Parameters["$seq"].Value = record.Sequence;
                    reschedule.Parameters["$retry"].Value = record.RetryAt is { } r ? Validate.Format(r) : time;
                    reschedule.ExecuteNonQuery();
                }
                else
                {
                    delete.Parameters["$seq"].Value = record.Sequence;
                    delete.ExecuteNonQuery();
                }
                if (!record.Counts) continue;
                if (!totals.TryGetValue(record.SubscriptionId, out var total)) totals[record.SubscriptionId] = total = new SubscriptionTotals();
                total.Add(record, time);
            }
            foreach (var (subscriptionId, total) in totals)
            {
                // A registration subscription's message carries its key: its counters live in csource_subscriptions.
                var (table, id) = RegistrationSubscriptionKey.TryRead(subscriptionId, out var registrationSubscription)
                    ? ("csource_subscriptions", registrationSubscription) : ("subscriptions", subscriptionId);
                // ISO 8601 UTC text of one format orders as time: max() keeps the later of stored and recorded.
                SqliteDatabase.Cached(connection, $"""
                    UPDATE {table} SET times_sent = times_sent + $sent, times_failed = times_failed + $failed,
                      last_success = CASE WHEN $success IS NULL THEN last_success ELSE max(coalesce(last_success, ''), $success) END,
                      last_failure = CASE WHEN $failure IS NULL THEN last_failure ELSE max(coalesce(last_failure, ''), $failure) END
                    WHERE id = $id
                    """, ("$id", id), ("$sent", total.Sent), ("$failed", total.Failed),
                    ("$success", (object?)total.LastSuccess ?? DBNull.Value), ("$failure", (object?)total.LastFailure ?? DBNull.Value)).ExecuteNonQuery();
            }
            return true;
        }, cancellationToken);

    private sealed class SubscriptionTotals
    {
        public long Sent, Failed;
        public string? LastSuccess, LastFailure;

        public void Add(DeliveryRecord record, string time)
        {
            if (record.CountsAsSent) Sent++;
            if (record.CountsAsFailed) Failed++;
            if (record.Outcome == DeliveryOutcome.Delivered) LastSuccess = Later(LastSuccess, time);
            else LastFailure = Later(LastFailure, time);
        }

        private static string Later(string? a, string b) => a is null || string.CompareOrdinal(b, a) > 0 ? b : a;
    }
}
