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
    /// How a history row names its series and how a bucket holds its times. Step 8 keyed the buckets like the history
    /// rows of then, by entity id and attribute IRI; step 9 by the series key <c>sk</c> of <see cref="SqliteHistorySchema"/>;
    /// both with the times as text. Step 10 holds <c>start</c>, <c>first_t</c> and <c>last_t</c> as integer milliseconds
    /// since the epoch (6 bytes each instead of 24) and <c>last_type</c> NULL for a Property. A released step keeps
    /// running on files of its own time, so every layout stays.
    /// </summary>
    internal sealed record Layout(string[] Keys, string KeyDefinitions, bool Milliseconds = false)
    {
        public string KeyList => string.Join(", ", Keys);
        public string KeysOf(string row) => string.Join(", ", Keys.Select(k => $"{row}.{k}"));
        public string SameSeries(string alias, string row) => string.Join(" AND ", Keys.Select(k => $"{alias}.{k} = {row}.{k}"));

        /// <summary>A stored time (text, as in observed_at) in the bucket's form.</summary>
        public string Time(string text) => Milliseconds ? InMilliseconds(text) : text;

        /// <summary>A bucket's stored start as text, to compare with observed_at.</summary>
        public string StartText(string stored) => Milliseconds ? $"strftime('%Y-%m-%dT%H:%M:%fZ', {stored} / 1000.0, 'unixepoch')" : stored;

        /// <summary>The attribute type of a sample as the bucket keeps it.</summary>
        public string Type(string sampleType) => Milliseconds ? $"NULLIF({sampleType}, 'Property')" : $"COALESCE({sampleType}, 'Property')";

        public string TimeType => Milliseconds ? "INTEGER" : "TEXT";
        public string NoTime => Milliseconds ? "0" : "''";
    }

    public static readonly Layout ByEntityAndAttribute = new(["entity_id", "attr"], "entity_id TEXT NOT NULL, attr TEXT NOT NULL,");
    public static readonly Layout BySeries = new(["sk"], "sk INTEGER NOT NULL,");
    public static readonly Layout BySeriesInMilliseconds = new(["sk"], "sk INTEGER NOT NULL,", Milliseconds: true);

    /// <summary>Milliseconds since the epoch of a time in the stored text form (exact: SQLite's julian day counts whole milliseconds).</summary>
    internal static string InMilliseconds(string text) => $"CAST(round((julianday({text}) - 2440587.5) * 86400000.0) AS INTEGER)";

    private const string FigureColumns = "g, ds, start, n, nn, total, squares, min_num, max_num, min_str, max_str, first_t, last_t, last_type";

    private static string Columns(Layout layout) => layout.KeyList + ", " + FigureColumns;

    private const string Sample = "i.observed_at IS NOT NULL AND i.kind <> 'Deleted' AND i.doc IS NOT NULL";

    /// <summary>The figures (n … last_type) of the samples of one series in [start, start + span), <paramref name="start"/> as text.</summary>
    private static string Figures(Layout layout, string row, string dataset, string start, string span)
    {
        var inBucket = $"""
            {layout.SameSeries("i", row)} AND i.dataset_id IS {dataset} AND {Sample}
              AND i.observed_at >= {start} AND i.observed_at < strftime('%Y-%m-%dT%H:%M:%fZ', {start}, '{span}')
            """;
        var latestType = layout.Type($"(SELECT i.sample_type FROM attribute_instances i WHERE {inBucket} ORDER BY i.observed_at DESC, i.seq DESC LIMIT 1)");
        return $"""
            SELECT COUNT(*) AS n, COUNT(i.sample_num) AS nn, TOTAL(i.sample_num) AS total, TOTAL(i.sample_num * i.sample_num) AS squares,
                   MIN(i.sample_num) AS min_num, MAX(i.sample_num) AS max_num, MIN(i.sample_str) AS min_str, MAX(i.sample_str) AS max_str,
                   COALESCE({layout.Time("MIN(i.observed_at)")}, {layout.NoTime}) AS first_t, COALESCE({layout.Time("MAX(i.observed_at)")}, {layout.NoTime}) AS last_t,
                   {latestType} AS last_type
            FROM attribute_instances i
            WHERE {inBucket}
            """;
    }

    /// <summary>The start of the bucket of a stored time, in the bucket's form.</summary>
    private static string StartOf(Layout layout, string startFormat, string time) => layout.Time(string.Format(startFormat, time));

    private static string Key(Layout layout, string row, string code, string start) =>
        $"{string.Join(" AND ", layout.Keys.Select(k => $"{k} = {row}.{k}"))} AND g = '{code}' AND ds = COALESCE({row}.dataset_id, '') AND start = {start}";

    private static string Add(Layout layout, string code, string startFormat)
    {
        var start = StartOf(layout, startFormat, "new.observed_at");
        var time = layout.Time("new.observed_at");
        return $"""
            INSERT INTO temporal_buckets({Columns(layout)})
            VALUES({layout.KeysOf("new")}, '{code}', COALESCE(new.dataset_id, ''), {start}, 1, new.sample_num IS NOT NULL,
                   COALESCE(new.sample_num, 0), COALESCE(new.sample_num * new.sample_num, 0), new.sample_num, new.sample_num,
                   new.sample_str, new.sample_str, {time}, {time}, {layout.Type("new.sample_type")})
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
        var start = StartOf(layout, startFormat, "old.observed_at");
        return $"""
            UPDATE temporal_buckets SET (n, nn, total, squares, min_num, max_num, min_str, max_str, first_t, last_t, last_type) =
                ({Figures(layout, "old", "old.dataset_id", layout.StartText("temporal_buckets.start"), span)})
            WHERE {Key(layout, "old", code, start)};
            DELETE FROM temporal_buckets WHERE {Key(layout, "old", code, start)} AND n = 0;
            """;
    }

    /// <summary>Rebuilds the new row's bucket from its instances.</summary>
    private static string RebuildNew(Layout layout, string code, string startFormat, string span)
    {
        var startText = string.Format(startFormat, "new.observed_at");
        var start = layout.Time(startText);
        return $"""
            DELETE FROM temporal_buckets WHERE {Key(layout, "new", code, start)};
            INSERT INTO temporal_buckets({Columns(layout)})
            SELECT {layout.KeysOf("new")}, '{code}', COALESCE(new.dataset_id, ''), {start}, f.* FROM ({Figures(layout, "new", "new.dataset_id", startText, span)}) f
            WHERE {startText} IS NOT NULL AND f.n > 0;
            """;
    }

    public static string Tables(Layout layout) => $"""
        CREATE TABLE IF NOT EXISTS temporal_buckets(
            {layout.KeyDefinitions}
            g TEXT NOT NULL,
            ds TEXT NOT NULL,
            start {layout.TimeType} NOT NULL,
            n INTEGER NOT NULL,
            nn INTEGER NOT NULL,
            total REAL NOT NULL,
            squares REAL NOT NULL,
            min_num REAL,
            max_num REAL,
            min_str TEXT,
            max_str TEXT,
            first_t {layout.TimeType} NOT NULL,
            last_t {layout.TimeType} NOT NULL,
            last_type TEXT{(layout.Milliseconds ? "" : " NOT NULL")},
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

    /// <summary>
    /// Schema step 10: the buckets' times as integer milliseconds, converted row by row (the text held each time to the
    /// millisecond, so the conversion is exact), and the triggers that keep them so.
    /// </summary>
    public static void ApplyMilliseconds(SqliteConnection connection)
    {
        var layout = BySeriesInMilliseconds;
        SqliteDatabase.Execute(connection, $"""
            DROP TRIGGER IF EXISTS trg_buckets_insert;
            DROP TRIGGER IF EXISTS trg_buckets_delete;
            DROP TRIGGER IF EXISTS trg_buckets_update;
            ALTER TABLE temporal_buckets RENAME TO temporal_buckets_v9;
            {Tables(layout)}
            INSERT INTO temporal_buckets({Columns(layout)})
                SELECT sk, g, ds, {InMilliseconds("start")}, n, nn, total, squares, min_num, max_num, min_str, max_str,
                       {InMilliseconds("first_t")}, {InMilliseconds("last_t")}, NULLIF(last_type, 'Property')
                FROM temporal_buckets_v9;
            DROP TABLE temporal_buckets_v9;
            """);
    }

    /// <summary>The bucket table and its triggers in <paramref name="layout"/>, filled from the history stored.</summary>
    public static void Build(SqliteConnection connection, Layout layout)
    {
        SqliteDatabase.Execute(connection, Tables(layout));
        foreach (var (code, startFormat, span) in Granularities)
        {
            var start = layout.StartText("temporal_buckets.start");
            var latestType = layout.Type($"""
                (SELECT i.sample_type FROM attribute_instances i
                 WHERE {layout.SameSeries("i", "temporal_buckets")} AND i.dataset_id IS NULLIF(temporal_buckets.ds, '')
                   AND {Sample} AND i.observed_at >= {start} AND i.observed_at < strftime('%Y-%m-%dT%H:%M:%fZ', {start}, '{span}')
                 ORDER BY i.observed_at DESC, i.seq DESC LIMIT 1)
                """);
            SqliteDatabase.Execute(connection, $"""
                INSERT INTO temporal_buckets({Columns(layout)})
                SELECT {layout.KeysOf("i")}, '{code}', COALESCE(i.dataset_id, ''), {StartOf(layout, startFormat, "i.observed_at")} AS s, COUNT(*), COUNT(i.sample_num), TOTAL(i.sample_num),
                       TOTAL(i.sample_num * i.sample_num), MIN(i.sample_num), MAX(i.sample_num), MIN(i.sample_str), MAX(i.sample_str),
                       {layout.Time("MIN(i.observed_at)")}, {layout.Time("MAX(i.observed_at)")}, {layout.Type("NULL")}
                FROM attribute_instances i WHERE {Sample}
                GROUP BY {layout.KeysOf("i")}, COALESCE(i.dataset_id, ''), s;
                UPDATE temporal_buckets SET last_type = {latestType} WHERE g = '{code}';
                """);
        }
    }
}
