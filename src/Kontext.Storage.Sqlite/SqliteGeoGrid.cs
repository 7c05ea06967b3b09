namespace Kontext.Storage.Sqlite;

/// <summary>
/// The fixed grids of <c>entity_cells</c> (schema step 12). Fine cells are 0.01° of longitude by 0.01° of latitude
/// (about 1.1 km × 0.85 km in Madrid), numbered row by row from (-180, -90) from 0 up. A geometry is listed in every fine
/// cell its bounding box touches; a box over more than <see cref="MaxSpan"/> fine cells along an axis (a district, a flood
/// zone) is listed instead in the coarse cells of 1° it touches, numbered the same way but negated and below
/// <see cref="Wide"/> (-2 down to -64,801), so no id of one level or the catch-all is an id of another; only a box over
/// more than <see cref="MaxSpan"/> coarse cells (or not finite) goes to the one <see cref="Wide"/> cell that every walk
/// reads. Coordinates outside the world are clamped to its edge cells: clamping keeps the order, so a box that overlaps a
/// query's box still shares a cell of each level with it. Files written before the coarse level hold their medium boxes
/// in <see cref="Wide"/>, which every walk still reads: they stay correct without a schema step.
/// </summary>
internal static class SqliteGeoGrid
{
    /// <summary>The cell of geometries whose box is too large for either grid.</summary>
    public const long Wide = -1;

    /// <summary>A box over more cells than this along either axis goes up a level: at most 16 rows per geometry.</summary>
    public const int MaxSpan = 4;

    private const double CellsPerDegree = 100;
    private const long Columns = 36_000, Rows = 18_000;
    private const long CoarseColumns = 360, CoarseRows = 180;

    /// <summary>The area of one fine cell in square degrees.</summary>
    public const double CellArea = 1 / (CellsPerDegree * CellsPerDegree);

    /// <summary>Whether a cell is of the fine grid (not coarse, not <see cref="Wide"/>).</summary>
    public static bool IsFine(long cell) => cell >= 0;

    /// <summary>The cells a geometry with this bounding box is listed in.</summary>
    public static List<long> CellsOf(double minX, double maxX, double minY, double maxY)
    {
        if (!double.IsFinite(minX) || !double.IsFinite(maxX) || !double.IsFinite(minY) || !double.IsFinite(maxY) || minX > maxX || minY > maxY)
            return [Wide];
        var fine = Span(minX, maxX, minY, maxY, CellsPerDegree, Columns, Rows);
        if (fine.X1 - fine.X0 < MaxSpan && fine.Y1 - fine.Y0 < MaxSpan) return Fine(fine, []);
        var coarse = Span(minX, maxX, minY, maxY, 1, CoarseColumns, CoarseRows);
        return coarse.X1 - coarse.X0 < MaxSpan && coarse.Y1 - coarse.Y0 < MaxSpan ? Coarse(coarse, []) : [Wide];
    }

    /// <summary>
    /// The cells a walk over a query's box reads (the fine cells it touches, then the coarse ones, then <see cref="Wide"/>),
    /// or null when the box touches more than <paramref name="maxCells"/> fine cells.
    /// </summary>
    public static List<long>? Covering(double minX, double maxX, double minY, double maxY, int maxCells)
    {
        if (!double.IsFinite(minX) || !double.IsFinite(maxX) || !double.IsFinite(minY) || !double.IsFinite(maxY) || minX > maxX || minY > maxY) return null;
        var fine = Span(minX, maxX, minY, maxY, CellsPerDegree, Columns, Rows);
        if ((fine.X1 - fine.X0 + 1) * (fine.Y1 - fine.Y0 + 1) > maxCells) return null;
        var cells = Coarse(Span(minX, maxX, minY, maxY, 1, CoarseColumns, CoarseRows), Fine(fine, []));
        cells.Add(Wide);
        return cells;
    }

    private readonly record struct CellSpan(long X0, long X1, long Y0, long Y1);

    private static List<long> Fine(CellSpan span, List<long> cells)
    {
        for (var y = span.Y0; y <= span.Y1; y++)
            for (var x = span.X0; x <= span.X1; x++)
                cells.Add(y * Columns + x);
        return cells;
    }

    private static List<long> Coarse(CellSpan span, List<long> cells)
    {
        for (var y = span.Y0; y <= span.Y1; y++)
            for (var x = span.X0; x <= span.X1; x++)
                cells.Add(Wide - 1 - (y * CoarseColumns + x));
        return cells;
    }

    /// <summary>
    /// The cells a finite box touches on a grid: each level's indices come straight from the coordinates (not from the
    /// other level's), so overlapping boxes share a cell of it by monotony alone.
    /// </summary>
    private static CellSpan Span(double minX, double maxX, double minY, double maxY, double perDegree, long columns, long rows) =>
        new(Index(minX + 180, perDegree, columns), Index(maxX + 180, perDegree, columns), Index(minY + 90, perDegree, rows), Index(maxY + 90, perDegree, rows));

    private static long Index(double offsetDegrees, double perDegree, long count) => (long)Math.Clamp(Math.Floor(offsetDegrees * perDegree), 0, count - 1);
}
