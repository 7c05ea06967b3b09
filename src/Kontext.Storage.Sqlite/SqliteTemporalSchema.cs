using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Tables and triggers of the Temporal API (issue 5), kept apart from <see cref="SqliteSchema"/>. Triggers keep them
/// current, so the ordinary write path needs no change:
/// <list type="bullet">
/// <item><c>temporal_attributes</c>: every (entity, attribute) pair with history, the driving side of windowed reads
/// (each pair then reads only its window through ix_instances_by_observed / ix_instances_by_modified).</item>
/// <item><c>deleted_entities</c>: the last state of an entity deleted through the entity API, with deletedAt; a re-creation removes it.</item>
/// <item>sample columns on <c>attribute_instances</c> (sample_type, sample_num, sample_str, sample_key; see
/// <see cref="Kontext.Ngsi.Temporal.SampleFields"/>), written with each instance so aggregation is a GROUP BY over
/// plain columns, not a JSON parse per row. A database from before them gets them filled in once.</item>
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

    private static readonly string[] SampleColumns = ["sample_type TEXT", "sample_num REAL", "sample_str TEXT", "sample_key ANY"];

    /// <summary>Creates the temporal tables and sample columns; a database that had history before them gets them filled in once.</summary>
    public static void Apply(SqliteConnection connection)
    {
        AddSampleColumns(connection);
        bool existed;
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'temporal_attributes'"))
            existed = (long)probe.ExecuteScalar()! > 0;
        SqliteDatabase.Execute(connection, Tables);
        if (!existed)
            SqliteDatabase.Execute(connection, "INSERT OR IGNORE INTO temporal_attributes(entity_id, attr) SELECT DISTINCT entity_id, attr FROM attribute_instances");
    }

    private static void AddSampleColumns(SqliteConnection connection)
    {
        var columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var info = SqliteDatabase.Command(connection, "SELECT name FROM pragma_table_info('attribute_instances')"))
        using (var reader = info.ExecuteReader())
            while (reader.Read()) columns.Add(reader.GetString(0));
        if (columns.Contains("sample_type")) return;
        using var transaction = connection.BeginTransaction();
        SqliteCommand Command(string sql)
        {
            var command = SqliteDatabase.Command(connection, sql);
            command.Transaction = transaction;
            return command;
        }
        foreach (var column in SampleColumns)
        {
            using var alter = Command($"ALTER TABLE attribute_instances ADD COLUMN {column}");
            alter.ExecuteNonQuery();
        }
        var rows = new List<(long Seq, string Doc)>();
        using (var select = Command("SELECT seq, doc FROM attribute_instances WHERE kind <> 'Deleted' AND doc IS NOT NULL"))
        using (var reader = select.ExecuteReader())
            while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetString(1)));
        using var update = Command("UPDATE attribute_instances SET sample_type = $t, sample_num = $n, sample_str = $s, sample_key = $k WHERE seq = $seq");
        foreach (var (seq, doc) in rows)
        {
            if (Kontext.Ngsi.Formats.StoredJson.Parse(doc) is not System.Text.Json.Nodes.JsonObject instance) continue;
            update.Parameters.Clear();
            foreach (var (name, value) in SampleParameters(instance)) update.Parameters.AddWithValue(name, value ?? DBNull.Value);
            update.Parameters.AddWithValue("$seq", seq);
            update.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>The sample columns' parameters ($t, $n, $s, $k) for an instance; all null for a deletion.</summary>
    public static (string, object?)[] SampleParameters(System.Text.Json.Nodes.JsonObject? instance)
    {
        var (type, number, text, key) = SampleValues(instance);
        return [("$t", type), ("$n", number), ("$s", text), ("$k", key)];
    }

    /// <summary>The sample columns (sample_type, sample_num, sample_str, sample_key) of an instance; all null for a deletion.</summary>
    public static (string? Type, double? Number, string? Text, object? Key) SampleValues(System.Text.Json.Nodes.JsonObject? instance)
    {
        if (instance is null) return default;
        var fields = Kontext.Ngsi.Temporal.SampleFields.Of(instance);
        // A Property's type is left NULL (most samples are Properties): every reader takes NULL for 'Property'. So is a
        // distinct key that is the sample's number (readers take COALESCE(sample_key, sample_num)).
        return (fields.AttributeType == Kontext.Ngsi.Model.Attr.Property ? null : fields.AttributeType, fields.Number, fields.Text,
            fields.DistinctNumber is { } key ? (key == fields.Number ? null : key) : fields.DistinctText);
    }
}
