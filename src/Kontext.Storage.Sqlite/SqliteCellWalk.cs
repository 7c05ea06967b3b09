using Kontext.Ngsi.Model;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// A page of a geo query through the grid cells (<see cref="SqliteCellSchema"/>): each covering cell's rows come in
/// entity key order from the primary key, a few at a time, those whose box overlaps the query's; they are merged in key
/// order, for near each box's distance is checked in memory, and only the entities that pass are looked up (the other
/// clauses by their indexes, then the evaluator). The walk stops when the page is full, so its work follows the page and
/// the share of the cells' entities that match, not the number of entities: the R*Tree gives every candidate of the box,
/// which must all be read and sorted by key before the first page is known.
/// </summary>
internal static class SqliteCellWalk
{
    /// <summary>A box over more cells than this (a near of more than ~3 km at mid latitudes) goes through the R*Tree.</summary>
    public const int MaxCells = 64;

    /// <summary>
    /// Cell rows in the query's box read before a walk that has not filled its page hands over to the R*Tree (continuing after the last key it
    /// finished, so nothing is read twice as a match): the cost of a walk that chose wrong stays bounded.
    /// </summary>
    public const int RowBudget = 2_048;

    /// <summary>
    /// One cell's rows after ($ek, $rid) in key order whose box overlaps the query's ($x0 $x1 $y0 $y1), at most $n: the
    /// overlap is checked inside SQLite as it steps through the cell, so only the rows that pass cross into .NET.
    /// </summary>
    internal const string CellRowsSql = """
        SELECT ek, rid, min_x, max_x, min_y, max_y FROM entity_cells
        WHERE attr = $attr AND cell = $cell AND (ek, rid) > ($ek, $rid) AND max_x >= $x0 AND min_x <= $x1 AND max_y >= $y0 AND min_y <= $y1
        ORDER BY ek, rid LIMIT $n
        """;

    private const string AttributeSql = "SELECT nid FROM names WHERE iri = $iri";

    /// <summary>
    /// Of a batch of candidate keys ($keys, a JSON array in key order), those for which the query's other clauses hold
    /// ({0}: those clauses on <c>e</c>), in key order: by their index look-ups alone, no entity row read.
    /// </summary>
    internal const string PassingKeysSql = "SELECT e.ek FROM (SELECT value AS ek FROM json_each($keys)) e WHERE {0} ORDER BY e.ek";

    /// <summary>The same when a clause reads the entity row (ids, id patterns): through the entity table, still without the documents.</summary>
    internal const string PassingRowsSql = "SELECT e.rowid FROM entities e WHERE e.rowid IN (SELECT value FROM json_each($keys)) AND {0} ORDER BY e.rowid";

    /// <summary>The documents of keys ($keys, a JSON array), in key order; read as the walk steps, so none past the page's end.</summary>
    internal const string DocumentsSql = "SELECT rowid, doc FROM entities WHERE rowid IN (SELECT value FROM json_each($keys)) ORDER BY rowid";

    /// <summary>Candidates checked against the other clauses per statement.</summary>
    private const int Batch = 32;

    private const int FirstChunk = 32, LastChunk = 256;

    /// <summary>
    /// The cells to walk for a page of <paramref name="wanted"/> matches (offset plus limit), or null when the R*Tree is
    /// the cheaper way: too many cells, or a box so small against its cells that, were the rows spread evenly, the walk
    /// would step over more than <see cref="RowBudget"/> of the cells' rows to find them (the R*Tree has few candidates then).
    /// </summary>
    public static List<long>? CellsFor(GeoCellQuery query, long wanted)
    {
        if (SqliteGeoGrid.Covering(query.MinX, query.MaxX, query.MinY, query.MaxY, MaxCells) is not { } cells) return null;
        // The budget counts the fine cells only: the coarse and wide cells hold the few large boxes, which pass anywhere in them.
        var share = (query.MaxX - query.MinX) * (query.MaxY - query.MinY) / (cells.Count(SqliteGeoGrid.IsFine) * SqliteGeoGrid.CellArea);
        return wanted > share * RowBudget ? null : cells;
    }

    /// <summary>
    /// Walks the cells, giving each candidate that passes its box and the other clauses to <paramref name="take"/> (true:
    /// the page is complete) in key order. Done when the page completed or every cell was read; otherwise the walk spent
    /// its budget and <c>After</c> is the last key it finished: every candidate up to it has been given.
    /// </summary>
    public static async Task<(bool Done, long After)> WalkAsync(SqliteReader connection, GeoCellQuery query, List<long> cells,
        Func<byte[], bool> take, CancellationToken cancellationToken)
    {
        if (await connection.Command(AttributeSql, ("$iri", query.Attribute)).ExecuteScalarAsync(cancellationToken) is not long attribute) return (true, 0);
        var heads = new PriorityQueue<Cursor, (long Ek, long Rid)>(cells.Count);
        foreach (var cell in cells)
        {
            var cursor = new Cursor(cell);
            if (await cursor.MoveAsync(connection, attribute, query, cancellationToken)) heads.Enqueue(cursor, cursor.Key);
        }
        var passing = query.Rest == "1" ? null : string.Format(System.Globalization.CultureInfo.InvariantCulture, query.RestReadsRow ? PassingRowsSql : PassingKeysSql, query.Rest);
        var batch = new List<long>(Batch);
        var rows = 0;
        long? key = null;
        var admitted = false;
        while (true)
        {
            var more = heads.TryPeek(out var head, out var next);
            if (!more || next.Ek != key)
            {
                // Every row of the key before has been read: it is a candidate if one of its boxes passed.
                if (admitted) batch.Add(key!.Value);
                var stop = !more || rows >= RowBudget;
                if ((batch.Count == Batch || stop) && await GiveAsync(connection, query, passing, batch, take, cancellationToken) is { } full) return (true, full);
                if (!more) return (true, key ?? 0);
                if (stop) return (false, key!.Value);
                (key, admitted) = (next.Ek, false);
            }
            heads.Dequeue();
            rows++;
            admitted = admitted || Admits(query, head!.Current);
            if (await head!.MoveAsync(connection, attribute, query, cancellationToken)) heads.Enqueue(head, head.Key);
        }
    }

    /// <summary>
    /// Gives the batch's candidates that pass the other clauses to <paramref name="take"/>, in key order, reading the documents
    /// only of those; empties the batch. The key at which the page became complete, or null.
    /// </summary>
    private static async Task<long?> GiveAsync(SqliteReader connection, GeoCellQuery query, string? passing, List<long> batch, Func<byte[], bool> take,
        CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return null;
        var keys = new List<long>(batch);
        if (passing is not null)
        {
            keys.Clear();
            var command = connection.Command(passing, [.. query.RestParameters!.Select(p => (p.Name, (object?)p.Value)), ("$keys", Json(batch))]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) keys.Add(reader.GetInt64(0));
        }
        batch.Clear();
        if (keys.Count == 0) return null;
        await using var documents = await connection.Command(DocumentsSql, ("$keys", Json(keys))).ExecuteReaderAsync(cancellationToken);
        while (await documents.ReadAsync(cancellationToken))
            if (take(documents.GetFieldValue<byte[]>(1))) return documents.GetInt64(0);
        return null;
    }

    /// <summary>The same necessary condition as the R*Tree search: the boxes overlap, and for near the box's distance bound is within reach.</summary>
    private static bool Admits(GeoCellQuery query, in Row row) =>
        row.MaxX >= query.MinX && row.MinX <= query.MaxX && row.MaxY >= query.MinY && row.MinY <= query.MaxY
        // A millimetre of slack: for a point the bound is the evaluator's own distance, to the last bit.
        && (query.Near is not { } near || SqliteQueryCompiler.BoxDistanceMetres(near.Lon, near.Lat, row.MinX, row.MaxX, row.MinY, row.MaxY) <= near.MaxDistance + 0.001);

    private static string Json(List<long> keys) => "[" + string.Join(',', keys) + "]";

    private readonly record struct Row(long Ek, long Rid, double MinX, double MaxX, double MinY, double MaxY);

    /// <summary>One cell's rows, read a chunk at a time (each chunk twice the last, up to <see cref="LastChunk"/>).</summary>
    private sealed class Cursor(long cell)
    {
        private readonly List<Row> _rows = [];
        private int _next;
        private int _chunk = FirstChunk;
        private bool _end;

        public Row Current { get; private set; } = new(long.MinValue, long.MinValue, 0, 0, 0, 0);
        public (long, long) Key => (Current.Ek, Current.Rid);

        /// <summary>To the next row; false when the cell has no more.</summary>
        public async ValueTask<bool> MoveAsync(SqliteReader connection, long attribute, GeoCellQuery query, CancellationToken cancellationToken)
        {
            if (_next == _rows.Count)
            {
                if (_end) return false;
                _rows.Clear();
                _next = 0;
                var command = connection.Command(CellRowsSql, ("$attr", attribute), ("$cell", cell), ("$ek", Current.Ek), ("$rid", Current.Rid),
                    ("$x0", query.MinX), ("$x1", query.MaxX), ("$y0", query.MinY), ("$y1", query.MaxY), ("$n", _chunk));
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                    while (await reader.ReadAsync(cancellationToken))
                        _rows.Add(new Row(reader.GetInt64(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5)));
                _end = _rows.Count < _chunk;
                _chunk = Math.Min(_chunk * 2, LastChunk);
                if (_rows.Count == 0) return false;
            }
            Current = _rows[_next++];
            return true;
        }
    }
}
