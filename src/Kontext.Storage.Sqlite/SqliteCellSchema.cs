using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 12 (issue 12, geo): <c>entity_cells</c>, each geometry's grid cells (<see cref="SqliteGeoGrid"/>) with
/// its entity key and bounding box, keyed so that one cell's entities come in key order from the primary key. A page of a
/// geo query merges the covering cells' keys in key order and stops when the page is full (<see cref="SqliteCellWalk"/>),
/// where the R*Tree gives every candidate of the box unordered: work by the page, not by the number of entities. The box
/// is on the row so that the distance or overlap is checked without a look-up. The index by entity key serves a write's
/// own rows (a geometry replaced, an entity deleted).
/// <para>
/// The step fills the table from the existing geometry rows and their R*Tree boxes. Those are rounded outwards to 32-bit
/// floats, so a migrated row's box (and cells) may be a few centimetres larger than the geometry's: it can only admit a
/// candidate the evaluator then rejects, never drop one. Rows written afterwards carry the exact box.
/// </para>
/// </summary>
internal static class SqliteCellSchema
{
    public const string Table = """
        CREATE TABLE IF NOT EXISTS entity_cells(
            attr INTEGER NOT NULL,
            cell INTEGER NOT NULL,
            ek INTEGER NOT NULL,
            rid INTEGER NOT NULL,
            min_x REAL NOT NULL,
            max_x REAL NOT NULL,
            min_y REAL NOT NULL,
            max_y REAL NOT NULL,
            PRIMARY KEY(attr, cell, ek, rid)
        ) WITHOUT ROWID;
        """;

    public const string EntityIndex = "CREATE INDEX IF NOT EXISTS ix_entity_cells_entity ON entity_cells(ek);";

    /// <summary>One cell row (<c>$a $c $id $r $x0 $x1 $y0 $y1</c>).</summary>
    public const string InsertSql = "INSERT INTO entity_cells(attr, cell, ek, rid, min_x, max_x, min_y, max_y) VALUES($a, $c, $id, $r, $x0, $x1, $y0, $y1)";

    /// <summary>
    /// The geometry rows with their boxes, roughly in the order of their first cell (the same arithmetic as
    /// <see cref="SqliteGeoGrid"/>; only the insert order depends on it), sorted by SQLite, which spills to a temporary
    /// file past its cache instead of holding a million rows in the process.
    /// </summary>
    private const string GeometriesInCellOrder = """
        SELECT g.attr, g.ek, g.rid, b.min_x, b.max_x, b.min_y, b.max_y FROM entity_geometries g JOIN entity_bbox b ON b.rid = g.rid
        ORDER BY g.attr, CAST((b.min_y + 90) * 100 AS INTEGER), CAST((b.min_x + 180) * 100 AS INTEGER), g.ek, g.rid
        """;

    public static void Apply(SqliteConnection connection)
    {
        SqliteDatabase.Execute(connection, Table);
        // Inserted in about key order, each cell's rows append to its range; the entity index is built once, by a sort, afterwards.
        using var insert = SqliteDatabase.Command(connection, InsertSql,
            ("$a", 0L), ("$c", 0L), ("$id", 0L), ("$r", 0L), ("$x0", 0.0), ("$x1", 0.0), ("$y0", 0.0), ("$y1", 0.0));
        insert.Prepare();
        using (var read = SqliteDatabase.Command(connection, GeometriesInCellOrder))
        using (var reader = read.ExecuteReader())
        {
            while (reader.Read())
            {
                var (minX, maxX, minY, maxY) = (reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5), reader.GetDouble(6));
                insert.Parameters["$a"].Value = reader.GetInt64(0);
                insert.Parameters["$id"].Value = reader.GetInt64(1);
                insert.Parameters["$r"].Value = reader.GetInt64(2);
                insert.Parameters["$x0"].Value = minX;
                insert.Parameters["$x1"].Value = maxX;
                insert.Parameters["$y0"].Value = minY;
                insert.Parameters["$y1"].Value = maxY;
                foreach (var cell in SqliteGeoGrid.CellsOf(minX, maxX, minY, maxY))
                {
                    insert.Parameters["$c"].Value = cell;
                    insert.ExecuteNonQuery();
                }
            }
        }
        SqliteDatabase.Execute(connection, EntityIndex);
    }
}
