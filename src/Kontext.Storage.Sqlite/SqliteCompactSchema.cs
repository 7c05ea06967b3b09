using System.Text.Json;
using Kontext.Ngsi.Model;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 10 (issue 12, storage size): the bucket times as integer milliseconds
/// (<see cref="SqliteBucketSchema.BySeriesInMilliseconds"/>), and the entity documents — of live entities, of deleted
/// ones and in the change log — in the compact form of <see cref="SqliteEntityForm"/>.
/// </summary>
internal static class SqliteCompactSchema
{
    public static void Apply(SqliteConnection connection)
    {
        SqliteBucketSchema.ApplyMilliseconds(connection);
        RebuildEntities(connection);
        Recode(connection, "deleted_entities", "doc");
        Recode(connection, "change_log", "before_doc");
        Recode(connection, "change_log", "after_doc");
    }

    /// <summary>
    /// The entity table copied in key order with its documents compact: rewriting them in place would leave its pages
    /// half empty (SQLite does not merge pages that shrink), so the file would not get smaller until a VACUUM.
    /// Its keys (ek, the index tables' reference) are kept; its triggers are made again as step 4 made them.
    /// </summary>
    private static void RebuildEntities(SqliteConnection connection)
    {
        SqliteDatabase.Execute(connection, """
            DROP TRIGGER IF EXISTS trg_entities_deleted;
            DROP TRIGGER IF EXISTS trg_entities_recreated;
            CREATE TABLE entities_v10(
                ek INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                doc TEXT NOT NULL,
                created_at TEXT NOT NULL,
                modified_at TEXT NOT NULL
            );
            """);
        using (var insert = SqliteDatabase.Command(connection,
                   "INSERT INTO entities_v10(ek, id, doc, created_at, modified_at) VALUES($ek, $id, $doc, $created, $modified)",
                   ("$ek", 0L), ("$id", ""), ("$doc", ""), ("$created", ""), ("$modified", "")))
        using (var select = SqliteDatabase.Command(connection, "SELECT ek, id, doc, created_at, modified_at FROM entities ORDER BY ek"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                var doc = reader.GetString(2);
                insert.Parameters["$ek"].Value = reader.GetInt64(0);
                insert.Parameters["$id"].Value = reader.GetString(1);
                insert.Parameters["$doc"].Value = Compact(doc) ?? doc;
                insert.Parameters["$created"].Value = reader.GetString(3);
                insert.Parameters["$modified"].Value = reader.GetString(4);
                insert.ExecuteNonQuery();
            }
        }
        SqliteDatabase.Execute(connection, """
            DROP TABLE entities;
            ALTER TABLE entities_v10 RENAME TO entities;
            CREATE TRIGGER trg_entities_deleted AFTER DELETE ON entities
            BEGIN
                INSERT OR REPLACE INTO deleted_entities(id, doc, deleted_at) VALUES(old.id, old.doc, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
            END;
            CREATE TRIGGER trg_entities_recreated AFTER INSERT ON entities
            BEGIN
                DELETE FROM deleted_entities WHERE id = new.id;
            END;
            """);
    }

    /// <summary>Rewrites each document of <paramref name="table"/>.<paramref name="column"/> in the compact form.</summary>
    private static void Recode(SqliteConnection connection, string table, string column)
    {
        var rows = new List<(long RowId, string Doc)>();
        using (var select = SqliteDatabase.Command(connection, $"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
                if (Compact(reader.GetString(1)) is { } compact) rows.Add((reader.GetInt64(0), compact));
        }
        using var update = SqliteDatabase.Command(connection, $"UPDATE {table} SET {column} = $doc WHERE rowid = $rowid", ("$doc", ""), ("$rowid", 0L));
        foreach (var (rowId, doc) in rows)
        {
            update.Parameters["$doc"].Value = doc;
            update.Parameters["$rowid"].Value = rowId;
            update.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The compact form of a stored document, or null to keep it as it is: when it is compact already, or when it is
    /// not a whole entity this build can read (an early release's document without times), or when the compact form
    /// would not give back the same entity. A document kept is read as before (<see cref="SqliteEntityForm.Decode"/>).
    /// </summary>
    internal static string? Compact(string doc)
    {
        if (!doc.StartsWith("{\"id\":", StringComparison.Ordinal)) return null;
        Entity entity;
        try
        {
            entity = EntityJson.Deserialize(doc);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null;
        }
        var compact = SqliteEntityForm.Encode(entity);
        var whole = EntityJson.Serialize(entity);
        return EntityJson.Serialize(SqliteEntityForm.Decode(compact)).AsSpan().SequenceEqual(whole) ? compact : null;
    }
}
