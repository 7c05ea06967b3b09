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
        StorageMetrics.TimeQuery("sqlite", async () =>
        {
            var (entities, total) = await QueryPageAsync(request, DecodedForm, cancellationToken);
            return new EntityPage(entities, total);
        });

    public Task<StoredEntityPage> QueryStoredAsync(EntityPageRequest request, CancellationToken cancellationToken) =>
        StorageMetrics.TimeQuery("sqlite", async () =>
        {
            var (entities, total) = await QueryPageAsync(request, StoredForm, cancellationToken);
            return new StoredEntityPage(entities, total);
        });

    /// <summary>
    /// The form a page hands its documents out in: from the document's bytes, or the entity the evaluator decoded from
    /// them already to check it (null on the exact path, which decides in SQL).
    /// </summary>
    private delegate T PageForm<T>(byte[] doc, Entity? decoded);

    private static readonly PageForm<Entity> DecodedForm = static (doc, decoded) => decoded ?? SqliteEntityForm.Decode(doc);
    private static readonly PageForm<StoredEntity> StoredForm = static (doc, _) => SqliteEntityForm.Read(doc);

    private async Task<(List<T> Entities, long? Total)> QueryPageAsync<T>(EntityPageRequest request, PageForm<T> form, CancellationToken cancellationToken)
    {
        var compiled = SqliteQueryCompiler.Compile(request);
        await using var reader = await RentReaderAsync(cancellationToken);
        // One read transaction: every chunk and the count see the same snapshot.
        reader.BeginSnapshot();
        return compiled.IsExact
            ? await QueryExactAsync(reader, compiled, request, form, cancellationToken)
            : await QueryWithEvaluatorAsync(reader, compiled, request, form, cancellationToken);
    }

    private static async Task<(List<T>, long?)> QueryExactAsync<T>(SqliteReader connection, CompiledQuery compiled, EntityPageRequest request, PageForm<T> form,
        CancellationToken cancellationToken)
    {
        long? total = null;
        if (request.Count)
        {
            var sql = await CountByAttributeAsync(connection, compiled, cancellationToken) ?? CountSql(compiled);
            // A count's GROUP BY sorts its keys in memory up to the cache size, then spills runs to a temporary file: at
            // the default 2 MB that was ~700 KB written per count of 125,000 keys. The count alone gets a larger bound.
            await connection.Command(CountCacheSql).ExecuteNonQueryAsync(cancellationToken);
            try
            {
                total = (long)(await Command(connection, sql, compiled).ExecuteScalarAsync(cancellationToken))!;
            }
            finally
            {
                await connection.Command(DefaultCacheSql).ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        var entities = new List<T>(Math.Min(request.Limit, 1000));
        if (request.Limit > 0)
        {
            var (keyed, early) = await ChooseKeyedPageAsync(connection, compiled, (long)request.Offset + request.Limit, cancellationToken);
            // The probe window only when no key set gives an early stop (no type or attribute clause, no small value range).
            if (!early && await ProbePageAsync(connection, compiled, request, form, cancellationToken) is { } probed) return (probed, total);
            // Order and page the keys first, then read only the page's documents: sorting every match's document is what made deep pages slow.
            var page = Command(connection, keyed?.Page ?? EntityTablePageSql(compiled), compiled, ("$limit", request.Limit), ("$offset", request.Offset));
            await using var reader = await page.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) entities.Add(form(reader.GetFieldValue<byte[]>(0), null));
        }
        return (entities, total);
    }

    /// <summary>
    /// A reader's page cache, and so the memory a sort keeps before it spills to a temporary file, while it counts: 8 MiB
    /// holds the keys of ~250,000 matches; past that the sort spills as before. Shrinking back frees the extra pages.
    /// </summary>
    internal const string CountCacheSql = "PRAGMA cache_size = -8192", DefaultCacheSql = "PRAGMA cache_size = -2000";

    /// <summary>
    /// The key set an exact query's page goes through (<see cref="KeyedPage"/>), never walking the entity table: the
    /// smallest of its clauses' key sets, counted up to <see cref="SqliteQueryCompiler.EstimateBound"/>; a tie (every
    /// set past the bound) goes to the first unique one, whose keys come in key order from its index. Early when the
    /// chosen page stops early or sorts few keys: then the probe window over the oldest entities would only add work.
    /// Null when a clause reads the entity row (ids, id patterns).
    /// </summary>
    private static async Task<(KeyedPage? Page, bool Early)> ChooseKeyedPageAsync(SqliteReader connection, CompiledQuery compiled, long wanted, CancellationToken cancellationToken)
    {
        if (compiled.KeyedPages is not { Count: > 0 } keyed) return (null, false);
        // A lone unique set wins when every other set reaches the bound (it is smaller, or ties and a tie goes to it):
        // then its own estimate would change nothing, and is not read (a type and a wide value range, the usual query).
        // For a type the bound is where driving by the other set starts to pay (BreakEvenAsync).
        var estimates = new long?[keyed.Count];
        if (keyed.Count(k => k.Unique) == 1)
        {
            var unique = keyed.First(k => k.Unique);
            var bound = unique.Type is { } type ? await BreakEvenAsync(connection, type, wanted, cancellationToken) : SqliteQueryCompiler.EstimateBound;
            var small = -1;
            for (var i = 0; i < keyed.Count && small < 0; i++)
                if (!keyed[i].Unique && (estimates[i] = await EstimateAsync(connection, keyed[i], bound, cancellationToken)) < bound) small = i;
            if (small < 0) return (unique, true);
            // Below a type's break-even the set is smaller than the type's keys, and cheaper to drive by.
            if (bound < SqliteQueryCompiler.EstimateBound) return (keyed[small], true);
        }
        KeyedPage? best = null;
        long bestRows = long.MaxValue;
        for (var i = 0; i < keyed.Count; i++)
        {
            var (candidate, rows) = (keyed[i], estimates[i] ?? await EstimateAsync(connection, keyed[i], SqliteQueryCompiler.EstimateBound, cancellationToken));
            if (rows < bestRows || (rows == bestRows && candidate.Unique && best is { Unique: false })) (best, bestRows) = (candidate, rows);
        }
        return (best, best!.Unique || bestRows < SqliteQueryCompiler.EstimateBound);
    }

    /// <summary>
    /// How small another key set must be to drive rather than a type's: the type's page walks its keys in order until
    /// the page fills, about wanted × size / c keys when c of the type's keys match; the other set's page sorts its c
    /// keys and stops as soon. Both cost about the same at c = √(wanted × size), so a set counted below that drives; the
    /// count stops there too (counting to <see cref="SqliteQueryCompiler.EstimateBound"/> was a third of such a
    /// query's SQLite time, and chose the sort for ranges the walk answers four times faster).
    /// </summary>
    private static async Task<long> BreakEvenAsync(SqliteReader connection, string type, long wanted, CancellationToken cancellationToken)
    {
        var size = await connection.Command(TypeSizeSql, ("$type", type)).ExecuteScalarAsync(cancellationToken) as long? ?? 0;
        return Math.Clamp((long)Math.Ceiling(Math.Sqrt((double)wanted * size)), 1, SqliteQueryCompiler.EstimateBound);
    }

    /// <summary>How many entities have the type $type, from the statistics.</summary>
    internal const string TypeSizeSql = "SELECT entities FROM type_statistics WHERE type = $type AND attr = '' AND kind = ''";

    /// <summary>The key set's index rows, counted up to <paramref name="bound"/>.</summary>
    private static async Task<long> EstimateAsync(SqliteReader connection, KeyedPage candidate, long bound, CancellationToken cancellationToken) =>
        (long)(await connection.Command(candidate.Estimate, [.. candidate.EstimateParameters.Select(p => (p.Name, (object?)p.Value)), ("$bound", bound)]).ExecuteScalarAsync(cancellationToken))!;

    /// <summary>A page of the entity table's keys, for queries with a clause on the entity row (ids are few, or an id pattern is checked per row).</summary>
    internal static string EntityTablePageSql(CompiledQuery compiled) =>
        $"SELECT doc FROM entities WHERE rowid IN (SELECT e.rowid FROM entities e WHERE {compiled.Where} ORDER BY e.rowid LIMIT $limit OFFSET $offset) ORDER BY rowid";

    /// <summary>An exact query's count, from the index tables' covering indexes (<see cref="CompiledQuery.Count"/>).</summary>
    internal static string CountSql(CompiledQuery compiled) => compiled.Count;

    /// <summary>
    /// The count without the type clause (<see cref="CompiledQuery.CountByAttribute"/>) when the type statistics, read in
    /// the same snapshot, show no entity of another type having one of the attributes the query requires; else null.
    /// </summary>
    private static async Task<string?> CountByAttributeAsync(SqliteReader connection, CompiledQuery compiled, CancellationToken cancellationToken)
    {
        if (compiled.CountByAttribute is not { } implied) return null;
        foreach (var attribute in implied.Attributes)
        {
            var others = connection.Command(ImpliedTypeSql, ("$attr", attribute), ("$type", implied.Type));
            if (await others.ExecuteScalarAsync(cancellationToken) is 0L) return implied.Count;
        }
        return null;
    }

    /// <summary>Whether an entity of a type other than $type has the attribute $attr (1) or not (0), from the statistics (a few rows per type and attribute).</summary>
    internal const string ImpliedTypeSql = "SELECT EXISTS (SELECT 1 FROM type_statistics WHERE attr = $attr AND kind = '*' AND type <> $type AND entities > 0)";

    /// <summary>
    /// A first page of a query that matches many entities is found fastest by walking entities in creation order and
    /// checking each through its indexes (<see cref="CompiledQuery.ProbeWhere"/>), stopping at the page's end; the
    /// set-membership plan must read every match to sort them. So the walk is tried first over a bounded window of the
    /// oldest entities: if the page fills inside it, those are exactly the first matches; if not (selective query, deep
    /// page), null, and the set plan answers. The window bounds what a wasted probe costs (a few milliseconds).
    /// </summary>
    private static async Task<List<T>?> ProbePageAsync<T>(SqliteReader connection, CompiledQuery compiled, EntityPageRequest request, PageForm<T> form,
        CancellationToken cancellationToken)
    {
        var wanted = (long)request.Offset + request.Limit;
        if (wanted > ProbeWindowMax / 8) return null;
        var windowEnd = await WindowEndAsync(connection, Math.Clamp(wanted * 8, ProbeWindowMin, ProbeWindowMax), cancellationToken);
        // The documents come with the walk: a page that fills is read in one statement; one that does not costs a few unread rows.
        var probe = Command(connection, $"SELECT e.doc FROM entities e WHERE e.rowid <= $end AND {compiled.ProbeWhere} ORDER BY e.rowid LIMIT $limit OFFSET $offset",
            compiled, ("$end", windowEnd ?? long.MaxValue), ("$limit", request.Limit), ("$offset", request.Offset));
        var docs = new List<byte[]>(request.Limit);
        await using (var reader = await probe.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken)) docs.Add(reader.GetFieldValue<byte[]>(0));
        // A full page inside the window is the answer; so is any result when the window held every entity.
        return docs.Count == request.Limit || windowEnd is null ? docs.ConvertAll(doc => form(doc, null)) : null;
    }

    /// <summary>
    /// Walks the SQL candidates in creation order by keyset (no OFFSET), keeping those the evaluator accepts. Without a
    /// count, the oldest entities are walked first with per-entity look-ups (as <see cref="ProbePageAsync"/> does) and
    /// the walk goes on with set membership past that window only when the page is not full yet. Without a count the
    /// walk stops at the page's end, mid-chunk: no candidate after it is read or deserialized.
    /// </summary>
    private static async Task<(List<T>, long?)> QueryWithEvaluatorAsync<T>(SqliteReader connection, CompiledQuery compiled, EntityPageRequest request, PageForm<T> form,
        CancellationToken cancellationToken)
    {
        var page = new List<T>(Math.Min(request.Limit, 1000));
        long matched = 0;
        long after = 0;
        bool PageComplete() => page.Count >= request.Limit && matched > request.Offset;

        // Keeps the entity if the evaluator accepts it; true when the page is complete (and no count is wanted).
        bool Take(byte[] doc)
        {
            var entity = SqliteEntityForm.Decode(doc);
            if (!EntityMatcher.Matches(entity, request.Query)) return false;
            matched++;
            if (matched > request.Offset && page.Count < request.Limit) page.Add(form(doc, entity));
            return PageComplete() && !request.Count;
        }

        // Walks candidates with rowid in (after, end]; true when the page is complete (and no count is wanted).
        async Task<bool> WalkAsync(string where, long end)
        {
            var sql = WalkSql(compiled, where);
            while (true)
            {
                var rows = 0;
                var chunk = Command(connection, sql, compiled, ("$after", after), ("$end", end));
                await using (var reader = await chunk.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        rows++;
                        after = reader.GetInt64(0);
                        if (Take(reader.GetFieldValue<byte[]>(1))) return true;
                    }
                }
                if (rows < ScanChunk) return false;
            }
        }

        var wanted = (long)request.Offset + request.Limit;
        // A page of a box's candidates through its grid cells, in key order, when that is the cheaper way (a count
        // reads every candidate anyway: the R*Tree's); past the walk's budget the box's walk goes on after it.
        if (!request.Count && compiled.Cells is { } geo && SqliteCellWalk.CellsFor(geo, wanted) is { } cells)
        {
            var (done, last) = await SqliteCellWalk.WalkAsync(connection, geo, cells, Take, cancellationToken);
            if (done) return (page, null);
            after = last;
        }
        // A bounding box has few candidates: walking the oldest entities first would only add work.
        if (!request.Count && wanted <= ProbeWindowMax / 8 && !compiled.ByGeometry)
        {
            var windowEnd = await WindowEndAsync(connection, Math.Clamp(wanted * 8, ProbeWindowMin, ProbeWindowMax), cancellationToken);
            if (await WalkAsync(compiled.ProbeWhere, windowEnd ?? long.MaxValue) || windowEnd is null) return (page, null);
            after = windowEnd.Value;
        }
        await WalkAsync(compiled.Where, long.MaxValue);
        return (page, request.Count ? matched : null);
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
    private static async Task<long?> WindowEndAsync(SqliteReader connection, long window, CancellationToken cancellationToken)
    {
        await using var reader = await connection.Command(RowidRangeSql).ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0)) return null;
        var end = reader.GetInt64(0) + window - 1;
        return end < reader.GetInt64(1) ? end : null;
    }

    /// <summary>The reader's prepared command for <paramref name="sql"/> with the query's parameters and <paramref name="more"/>.</summary>
    private static SqliteCommand Command(SqliteReader connection, string sql, CompiledQuery compiled, params (string Name, object? Value)[] more) =>
        connection.Command(sql, [.. compiled.Parameters.Select(p => (p.Name, (object?)p.Value)), .. more]);

    public async Task<IReadOnlyList<TypeStatistic>> ListTypesAsync(CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT type, entities FROM type_statistics WHERE attr = '' ORDER BY type");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var types = new List<TypeStatistic>();
        while (await reader.ReadAsync(cancellationToken)) types.Add(new TypeStatistic(reader.GetString(0), reader.GetInt64(1)));
        return types;
    }

    public async Task<IReadOnlyList<TypeAttributeStatistic>> ListTypeAttributesAsync(CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT type, attr, kind, entities FROM type_statistics WHERE attr <> '' ORDER BY type, attr");
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
