using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>Entity queries and the type/attribute statistics.</summary>
internal sealed partial class SqliteTenantStore
{
    private const int ScanChunk = 512;
    internal const long ProbeWindowMin = 2_048, ProbeWindowMax = 32_768;

    public Task<EntityPage> QueryAsync(EntityPageRequest request, CancellationToken cancellationToken) =>
        StorageMetrics.TimeQuery("sqlite", () => QueryPageAsync(request, cancellationToken));

    private async Task<EntityPage> QueryPageAsync(EntityPageRequest request, CancellationToken cancellationToken)
    {
        var compiled = SqliteQueryCompiler.Compile(request);
        await using var connection = await OpenReaderAsync(cancellationToken);
        // One read transaction: every chunk and the count see the same snapshot.
        await using var snapshot = connection.BeginTransaction(deferred: true);
        return compiled.IsExact
            ? await QueryExactAsync(connection, compiled, request, cancellationToken)
            : await QueryWithEvaluatorAsync(connection, compiled, request, cancellationToken);
    }

    private static async Task<EntityPage> QueryExactAsync(SqliteConnection connection, CompiledQuery compiled, EntityPageRequest request, CancellationToken cancellationToken)
    {
        long? total = null;
        if (request.Count)
        {
            await using var count = Command(connection, CountSql(compiled), compiled);
            total = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }
        var entities = new List<Entity>(Math.Min(request.Limit, 1000));
        if (request.Limit > 0)
        {
            var rowids = await ProbePageAsync(connection, compiled, request, cancellationToken);
            // Order and page the row ids first, then read only the page's documents: sorting every match's document is what made deep pages slow.
            var pageIds = rowids is null
                ? $"SELECT e.rowid FROM entities e WHERE {compiled.Where} ORDER BY e.rowid LIMIT $limit OFFSET $offset"
                : string.Join(", ", rowids);
            await using var page = Command(connection, $"SELECT doc FROM entities WHERE rowid IN ({pageIds}) ORDER BY rowid", compiled);
            page.Parameters.AddWithValue("$limit", request.Limit);
            page.Parameters.AddWithValue("$offset", request.Offset);
            await using var reader = await page.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) entities.Add(EntityJson.Deserialize(reader.GetString(0)));
        }
        return new EntityPage(entities, total);
    }

    /// <summary>An exact query's count, from the index tables' covering indexes (<see cref="CompiledQuery.Count"/>).</summary>
    internal static string CountSql(CompiledQuery compiled) => compiled.Count;

    /// <summary>
    /// A first page of a query that matches many entities is found fastest by walking entities in creation order and
    /// checking each through its indexes (<see cref="CompiledQuery.ProbeWhere"/>), stopping at the page's end; the
    /// set-membership plan must read every match to sort them. So the walk is tried first over a bounded window of the
    /// oldest entities: if the page fills inside it, those are exactly the first matches; if not (selective query, deep
    /// page), null, and the set plan answers. The window bounds what a wasted probe costs (a few milliseconds).
    /// </summary>
    private static async Task<List<long>?> ProbePageAsync(SqliteConnection connection, CompiledQuery compiled, EntityPageRequest request, CancellationToken cancellationToken)
    {
        var wanted = (long)request.Offset + request.Limit;
        if (wanted > ProbeWindowMax / 8) return null;
        var windowEnd = await WindowEndAsync(connection, Math.Clamp(wanted * 8, ProbeWindowMin, ProbeWindowMax), cancellationToken);
        await using var probe = Command(connection,
            $"SELECT e.rowid FROM entities e WHERE e.rowid <= $end AND {compiled.ProbeWhere} ORDER BY e.rowid LIMIT $limit OFFSET $offset", compiled);
        probe.Parameters.AddWithValue("$end", windowEnd ?? long.MaxValue);
        probe.Parameters.AddWithValue("$limit", request.Limit);
        probe.Parameters.AddWithValue("$offset", request.Offset);
        var rowids = new List<long>(request.Limit);
        await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken)) rowids.Add(reader.GetInt64(0));
        // A full page inside the window is the answer; so is any result when the window held every entity.
        return rowids.Count == request.Limit || windowEnd is null ? rowids : null;
    }

    /// <summary>
    /// Walks the SQL candidates in creation order by keyset (no OFFSET), keeping those the evaluator accepts. Without a
    /// count, the oldest entities are walked first with per-entity look-ups (as <see cref="ProbePageAsync"/> does) and
    /// the walk goes on with set membership past that window only when the page is not full yet.
    /// </summary>
    private static async Task<EntityPage> QueryWithEvaluatorAsync(SqliteConnection connection, CompiledQuery compiled, EntityPageRequest request, CancellationToken cancellationToken)
    {
        var page = new List<Entity>(Math.Min(request.Limit, 1000));
        long matched = 0;
        long after = 0;
        bool PageComplete() => page.Count >= request.Limit && matched > request.Offset;

        // Walks candidates with rowid in (after, end]; true when the page is complete (and no count is wanted).
        async Task<bool> WalkAsync(string where, long end)
        {
            await using var chunk = Command(connection, WalkSql(compiled, where), compiled);
            var afterParameter = chunk.Parameters.AddWithValue("$after", after);
            chunk.Parameters.AddWithValue("$end", end);
            while (true)
            {
                afterParameter.Value = after;
                var rows = 0;
                await using (var reader = await chunk.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        rows++;
                        after = reader.GetInt64(0);
                        var entity = EntityJson.Deserialize(reader.GetString(1));
                        if (!EntityMatcher.Matches(entity, request.Query)) continue;
                        matched++;
                        if (matched > request.Offset && page.Count < request.Limit) page.Add(entity);
                    }
                }
                if (PageComplete() && !request.Count) return true;
                if (rows < ScanChunk) return false;
            }
        }

        var wanted = (long)request.Offset + request.Limit;
        // A bounding box has few candidates: walking the oldest entities first would only add work.
        if (!request.Count && wanted <= ProbeWindowMax / 8 && !compiled.ByGeometry)
        {
            var windowEnd = await WindowEndAsync(connection, Math.Clamp(wanted * 8, ProbeWindowMin, ProbeWindowMax), cancellationToken);
            if (await WalkAsync(compiled.ProbeWhere, windowEnd ?? long.MaxValue) || windowEnd is null) return new EntityPage(page, null);
            after = windowEnd.Value;
        }
        await WalkAsync(compiled.Where, long.MaxValue);
        return new EntityPage(page, request.Count ? matched : null);
    }

    /// <summary>
    /// One chunk of the evaluator's walk: candidates with rowid in ($after, $end], oldest first. By geometry, the rowid
    /// range must not serve as the index either (a unary + hides it): the box's candidates drive.
    /// </summary>
    internal static string WalkSql(CompiledQuery compiled, string where)
    {
        var range = compiled.ByGeometry ? "+e.rowid" : "e.rowid";
        return $"SELECT e.rowid, e.doc FROM entities e WHERE ({where}) AND {range} > $after AND {range} <= $end ORDER BY e.rowid LIMIT {ScanChunk}";
    }

    /// <summary>
    /// The oldest and newest rowid of the entity table: two look-ups at the ends of its B-tree. (Counting the window off
    /// with <c>OFFSET</c> read every row before its end, documents and all: a third of a query's time at 100k entities.)
    /// </summary>
    internal const string RowidRangeSql = "SELECT (SELECT min(rowid) FROM entities), (SELECT max(rowid) FROM entities)";

    /// <summary>
    /// The last rowid of a window of <paramref name="window"/> rowids from the oldest entity; null when the window
    /// reaches past the newest. Rowids left by deleted entities make the window hold fewer entities, never different ones:
    /// it only bounds the walk, and a walk that does not fill the page falls back to the set plan.
    /// </summary>
    private static async Task<long?> WindowEndAsync(SqliteConnection connection, long window, CancellationToken cancellationToken)
    {
        await using var range = SqliteDatabase.Command(connection, RowidRangeSql);
        await using var reader = await range.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0)) return null;
        var end = reader.GetInt64(0) + window - 1;
        return end < reader.GetInt64(1) ? end : null;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, CompiledQuery compiled)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in compiled.Parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    public async Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "SELECT type, entities FROM type_statistics WHERE attr = '' ORDER BY type");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var types = new List<TypeStatistic>();
        while (await reader.ReadAsync(cancellationToken)) types.Add(new TypeStatistic(reader.GetString(0), reader.GetInt64(1)));
        return types;
    }

    public async Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "SELECT type, attr, kind, entities FROM type_statistics WHERE attr <> '' ORDER BY type, attr");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<(string, string), (HashSet<string> Kinds, long Count)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = (reader.GetString(0), reader.GetString(1));
            if (!rows.TryGetValue(key, out var row)) rows[key] = row = (new HashSet<string>(StringComparer.Ordinal), 0);
            var kind = reader.GetString(2);
            if (kind == "*") rows[key] = (row.Kinds, reader.GetInt64(3));
            else row.Kinds.Add(kind);
        }
        return rows.Select(r => new TypeAttributeStatistic(r.Key.Item1, r.Key.Item2, r.Value.Kinds, r.Value.Count)).ToList();
    }
}
