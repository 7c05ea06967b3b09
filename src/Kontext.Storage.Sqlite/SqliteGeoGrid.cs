namespace Kontext.Storage.Sqlite;

/// <summary>
/// The fixed grid of <c>entity_cells</c> (schema step 12): cells of 0.01° of longitude by 0.01° of latitude (about
/// 1.1 km × 0.85 km in Madrid), numbered row by row from (-180, -90). A geometry is listed in every cell its bounding
/// box touches, or, when the box spans more than <see cref="MaxSpan"/> cells along an axis (or is not finite), in the
/// one <see cref="Wide"/> cell that every walk reads. Coordinates outside the world are clamped to its edge cells:
/// clamping keeps the order, so a box that overlaps a query's box still shares a cell with it.
/// </summary>
internal static class SqliteGeoGrid
{
    /// <summary>The cell of geometries whose box is too large for the grid.</summary>
    public const long Wide = -1;

    /// <summary>A box over more cells than this along either axis goes to <see cref="Wide"/>: at most 16 rows per geometry.</summary>
    public const int MaxSpan = 4;

    private const double CellsPerDegree = 100;
    private const long Columns = 36_000, Rows = 18_000;

    /// <summary>The area of one cell in square degrees.</summary>
    public const double CellArea = 1 / (CellsPerDegree * CellsPerDegree);

    /// <summary>The cells a geometry with this bounding box is listed in.</summary>
    public static List<long> CellsOf(double minX, double maxX, double minY, double maxY)
    {
        if (!Span(minX, maxX, minY, maxY, out var x0, out var x1, out var y0, out var y1) || x1 - x0 >= MaxSpan || y1 - y0 >= MaxSpan)
            return [Wide];
        return CellsOf(x0, x1, y0, y1, x1 - x0 + 1);
    }

    /// <summary>
    /// The cells a walk over a query's box reads (those the box touches, then <see cref="Wide"/>), or null when the box
    /// touches more than <paramref name="maxCells"/> of them.
    /// </summary>
    public static List<long>? Covering(double minX, double maxX, double minY, double maxY, int maxCells)
    {
        if (!Span(minX, maxX, minY, maxY, out var x0, out var x1, out var y0, out var y1) || (x1 - x0 + 1) * (y1 - y0 + 1) > maxCells) return null;
        var cells = CellsOf(x0, x1, y0, y1, x1 - x0 + 1);
        cells.Add(Wide);
        return cells;
    }

    private static List<long> CellsOf(long x0, long x1, long y0, long y1, long width)
    {
        var cells = new List<long>((int)(width * (y1 - y0 + 1)) + 1);
        for (var y = y0; y <= y1; y++)
            for (var x = x0; x <= x1; x++)
                cells.Add(y * Columns + x);
        return cells;
    }

    private static bool Span(double minX, double maxX, double minY, double maxY, out long x0, out long x1, out long y0, out long y1)
    {
        x0 = x1 = y0 = y1 = 0;
        if (!double.IsFinite(minX) || !double.IsFinite(maxX) || !double.IsFinite(minY) || !double.IsFinite(maxY) || minX > maxX || minY > maxY) return false;
        (x0, x1) = (Index(minX + 180, Columns), Index(maxX + 180, Columns));
        (y0, y1) = (Index(minY + 90, Rows), Index(maxY + 90, Rows));
        return true;
    }

    private static long Index(double offsetDegrees, long count) => (long)Math.Clamp(Math.Floor(offsetDegrees * CellsPerDegree), 0, count - 1);
}
