using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The schema version of a SQLite file (PRAGMA user_version) and the ordered steps that bring a file to the latest one.
/// A file opened at version v runs every step above v, each recorded as it completes; a file from a newer Kontext is refused
/// rather than written in a layout this build does not know.
/// <para>
/// Version 0 is a file from before versioning, whose layout is any earlier one: the steps up to <see cref="Baseline"/> are
/// therefore idempotent (CREATE … IF NOT EXISTS, the temporal step probes its columns). Every later step runs exactly once,
/// so it may be a plain ALTER TABLE: add one at the end, never edit or reorder a released one.
/// </para>
/// </summary>
internal static class SqliteMigrations
{
    /// <param name="Transactional">False for a step that opens its own transaction (the temporal baseline step).</param>
    public sealed record Step(int Version, string Name, Action<SqliteConnection> Apply, bool Transactional = true);

    /// <summary>The last step that must tolerate any pre-versioning layout.</summary>
    public const int Baseline = 5;

    /// <summary>A tenant's file: entities, history, notifications, federation, adapters.</summary>
    public static readonly Step[] Tenant =
    [
        new(1, "entities, index rows, history, change log", c => SqliteDatabase.Execute(c, SqliteSchema.Tables)),
        new(2, "subscriptions, matcher cursors, outbox", c => SqliteDatabase.Execute(c, SqliteSchema.NotificationTables)),
        new(3, "context source registrations and their subscriptions", c => SqliteDatabase.Execute(c, SqliteRegistrationSchema.Tables)),
        new(4, "temporal tables, triggers and sample columns", SqliteTemporalSchema.Apply, Transactional: false),
        new(5, "adapter state: uplink claims, dead letters, validation modes", c => SqliteDatabase.Execute(c, SqliteAdapterSchema.Tables)),
        new(6, "integer entity keys in the index tables", SqliteEntityKeySchema.Apply),
        new(7, "type and attribute names by id in the index tables", SqliteNameSchema.Apply),
        new(8, "pre-aggregated temporal buckets (hour, day) and the triggers that keep them", SqliteBucketSchema.Apply),
        new(9, "history by integer series keys, instance ids as bytes, documents without the columns' times", SqliteHistorySchema.Apply),
        new(10, "bucket times as integer milliseconds, compact entity documents", SqliteCompactSchema.Apply),
        new(11, "the observed-time index of the history without instances that have no observedAt", c => SqliteDatabase.Execute(c, SqliteObservedIndexSchema.Tables)),
        new(12, "grid cells of each geometry, for geo pages in key order", SqliteCellSchema.Apply),
        new(13, "value rows keyed by entity, attribute and ordinal, without a separate entity index", SqliteValueKeySchema.Apply),
        new(14, "the history key in the entity row", SqliteHistoryKeySchema.Apply),
    ];

    /// <summary>system.db: the tenant registry and cached @context documents.</summary>
    public static readonly Step[] System =
    [
        new(1, "tenant registry and @context documents", c => SqliteDatabase.Execute(c, SqliteSchema.SystemTables)),
    ];

    public static int VersionOf(SqliteConnection connection)
    {
        using var command = SqliteDatabase.Command(connection, "PRAGMA user_version");
        return Convert.ToInt32(command.ExecuteScalar(), global::System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs the steps above the file's version, in order; returns the version the file is at afterwards.</summary>
    public static int Apply(SqliteConnection connection, IReadOnlyList<Step> steps)
    {
        var version = VersionOf(connection);
        var latest = steps[^1].Version;
        if (version > latest)
            throw new InvalidOperationException(
                $"{connection.DataSource} has schema version {version}, newer than this Kontext knows ({latest}): it was written by a later release; run that release or restore a backup");
        foreach (var step in steps.Where(s => s.Version > version))
        {
            if (step.Transactional)
            {
                using var transaction = connection.BeginTransaction();
                step.Apply(connection);
                SqliteDatabase.Execute(connection, $"PRAGMA user_version = {step.Version}");
                transaction.Commit();
            }
            else
            {
                step.Apply(connection);
                SqliteDatabase.Execute(connection, $"PRAGMA user_version = {step.Version}");
            }
            version = step.Version;
        }
        return version;
    }
}
