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
        Recode(connection, "entities", "doc");
        Recode(connection, "deleted_entities", "doc");
        Recode(connection, "change_log", "before_doc");
        Recode(connection, "change_log", "after_doc");
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
