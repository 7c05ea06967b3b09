using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Context source registrations and registration subscriptions (the federation facet), through the same single writer as
/// entities: a registration, its notifications in the shared outbox and the subscriptions' lastNotification commit in one job.
/// </summary>
internal sealed partial class SqliteTenantStore : IRegistrationStore
{
    public IRegistrationStore Registrations => this;

    private const string RegistrationColumns = "id, doc, created_at, modified_at, times_sent, times_failed, last_success, last_failure";

    /// <summary>
    /// The registrations as last read, with the version of the table they were read at. Every entity write and query asks
    /// for them (the forwarding check of clause 4.3.6.3), and they change only through this store's writer
    /// (<see cref="RegistrationsWritten{T}"/>), so a list is read again only after a registration write.
    /// </summary>
    private sealed record RegistrationsSnapshot(long Version, IReadOnlyList<StoredRegistration> List);

    private RegistrationsSnapshot? _registrations;
    private long _registrationsVersion;

    public async Task<IReadOnlyList<StoredRegistration>> ListRegistrationsAsync(CancellationToken cancellationToken)
    {
        // Asked by every entity retrieval and query (are there sources to forward to?): kept between registration writes.
        // The version is read before the table: a write completing in between makes this snapshot stale at once.
        var version = Interlocked.Read(ref _registrationsVersion);
        if (Volatile.Read(ref _registrations) is { } snapshot && snapshot.Version == version) return snapshot.List;
        await using var connection = await RentReaderAsync(cancellationToken);
        await using var reader = await connection.Command($"SELECT {RegistrationColumns} FROM registrations ORDER BY rowid").ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredRegistration>();
        while (await reader.ReadAsync(cancellationToken)) list.Add(ReadRegistration(reader));
        var registrations = list.ToArray();
        Volatile.Write(ref _registrations, new RegistrationsSnapshot(version, registrations));
        return registrations;
    }

    /// <summary>
    /// A write to the registrations table: once it is done (committed or not), the listed snapshot is stale. The version
    /// moves after the commit even when the caller stops waiting first, so no snapshot read before the commit outlives it.
    /// </summary>
    private Task<T> RegistrationsWritten<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        var written = Enqueue(work, CancellationToken.None).ContinueWith(write =>
        {
            Interlocked.Increment(ref _registrationsVersion);
            return write;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
        return cancellationToken.CanBeCanceled ? written.WaitAsync(cancellationToken) : written;
    }

    public async Task<StoredRegistration?> GetRegistrationAsync(string id, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        return GetRegistration(pooled.Connection, id);
    }

    private static StoredRegistration? GetRegistration(SqliteConnection connection, string id)
    {
        using var command = SqliteDatabase.Command(connection, $"SELECT {RegistrationColumns} FROM registrations WHERE id = $id", ("$id", id));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadRegistration(reader) : null;
    }

    private static StoredRegistration ReadRegistration(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1),
        new RegistrationStatus(reader.GetInt64(4), reader.GetInt64(5), Time(reader, 6), Time(reader, 7)),
        ParseTime(reader.GetString(2)), ParseTime(reader.GetString(3)));

    public Task<T> WriteRegistrationAsync<T>(string id, Func<StoredRegistration?, RegistrationWrite<T>> decide, CancellationToken cancellationToken) =>
        RegistrationsWritten(connection =>
        {
            var write = decide(GetRegistration(connection, id));
            if (!write.Write) return write.Result;
            if (write.Document is null)
            {
                using var delete = SqliteDatabase.Command(connection, "DELETE FROM registrations WHERE id = $id", ("$id", id));
                delete.ExecuteNonQuery();
            }
            else
            {
                using var upsert = SqliteDatabase.Command(connection, """
                    INSERT INTO registrations(id, doc, created_at, modified_at) VALUES($id, $doc, $now, $now)
                    ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at
                    """, ("$id", id), ("$doc", write.Document), ("$now", Validate.Format(DateTimeOffset.UtcNow)));
                upsert.ExecuteNonQuery();
            }
            AppendRegistrationNotifications(connection, write.Notifications);
            return write.Result;
        }, cancellationToken);

    public Task RecordForwardingAsync(string id, bool succeeded, DateTimeOffset at, CancellationToken cancellationToken) =>
        RegistrationsWritten(connection =>
        {
            using var update = SqliteDatabase.Command(connection, succeeded
                ? "UPDATE registrations SET times_sent = times_sent + 1, last_success = $at WHERE id = $id"
                : "UPDATE registrations SET times_sent = times_sent + 1, times_failed = times_failed + 1, last_failure = $at WHERE id = $id",
                ("$id", id), ("$at", Validate.Format(at)));
            update.ExecuteNonQuery();
            return true;
        }, cancellationToken);

    public async Task<IReadOnlyList<StoredSubscription>> ListRegistrationSubscriptionsAsync(CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, $"SELECT {SubscriptionColumns} FROM csource_subscriptions ORDER BY rowid");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredSubscription>();
        while (await reader.ReadAsync(cancellationToken)) list.Add(ReadSubscription(reader));
        return list;
    }

    public async Task<StoredSubscription?> GetRegistrationSubscriptionAsync(string id, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        return GetRegistrationSubscription(pooled.Connection, id);
    }

    private static StoredSubscription? GetRegistrationSubscription(SqliteConnection connection, string id)
    {
        using var command = SqliteDatabase.Command(connection, $"SELECT {SubscriptionColumns} FROM csource_subscriptions WHERE id = $id", ("$id", id));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadSubscription(reader) : null;
    }

    public Task<T> WriteRegistrationSubscriptionAsync<T>(string id, Func<StoredSubscription?, RegistrationSubscriptionWrite<T>> decide, CancellationToken cancellationToken) =>
        Enqueue(connection =>
        {
            var write = decide(GetRegistrationSubscription(connection, id));
            if (!write.Write) return write.Result;
            if (write.Document is null)
            {
                using var delete = SqliteDatabase.Command(connection, "DELETE FROM csource_subscriptions WHERE id = $id", ("$id", id));
                delete.ExecuteNonQuery();
            }
            else
            {
                using var upsert = SqliteDatabase.Command(connection, """
                    INSERT INTO csource_subscriptions(id, doc, created_at, modified_at) VALUES($id, $doc, $now, $now)
                    ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at
                    """, ("$id", id), ("$doc", write.Document), ("$now", Validate.Format(DateTimeOffset.UtcNow)));
                upsert.ExecuteNonQuery();
            }
            if (write.Document is null || write.DropsPending) DropPending(connection, RegistrationSubscriptionKey.ForOutbox(id));
            AppendRegistrationNotifications(connection, write.Notifications);
            return write.Result;
        }, cancellationToken);

    /// <summary>
    /// Outbox rows for registration subscriptions (keyed by <see cref="RegistrationSubscriptionKey"/>) and their
    /// lastNotification. The subscriptions were read before this job: one deleted since gets nothing.
    /// </summary>
    private static void AppendRegistrationNotifications(SqliteConnection connection, IReadOnlyList<OutboxMessage> messages)
    {
        foreach (var message in messages)
        {
            if (!RegistrationSubscriptionKey.TryRead(message.SubscriptionId, out var subscriptionId)) continue;
            var at = Validate.Format(message.CreatedAt);
            SqliteDatabase.Cached(connection, """
                INSERT INTO outbox(subscription_id, endpoint, request, created_at, next_attempt_at)
                SELECT $sub, $endpoint, $request, $at, $at WHERE EXISTS (SELECT 1 FROM csource_subscriptions WHERE id = $id)
                """, ("$sub", message.SubscriptionId), ("$endpoint", message.Endpoint), ("$request", message.Request), ("$at", at), ("$id", subscriptionId)).ExecuteNonQuery();
            SqliteDatabase.Cached(connection, "UPDATE csource_subscriptions SET last_notification = $at WHERE id = $id",
                ("$id", subscriptionId), ("$at", at)).ExecuteNonQuery();
        }
    }
}
