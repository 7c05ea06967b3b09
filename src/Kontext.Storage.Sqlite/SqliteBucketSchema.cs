using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Pre-aggregated buckets (issue 12, item 3; <see cref="Kontext.Ngsi.Temporal.Buckets"/>): <c>temporal_buckets</c> holds,
/// per (entity, attribute, granularity 'H' or 'D', datasetId or '' for the default instance, UTC bucket start), the figures
/// of the bucket's observedAt samples: count, numeric count, sum, sum of squares, numeric and text minimum and maximum,
/// first and last sample time and the attribute type of the latest sample. Triggers on <c>attribute_instances</c> keep it,
/// so every write path (entity writes, temporal creates and appends, instance modify and delete, purges) maintains it in
/// its own transaction:
/// <list type="bullet">
/// <item>an inserted sample adds itself to its hour and its day (two upserts);</item>
/// <item>a deleted or modified instance has its old and new buckets recomputed from their instances (at most a bucket's
/// samples, read through ix_instances_by_observed), not decremented, so no rounding drift accumulates and minima stay exact.
/// An old bucket is recomputed only while it exists: a purge drops a series' buckets first, and the per-row triggers of
/// the purge then find nothing to do.</item>
/// </list>
/// Keyed by the history's series (schema step 9), which outlives the entity row and its integer key.
/// </summary>
internal static class SqliteBucketSchema
{
    private static readonly (string Code, string Start, string Span)[] Granularities =
    [
        ("H", "strftime('%Y-%m-%dT%H:00:00.000Z', {0})", "+1 hours"),
        ("D", "strftime('%Y-%m-%dT00:00:00.000Z', {0})", "+1 days"),
    ];

    public static string Code(Kontext.Ngsi.Temporal.BucketGranularity granularity) => granularity == Kontext.Ngsi.Temporal.BucketGranularity.Day ? "D" : "H";

    /// <summary>
    /// How a history row names its series. Step 8 keyed the buckets like the history rows of then, by entity id and
    /// attribute IRI; step 9 by the series key <c>sk</c> of <see cref="SqliteHistorySchema"/>. A released step keeps
    /// running on files of its own time, so both stay.
    /// </summary>
    internal sealed record Layout(string[] Keys, string KeyDefinitions)
    {
        public string KeyList => string.Join(", ", Keys);
        public string KeysOf(string row) => string.Join(", ", Keys.Select(k => $"{row}.{k}"));
        public string SameSeries(string alias, string row) => string.Join(" AND ", Keys.Select(k => $"{alias}.{k} = {row}.{k}"));
    }

    public static readonly Layout ByEntityAndAttribute = new(["entity_id", "attr"], "entity_id TEXT NOT NULL, attr TEXT NOT NULL,");
    public static readonly Layout BySeries = new(["sk"], "sk INTEGER NOT NULL,");

    private const string FigureColumns = "g, ds, start, n, nn, total, squares, min_num, max_num, min_str, max_str, first_t, last_t, last_type";

    private static string Columns(Layout layout) => layout.KeyList + ", " + FigureColumns;

    private const string Sample = "i.observed_at IS NOT NULL AND i.kind <> 'Deleted' AND i.doc IS NOT NULL";

    /// <summary>The figures (n … last_type) of the samples of one series in [start, start + span), as one row.</summary>
    private static string Figures(Layout layout, string row, string dataset, string start, string span) => $"""
        SELECT COUNT(*) AS n, COUNT(i.sample_num) AS nn, TOTAL(i.sample_num) AS total, TOTAL(i.sample_num * i.sample_num) AS squares,
               MIN(i.sample_num) AS min_num, MAX(i.sample_num) AS max_num, MIN(i.sample_str) AS min_str, MAX(i.sample_str) AS max_str,
               COALESCE(MIN(i.observed_at), '') AS first_t, COALESCE(MAX(i.observed_at), '') AS last_t,
               COALESCE((SELECT i.sample_type FROM attribute_instances i
                         WHERE {layout.SameSeries("i", row)} AND i.dataset_id IS {dataset} AND {Sample}
                           AND i.observed_at >= {start} AND i.observed_at < strftime('%Y-%m-%dT%H:%M:%fZ', {start}, '{span}')
                         ORDER BY i.observed_at DESC, i.seq DESC LIMIT 1), 'Property') AS last_type
        FROM attribute_instances i
        WHERE {layout.SameSeries("i", row)} AND i.dataset_id IS {dataset} AND {Sample}
          AND i.observed_at >= {start} AND i.observed_at < strftime('%Y-%m-%dT%H:%M:%fZ', {start}, '{span}')
        """;

    private static string Key(Layout layout, string row, string code, string start) =>
        $"{string.Join(" AND ", layout.Keys.Select(k => $"{k} = {row}.{k}"))} AND g = '{code}' AND ds = COALESCE({row}.dataset_id, '') AND start = {start}";

    private static string Add(Layout layout, string code, string startFormat)
    {
        var start = string.Format(startFormat, "new.observed_at");
        return $"""
            INSERT INTO temporal_buckets({Columns(layout)})
            VALUES({layout.KeysOf("new")}, '{code}', COALESCE(new.dataset_id, ''), {start}, 1, new.sample_num IS NOT NULL,
                   COALESCE(new.sample_num, 0), COALESCE(new.sample_num * new.sample_num, 0), new.sample_num, new.sample_num,
                   new.sample_str, new.sample_str, new.observed_at, new.observed_at, COALESCE(new.sample_type, 'Property'))
            ON CONFLICT DO UPDATE SET n = n + 1, nn = nn + excluded.nn, total = total + excluded.total, squares = squares + excluded.squares,
                min_num = MIN(COALESCE(min_num, excluded.min_num), COALESCE(excluded.min_num, min_num)),
                max_num = MAX(COALESCE(max_num, excluded.max_num), COALESCE(excluded.max_num, max_num)),
                min_str = MIN(COALESCE(min_str, excluded.min_str), COALESCE(excluded.min_str, min_str)),
                max_str = MAX(COALESCE(max_str, excluded.max_str), COALESCE(excluded.max_str, max_str)),
                first_t = MIN(first_t, excluded.first_t),
                last_type = CASE WHEN excluded.last_t >= last_t THEN excluded.last_type ELSE last_type END,
                last_t = MAX(last_t, excluded.last_t);
            """;
    }

    /// <summary>Recomputes the old row's bucket if it exists; drops it when no sample is left.</summary>
    private static string RecomputeOld(Layout layout, string code, string startFormat, string span)
    {
        var start = string.Format(startFormat, "old.observed_at");
        return $"""
            UPDATE temporal_buckets SET (n, nn, total, squares, min_num, max_num, min_str, max_str, first_t, last_t, last_type) =
                ({Figures(layout, "old", "old.dataset_id", "temporal_buckets.start", span)})
            WHERE {Key(layout, "old", code, start)};
            DELETE FROM temporal_buckets WHERE {Key(layout, "old", code, start)} AND n = 0;
            """;
    }

    /// <summary>Rebuilds the new row's bucket from its instances.</summary>
    private static string RebuildNew(Layout layout, string code, string startFormat, string span)
    {
        var start = string.Format(startFormat, "new.observed_at");
        return $"""
            DELETE FROM temporal_buckets WHERE {Key(layout, "new", code, start)};
            INSERT INTO temporal_buckets({Columns(layout)})
            SELECT {layout.KeysOf("new")}, '{code}', COALESCE(new.dataset_id, ''), {start}, f.* FROM ({Figures(layout, "new", "new.dataset_id", start, span)}) f
            WHERE {start} IS NOT NULL AND f.n > 0;
            """;
    }

    public static string Tables(Layout layout) => $"""
        CREATE TABLE IF NOT EXISTS temporal_buckets(
            {layout.KeyDefinitions}
            g TEXT NOT NULL,
            ds TEXT NOT NULL,
            start TEXT NOT NULL,
            n INTEGER NOT NULL,
            nn INTEGER NOT NULL,
            total REAL NOT NULL,
            squares REAL NOT NULL,
            min_num REAL,
            max_num REAL,
            min_str TEXT,
            max_str TEXT,
            first_t TEXT NOT NULL,
            last_t TEXT NOT NULL,
            last_type TEXT NOT NULL,
            PRIMARY KEY({layout.KeyList}, g, ds, start)
        ) WITHOUT ROWID;
        CREATE TRIGGER IF NOT EXISTS trg_buckets_insert AFTER INSERT ON attribute_instances
        WHEN new.observed_at IS NOT NULL AND new.kind <> 'Deleted' AND new.doc IS NOT NULL
        BEGIN
            {string.Join("\n", Granularities.Select(g => Add(layout, g.Code, g.Start)))}
        END;
        CREATE TRIGGER IF NOT EXISTS trg_buckets_delete AFTER DELETE ON attribute_instances
        WHEN old.observed_at IS NOT NULL AND old.kind <> 'Deleted' AND old.doc IS NOT NULL
        BEGIN
            {string.Join("\n", Granularities.Select(g => RecomputeOld(layout, g.Code, g.Start, g.Span)))}
        END;
        CREATE TRIGGER IF NOT EXISTS trg_buckets_update AFTER UPDATE OF doc, observed_at, dataset_id, kind, sample_type, sample_num, sample_str ON attribute_instances
        BEGIN
            {string.Join("\n", Granularities.Select(g => RecomputeOld(layout, g.Code, g.Start, g.Span)))}
            {string.Join("\n", Granularities.Select(g => RebuildNew(layout, g.Code, g.Start, g.Span)))}
        END;
        """;

    /// <summary>Schema step 8: the table and its triggers, and the buckets of the history already stored.</summary>
    public static void Apply(SqliteConnection connection) => Build(connection, ByEntityAndAttribute);

    /// <summary>The bucket table and its triggers in <paramref name="layout"/>, filled from the history stored.</summary>
    public static void Build(SqliteConnection connection, Layout layout)
    {
        SqliteDatabase.Execute(connection, Tables(layout));
        foreach (var (code, startFormat, span) in Granularities)
        {
            var start = string.Format(startFormat, "i.observed_at");
            SqliteDatabase.Execute(connection, $"""
                INSERT INTO temporal_buckets({Columns(layout)})
                SELECT {layout.KeysOf("i")}, '{code}', COALESCE(i.dataset_id, ''), {start} AS s, COUNT(*), COUNT(i.sample_num), TOTAL(i.sample_num),
                       TOTAL(i.sample_num * i.sample_num), MIN(i.sample_num), MAX(i.sample_num), MIN(i.sample_str), MAX(i.sample_str),
                       MIN(i.observed_at), MAX(i.observed_at), 'Property'
                FROM attribute_instances i WHERE {Sample}
                GROUP BY {layout.KeysOf("i")}, COALESCE(i.dataset_id, ''), s;
                UPDATE temporal_buckets SET last_type = COALESCE((SELECT i.sample_type FROM attribute_instances i
                    WHERE {layout.SameSeries("i", "temporal_buckets")} AND i.dataset_id IS NULLIF(temporal_buckets.ds, '')
                      AND {Sample} AND i.observed_at >= temporal_buckets.start AND i.observed_at < strftime('%Y-%m-%dT%H:%M:%fZ', temporal_buckets.start, '{span}')
                    ORDER BY i.observed_at DESC, i.seq DESC LIMIT 1), 'Property')
                WHERE g = '{code}';
                """);
        }
    }
}
