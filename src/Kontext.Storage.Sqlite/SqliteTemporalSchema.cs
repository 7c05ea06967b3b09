using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Tables and triggers of the Temporal API (issue 5), kept apart from <see cref="SqliteSchema"/>. Triggers keep them
/// current, so the ordinary write path needs no change:
/// <list type="bullet">
/// <item><c>temporal_attributes</c>: every (entity, attribute) pair with history, the driving side of windowed reads
/// (each pair then reads only its window through ix_instances_by_observed / ix_instances_by_modified).</item>
/// <item><c>deleted_entities</c>: the last state of an entity deleted through the entity API, with deletedAt; a re-creation removes it.</item>
/// </list>
/// </summary>
internal static class SqliteTemporalSchema
{
    public const string Tables = """
        CREATE TABLE IF NOT EXISTS temporal_attributes(
            entity_id TEXT NOT NULL,
            attr TEXT NOT NULL,
            PRIMARY KEY(entity_id, attr)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS deleted_entities(
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            deleted_at TEXT NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS trg_instances_pair AFTER INSERT ON attribute_instances
        BEGIN
            INSERT OR IGNORE INTO temporal_attributes(entity_id, attr) VALUES(new.entity_id, new.attr);
        END;
        CREATE TRIGGER IF NOT EXISTS trg_entities_deleted AFTER DELETE ON entities
        BEGIN
            INSERT OR REPLACE INTO deleted_entities(id, doc, deleted_at) VALUES(old.id, old.doc, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
        END;
        CREATE TRIGGER IF NOT EXISTS trg_entities_recreated AFTER INSERT ON entities
        BEGIN
            DELETE FROM deleted_entities WHERE id = new.id;
        END;
        """;

    /// <summary>Creates the temporal tables; a database that had history before them gets its pairs filled in once.</summary>
    public static void Apply(SqliteConnection connection)
    {
        bool existed;
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'temporal_attributes'"))
            existed = (long)probe.ExecuteScalar()! > 0;
        SqliteDatabase.Execute(connection, Tables);
        if (!existed)
            SqliteDatabase.Execute(connection, "INSERT OR IGNORE INTO temporal_attributes(entity_id, attr) SELECT DISTINCT entity_id, attr FROM attribute_instances");
    }
}
