using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 9 (issue 12, storage size): the history names its series by integers. Each instance row repeated its
/// entity id and expanded attribute IRI (~90 bytes) in the row and again in both time indexes, a 63-character instance
/// id, and the system times of its JSON that are also columns. Now:
/// <list type="bullet">
/// <item><c>history_entities</c>: an integer <c>hk</c> per entity id with history. Not <c>entities.ek</c>: history
/// outlives the entity row (deletedAt, a re-created entity keeps its earlier history), and an ek may be given again.</item>
/// <item><c>temporal_series</c> (was temporal_attributes): an integer <c>sk</c> per (entity, attribute name id from
/// <c>names</c>); the writer adds one with a series' first instance, so no trigger is needed.</item>
/// <item><c>attribute_instances</c> and <c>temporal_buckets</c> keyed by <c>sk</c>; the instance id and document in the
/// form of <see cref="SqliteInstanceForm"/>; <c>sample_type</c> NULL for a Property (every reader takes NULL as one), and
/// <c>sample_key</c> NULL when it is the sample's number (readers take <c>COALESCE(sample_key, sample_num)</c>).</item>
/// </list>
/// The step rebuilds the history tables from the old rows (seq kept, so the order of instances is), the buckets from
/// the rebuilt history, and trims the stored documents.
/// </summary>
internal static class SqliteHistorySchema
{
    private const string InstanceIdForm =
        $"length(i.instance_id) = 63 AND substr(i.instance_id, 1, 31) = '{SqliteInstanceForm.InstancePrefix}' AND substr(i.instance_id, 32) NOT GLOB '*[^0-9a-f]*'";

    public const string Tables = $"""
        DROP TRIGGER IF EXISTS trg_instances_pair;
        DROP TRIGGER IF EXISTS trg_buckets_insert;
        DROP TRIGGER IF EXISTS trg_buckets_delete;
        DROP TRIGGER IF EXISTS trg_buckets_update;
        DROP TABLE IF EXISTS temporal_buckets;

        CREATE TABLE history_entities(
            hk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE
        );
        INSERT INTO history_entities(id) SELECT entity_id FROM attribute_instances GROUP BY entity_id ORDER BY MIN(seq);

        INSERT OR IGNORE INTO names(iri) SELECT DISTINCT attr FROM attribute_instances;
        CREATE TABLE temporal_series(
            sk INTEGER PRIMARY KEY,
            hk INTEGER NOT NULL,
            attr INTEGER NOT NULL,
            UNIQUE(hk, attr)
        );
        INSERT INTO temporal_series(hk, attr)
            SELECT h.hk, n.nid FROM attribute_instances i JOIN history_entities h ON h.id = i.entity_id JOIN names n ON n.iri = i.attr
            GROUP BY h.hk, n.nid ORDER BY MIN(i.seq);

        CREATE TABLE attribute_instances_v9(
            seq INTEGER PRIMARY KEY,
            sk INTEGER NOT NULL,
            dataset_id TEXT,
            instance_id BLOB NOT NULL,
            kind TEXT NOT NULL,
            observed_at TEXT,
            modified_at TEXT NOT NULL,
            doc TEXT,
            trimmed INTEGER NOT NULL DEFAULT 0,
            sample_type TEXT,
            sample_num REAL,
            sample_str TEXT,
            sample_key ANY
        );
        INSERT INTO attribute_instances_v9(seq, sk, dataset_id, instance_id, kind, observed_at, modified_at, doc, sample_type, sample_num, sample_str, sample_key)
            SELECT i.seq, s.sk, i.dataset_id,
                   CASE WHEN {InstanceIdForm} THEN unhex(substr(i.instance_id, 32)) ELSE i.instance_id END,
                   i.kind, i.observed_at, i.modified_at, i.doc, NULLIF(i.sample_type, 'Property'), i.sample_num, i.sample_str,
                   CASE WHEN i.sample_key = i.sample_num THEN NULL ELSE i.sample_key END
            FROM attribute_instances i JOIN history_entities h ON h.id = i.entity_id JOIN names n ON n.iri = i.attr
            JOIN temporal_series s ON s.hk = h.hk AND s.attr = n.nid
            ORDER BY i.seq;

        DROP TABLE attribute_instances;
        DROP TABLE IF EXISTS temporal_attributes;
        ALTER TABLE attribute_instances_v9 RENAME TO attribute_instances;
        CREATE INDEX ix_instances_by_modified ON attribute_instances(sk, modified_at);
        CREATE INDEX ix_instances_by_observed ON attribute_instances(sk, observed_at);
        """;

    public static void Apply(SqliteConnection connection)
    {
        SqliteDatabase.Execute(connection, Tables);
        TrimDocuments(connection);
        SqliteBucketSchema.Build(connection, SqliteBucketSchema.BySeries);
    }

    /// <summary>The stored documents lose the members their columns repeat (before the bucket triggers exist: no bucket changes).</summary>
    private static void TrimDocuments(SqliteConnection connection)
    {
        var rows = new List<(long Seq, string Doc, int Trimmed)>();
        using (var select = SqliteDatabase.Command(connection, "SELECT seq, doc, observed_at, modified_at FROM attribute_instances WHERE doc IS NOT NULL"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                // The text's UTF-8 as SQLite holds it, cut where it stands.
                var stored = SqliteInstanceForm.OfWhole(reader.GetFieldValue<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
                if (stored.Trimmed != 0) rows.Add((reader.GetInt64(0), stored.Text!, stored.Trimmed));
            }
        }
        using var update = SqliteDatabase.Command(connection, "UPDATE attribute_instances SET doc = $doc, trimmed = $trimmed WHERE seq = $seq",
            ("$doc", ""), ("$trimmed", 0), ("$seq", 0L));
        foreach (var (seq, doc, trimmed) in rows)
        {
            update.Parameters["$doc"].Value = doc;
            update.Parameters["$trimmed"].Value = trimmed;
            update.Parameters["$seq"].Value = seq;
            update.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The series key of (<paramref name="entityId"/>, <paramref name="attribute"/>), added with its entity key when new,
    /// inside the caller's transaction. Not cached: a rolled-back series' key may be given to the next.
    /// </summary>
    public static long SeriesKey(SqliteConnection connection, string entityId, string attribute)
    {
        var attr = SqliteNameSchema.Id(connection, attribute);
        if (SqliteDatabase.Cached(connection, """
                SELECT s.sk FROM history_entities h JOIN temporal_series s ON s.hk = h.hk AND s.attr = $attr WHERE h.id = $id
                """, ("$id", entityId), ("$attr", attr)).ExecuteScalar() is long known)
            return known;
        var hk = SqliteDatabase.Cached(connection, "SELECT hk FROM history_entities WHERE id = $id", ("$id", entityId)).ExecuteScalar() as long?
                 ?? (long)SqliteDatabase.Cached(connection, "INSERT INTO history_entities(id) VALUES($id) RETURNING hk", ("$id", entityId)).ExecuteScalar()!;
        return (long)SqliteDatabase.Cached(connection, "INSERT INTO temporal_series(hk, attr) VALUES($hk, $attr) RETURNING sk", ("$hk", hk), ("$attr", attr)).ExecuteScalar()!;
    }

    /// <summary>The series key of an entity's attribute, as an SQL expression over the parameters $id and $attr: NULL when it has none.</summary>
    public const string SeriesOf = "(SELECT s.sk FROM history_entities h JOIN temporal_series s ON s.hk = h.hk WHERE h.id = $id AND s.attr = (SELECT nid FROM names WHERE iri = $attr))";

    /// <summary>The series keys of an entity, as an SQL list over the parameter $id.</summary>
    public const string SeriesOfEntity = "(SELECT s.sk FROM history_entities h JOIN temporal_series s ON s.hk = h.hk WHERE h.id = $id)";
}
