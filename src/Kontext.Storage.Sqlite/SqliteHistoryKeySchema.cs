using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 14 (issue 12, writes at a million entities): <c>entities.hk</c>, the entity's history key
/// (<c>history_entities.hk</c>), kept in its row so that a group write finds an instance's series by
/// <c>temporal_series(hk, attr)</c> alone, instead of a random page of <c>history_entities</c>' id index first: the write
/// reads the key with the entity's row and stages it with the instances (<see cref="SqliteGroupRows.Instance"/>).
/// <para>
/// NULL means "not known here": the group write then finds the key by the id as before and fills it in
/// (<see cref="SqliteGroupRows"/>), so a row without it (a migrated file, an entity created again after its history was
/// kept, a write outside a group) is always correct, and the step adds the column only (no rewrite of every entity row).
/// A key set is never stale: the one place that deletes a <c>history_entities</c> row (the temporal purge of an entity)
/// clears it first (<see cref="ForgetSql"/>), and history keys are never changed.
/// </para>
/// </summary>
internal static class SqliteHistoryKeySchema
{
    public static void Apply(SqliteConnection connection)
    {
        // A file whose version was reset (a test re-running a step below this one) may have the column already.
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM pragma_table_info('entities') WHERE name = 'hk'"))
            if ((long)probe.ExecuteScalar()! > 0) return;
        SqliteDatabase.Execute(connection, "ALTER TABLE entities ADD COLUMN hk INTEGER");
    }

    /// <summary>Clears the history key of the entity $id, before its history_entities row is deleted.</summary>
    public const string ForgetSql = "UPDATE entities SET hk = NULL WHERE id = $id AND hk IS NOT NULL";
}
