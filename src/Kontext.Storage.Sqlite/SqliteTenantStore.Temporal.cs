using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>The Temporal API's reads and writes over attribute_instances (issue 5).</summary>
internal sealed partial class SqliteTenantStore
{
    public ITemporalStore History => this;

    public async Task<IReadOnlyList<TemporalInstance>> ReadInstancesAsync(TemporalReadRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.PerAttributeLimit <= 0) return [];
        var (column, kindFilter) = request.TimeProperty switch
        {
            TemporalTimeProperty.ObservedAt => ("observed_at", "1"),
            TemporalTimeProperty.CreatedAt => ("modified_at", "s.kind <> 'Deleted'"),
            TemporalTimeProperty.DeletedAt => ("modified_at", "s.kind = 'Deleted'"),
            _ => ("modified_at", "1"),
        };
        var order = request.Newest ? "DESC" : "ASC";
        var sql = new StringBuilder();
        var parameters = new List<(string, object?)>();
        // Each series reads only its window, at most the limit, through the (sk, time) index.
        sql.Append($"""
            SELECT h.id, n.iri, {InstanceColumns}, i.{column}
            FROM history_entities h JOIN temporal_series ta ON ta.hk = h.hk JOIN names n ON n.nid = ta.attr
            JOIN attribute_instances i ON i.seq IN (
                SELECT s.seq FROM attribute_instances s
                WHERE s.sk = ta.sk AND s.{column} IS NOT NULL AND {kindFilter}
            """);
        if (request.From is { } from)
        {
            sql.Append($" AND s.{column} {(request.FromInclusive ? ">=" : ">")} $from");
            parameters.Add(("$from", Validate.Format(from)));
        }
        if (request.To is { } to)
        {
            sql.Append($" AND s.{column} < $to");
            parameters.Add(("$to", Validate.Format(to)));
        }
        if (request.DatasetIds is { } datasets) sql.Append(" AND ").Append(DatasetFilter("s", datasets, parameters));
        sql.Append($" ORDER BY s.{column} {order}, s.seq {order} LIMIT $limit)");
        parameters.Add(("$limit", request.PerAttributeLimit));
        sql.Append(" WHERE h.id IN ").Append(InList("$e", request.EntityIds, parameters));
        if (request.Attributes is { } attributes)
        {
            if (attributes.Count == 0) return [];
            sql.Append(" AND ta.attr IN ").Append(NameIds("$a", attributes, parameters));
        }
        sql.Append(" ORDER BY h.id, n.iri, i.").Append(column).Append(", i.seq");

        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, sql.ToString(), [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var instances = new List<TemporalInstance>();
        while (await reader.ReadAsync(cancellationToken)) instances.Add(new TemporalInstance(ReadInstance(reader), ParseTime(reader.GetString(9))));
        return instances;
    }

    public async Task<IReadOnlyList<PeriodStatistics>> AggregateAsync(TemporalAggregateRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.Attributes is { Count: 0 }) return [];
        if (request.TimeProperty is not (TemporalTimeProperty.ObservedAt or TemporalTimeProperty.CreatedAt))
            throw new ArgumentException("aggregation in the store covers observedAt and createdAt windows", nameof(request));
        var column = request.TimeProperty == TemporalTimeProperty.ObservedAt ? "observed_at" : "modified_at";
        var parameters = new List<(string, object?)>();
        var where = new StringBuilder($"i.{column} IS NOT NULL AND i.kind <> 'Deleted' AND i.doc IS NOT NULL AND h.id IN ");
        where.Append(InList("$e", request.EntityIds, parameters));
        if (request.Attributes is { } attributes) where.Append(" AND ts.attr IN ").Append(NameIds("$a", attributes, parameters));
        if (request.DatasetIds is { } datasets) where.Append(" AND ").Append(DatasetFilter("i", datasets, parameters));
        if (request.From is { } from)
        {
            where.Append($" AND i.{column} {(request.FromInclusive ? ">=" : ">")} $from");
            parameters.Add(("$from", Validate.Format(from)));
            parameters.Add(("$start", from.ToUnixTimeMilliseconds()));
        }
        if (request.To is { } to)
        {
            where.Append($" AND i.{column} < $to");
            parameters.Add(("$to", Validate.Format(to)));
        }
        var periodMs = (long)request.Period.TotalMilliseconds;
        parameters.Add(("$period", periodMs));
        var start = request.From is null ? "first_ms" : "$start";
        var period = periodMs <= 0 ? "0" : $"(ms - {start}) / $period";
        // Without a window start the periods count from each series' first sample: the one window function needed.
        var firstSample = request.From is null ? ", MIN(ms) OVER (PARTITION BY e, a, ds) AS first_ms" : "";
        // Plain sample columns (written with each instance), one GROUP BY; a period's attribute type is that of its
        // latest sample, looked up once per period through the (entity, attribute, time) index.
        var sql = $"""
            WITH w AS (
                SELECT h.id AS e, n.iri AS a, ts.sk AS sk, i.dataset_id AS ds, i.{column} AS t,
                       CAST(round((julianday(i.{column}) - 2440587.5) * 86400000.0) AS INTEGER) AS ms,
                       i.sample_num AS num, i.sample_str AS str, COALESCE(i.sample_key, i.sample_num) AS dk
                FROM history_entities h JOIN temporal_series ts ON ts.hk = h.hk JOIN names n ON n.nid = ts.attr
                JOIN attribute_instances i ON i.sk = ts.sk WHERE {where}
            ), s AS (
                SELECT w.*{firstSample} FROM w
            ), g AS (
                SELECT e, a, sk, ds, {period} AS k, MIN(ms) AS first_ms, MAX(ms) AS last_ms, MAX(t) AS last_t,
                       COUNT(*) AS n, COUNT(DISTINCT dk) AS d, COUNT(num) AS nn, TOTAL(num) AS total, TOTAL(num * num) AS squares,
                       MIN(num) AS min_num, MAX(num) AS max_num, MIN(str) AS min_str, MAX(str) AS max_str
                FROM s GROUP BY e, a, sk, ds, k
            )
            SELECT e, a, ds,
                   COALESCE((SELECT x.sample_type FROM attribute_instances x
                             WHERE x.sk = g.sk AND x.{column} = g.last_t AND x.dataset_id IS g.ds AND x.kind <> 'Deleted'
                             ORDER BY x.seq DESC LIMIT 1), 'Property'),
                   k, first_ms, last_ms, n, d, nn, total, squares, min_num, max_num, min_str, max_str
            FROM g ORDER BY e, a, ds IS NOT NULL, ds, k
            """;
        // A pooled reader's prepared statement: preparing this statement per request cost a fifth of an aggregation.
        await using var connection = await RentReaderAsync(cancellationToken);
        await using var reader = await connection.Command(sql, parameters).ExecuteReaderAsync(cancellationToken);
        var rows = new List<PeriodStatistics>();
        while (await reader.ReadAsync(cancellationToken))
        {
            double? Real(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(new PeriodStatistics(reader.GetString(0), reader.GetString(1), Text(2), reader.GetString(3), reader.GetInt64(4),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
                new Kontext.Ngsi.Temporal.PeriodFigures(reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetDouble(10), reader.GetDouble(11),
                    Real(12), Real(13), Text(14), Text(15))));
        }
        return rows;
    }

    public async Task<IReadOnlyList<BucketStatistics>?> ReadBucketsAsync(TemporalBucketRequest request, CancellationToken cancellationToken)
    {
        if (request.EntityIds.Count == 0 || request.Attributes is { Count: 0 } || request.To <= request.From) return [];
        var parameters = new List<(string, object?)> { ("$g", SqliteBucketSchema.Code(request.Granularity)), ("$from", request.From.ToUnixTimeMilliseconds()) };
        // Times are milliseconds since the epoch; a NULL type is a Property (schema step 10).
        var sql = new StringBuilder("SELECT h.id, n.iri, b.ds, b.start, b.first_t, b.last_t, COALESCE(b.last_type, 'Property'), b.n, b.nn, b.total, b.squares, b.min_num, b.max_num, b.min_str, b.max_str"
            + " FROM history_entities h JOIN temporal_series ts ON ts.hk = h.hk JOIN names n ON n.nid = ts.attr JOIN temporal_buckets b ON b.sk = ts.sk"
            + " WHERE h.id IN ");
        sql.Append(InList("$e", request.EntityIds, parameters));
        if (request.Attributes is { } attributes) sql.Append(" AND ts.attr IN ").Append(NameIds("$a", attributes, parameters));
        sql.Append(" AND b.g = $g AND b.start >= $from");
        if (request.To is { } to)
        {
            sql.Append(" AND b.start < $to");
            parameters.Add(("$to", to.ToUnixTimeMilliseconds()));
        }
        // The default instance is keyed '' in the bucket table.
        if (request.DatasetIds is { } datasets) sql.Append(" AND b.ds IN ").Append(InList("$d", datasets.Select(d => d ?? ""), parameters));
        sql.Append(" ORDER BY h.id, n.iri, b.ds, b.start");
        await using var connection = await RentReaderAsync(cancellationToken);
        await using var reader = await connection.Command(sql.ToString(), parameters).ExecuteReaderAsync(cancellationToken);
        var buckets = new List<BucketStatistics>();
        while (await reader.ReadAsync(cancellationToken))
        {
            double? Real(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            var dataset = reader.GetString(2);
            buckets.Add(new BucketStatistics(reader.GetString(0), reader.GetString(1), dataset.Length == 0 ? null : dataset,
                Time(reader.GetInt64(3)), Time(reader.GetInt64(4)), Time(reader.GetInt64(5)), reader.GetString(6),
                new Kontext.Ngsi.Temporal.PeriodFigures(reader.GetInt64(7), 0, reader.GetInt64(8), reader.GetDouble(9), reader.GetDouble(10),
                    Real(11), Real(12), Text(13), Text(14))));
        }
        return buckets;

        static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }

    /// <summary>The rows of <paramref name="alias"/> whose datasetId is one of <paramref name="datasets"/> (null: the default instance).</summary>
    private static string DatasetFilter(string alias, IReadOnlySet<string?> datasets, List<(string, object?)> parameters)
    {
        var named = datasets.Where(d => d is not null).Select(d => d!).ToList();
        var terms = new List<string>();
        if (named.Count > 0) terms.Add($"{alias}.dataset_id IN " + InList("$d", named, parameters));
        if (datasets.Contains(null)) terms.Add($"{alias}.dataset_id IS NULL");
        return terms.Count == 0 ? "0" : "(" + string.Join(" OR ", terms) + ")";
    }

    /// <summary>"(SELECT nid FROM names WHERE iri IN ($p0, …))": the name ids of the given IRIs.</summary>
    private static string NameIds(string prefix, IEnumerable<string> iris, List<(string, object?)> parameters) =>
        "(SELECT nid FROM names WHERE iri IN " + InList(prefix, iris, parameters) + ")";

    /// <summary>"($p0, $p1, …)" for the values, each bound as a parameter named by <paramref name="prefix"/> and its position.</summary>
    private static string InList(string prefix, IEnumerable<string> values, List<(string, object?)> parameters)
    {
        var names = new List<string>();
        foreach (var value in values)
        {
            names.Add(prefix + names.Count);
            parameters.Add((names[^1], value));
        }
        return "(" + string.Join(", ", names) + ")";
    }

    public async Task<DeletedEntity?> GetDeletedEntityAsync(string entityId, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT doc, deleted_at FROM deleted_entities WHERE id = $id", ("$id", entityId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new DeletedEntity(SqliteEntityForm.Decode(reader.GetString(0)), ParseTime(reader.GetString(1)));
    }

    public Task<(T Result, long Purged)> WriteAndPurgeAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, HistoryPurge purge, CancellationToken cancellationToken) =>
        Enqueue(connection =>
        {
            var result = ApplyWrite(connection, entityId, decide);
            long purged;
            // The purged series' buckets go first, so the per-row delete trigger finds none to recompute.
            // A series without instances goes too; its key (and the entity's, once it has none) may then be given again.
            if (purge.Attribute is null)
            {
                Execute(connection, $"DELETE FROM temporal_buckets WHERE sk IN {SqliteHistorySchema.SeriesOfEntity}", ("$id", entityId));
                purged = Execute(connection, $"DELETE FROM attribute_instances WHERE sk IN {SqliteHistorySchema.SeriesOfEntity}", ("$id", entityId));
                Execute(connection, "DELETE FROM temporal_series WHERE hk = (SELECT hk FROM history_entities WHERE id = $id)", ("$id", entityId));
                Execute(connection, SqliteHistoryKeySchema.ForgetSql, ("$id", entityId));
                Execute(connection, "DELETE FROM history_entities WHERE id = $id", ("$id", entityId));
                purged += Execute(connection, "DELETE FROM deleted_entities WHERE id = $id", ("$id", entityId));
            }
            else
            {
                var series = SqliteHistorySchema.SeriesOf;
                var filter = purge.AnyDataset ? "" : purge.DatasetId is null ? " AND dataset_id IS NULL" : " AND dataset_id = $dataset";
                Execute(connection, $"DELETE FROM temporal_buckets WHERE sk = {series}" + (purge.AnyDataset ? "" : " AND ds = $ds"),
                    ("$id", entityId), ("$attr", purge.Attribute), ("$ds", purge.DatasetId ?? ""));
                purged = Execute(connection, $"DELETE FROM attribute_instances WHERE sk = {series}" + filter,
                    ("$id", entityId), ("$attr", purge.Attribute), ("$dataset", purge.DatasetId));
                Execute(connection, $"""
                    DELETE FROM temporal_series WHERE sk = {series} AND NOT EXISTS (SELECT 1 FROM attribute_instances WHERE sk = {series})
                    """, ("$id", entityId), ("$attr", purge.Attribute));
            }
            return (result, purged);
        }, cancellationToken);

    public Task<bool> ReplaceInstanceAsync(string entityId, string attribute, string instanceId, JsonObject instance, DateTimeOffset modifiedAt, CancellationToken cancellationToken)
    {
        var observedAt = instance["observedAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var observed)
            ? Validate.Format(observed) : null;
        var modified = Validate.Format(modifiedAt);
        var stored = SqliteInstanceForm.OfInstance(instance, observedAt, modified);
        return Enqueue(connection => Execute(connection, $"""
            UPDATE attribute_instances SET doc = $doc, trimmed = $trimmed, observed_at = $observed, modified_at = $modified, dataset_id = $dataset,
                sample_type = $t, sample_num = $n, sample_str = $s, sample_key = $k
            WHERE sk = {SqliteHistorySchema.SeriesOf} AND instance_id = $instance AND kind <> 'Deleted'
            """,
            [("$doc", stored.Text), ("$trimmed", stored.Trimmed), ("$observed", observedAt), ("$modified", modified),
            ("$dataset", Attr.DatasetId(instance)), ("$id", entityId), ("$attr", attribute), ("$instance", SqliteInstanceForm.Stored(instanceId)),
            .. SqliteTemporalSchema.SampleParameters(instance)]) > 0, cancellationToken);
    }

    public Task<bool> DeleteInstanceAsync(string entityId, string attribute, string instanceId, CancellationToken cancellationToken) =>
        Enqueue(connection => Execute(connection,
            $"DELETE FROM attribute_instances WHERE sk = {SqliteHistorySchema.SeriesOf} AND instance_id = $instance",
            ("$id", entityId), ("$attr", attribute), ("$instance", SqliteInstanceForm.Stored(instanceId))) > 0, cancellationToken);

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = SqliteDatabase.Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }
}
