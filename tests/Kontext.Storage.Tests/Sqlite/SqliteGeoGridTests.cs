using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>The grids of the cell rows (schema step 12): a geometry and a query whose boxes overlap always share a cell.</summary>
public sealed class SqliteGeoGridTests
{
    [Fact]
    public void A_point_is_in_one_cell_a_box_over_a_cell_edge_in_each_cell_it_touches_and_a_large_box_in_the_wide_cell()
    {
        SqliteGeoGrid.CellsOf(-3.7, -3.7, 40.4, 40.4).Should().HaveCount(1).And.NotContain(SqliteGeoGrid.Wide);
        SqliteGeoGrid.CellsOf(-3.705, -3.695, 40.4001, 40.4002).Should().HaveCount(2);
        SqliteGeoGrid.CellsOf(-3.705, -3.695, 40.395, 40.405).Should().HaveCount(4);
        SqliteGeoGrid.CellsOf(-10, -3.65, 40.4, 40.4).Should().Equal(SqliteGeoGrid.Wide);
        SqliteGeoGrid.CellsOf(double.NaN, 0, 0, 0).Should().Equal(SqliteGeoGrid.Wide);
        SqliteGeoGrid.CellsOf(180, 180, 90, 90).Should().Equal(SqliteGeoGrid.CellsOf(179.999, 179.999, 89.999, 89.999), "the edges of the world are clamped to its last cells");
    }

    [Fact]
    public void A_box_over_more_than_four_fine_cells_is_in_the_coarse_cells_it_touches_whose_ids_are_no_fine_or_wide_id()
    {
        var district = SqliteGeoGrid.CellsOf(-3.75, -3.65, 40.4, 40.45);
        district.Should().ContainSingle().Which.Should().BeLessThan(SqliteGeoGrid.Wide);
        SqliteGeoGrid.IsFine(district[0]).Should().BeFalse();
        SqliteGeoGrid.CellsOf(-0.5, 0.5, -0.5, 0.5).Should().HaveCount(4).And.OnlyHaveUniqueItems().And.OnlyContain(c => c < SqliteGeoGrid.Wide);
        SqliteGeoGrid.CellsOf(-3.9, -0.1, 40.1, 43.9).Should().HaveCount(16, "4 × 4 coarse cells is still the coarse grid's");
        SqliteGeoGrid.CellsOf(-4.1, -0.1, 40.1, 40.2).Should().Equal(SqliteGeoGrid.Wide);
        // The corners of the world: the coarse ids run from -2 to -64,801, the fine ones from 0 up.
        SqliteGeoGrid.CellsOf(-180, -179.9, -90, -89.9).Should().Equal(-2);
        SqliteGeoGrid.CellsOf(179.9, 180, 89.9, 90).Should().Equal(-2 - 360 * 180 + 1);
        SqliteGeoGrid.CellsOf(-180, -180, -90, -90).Should().Equal(0);
    }

    [Fact]
    public void A_walk_covers_its_fine_cells_the_coarse_cells_over_them_and_the_wide_cell_and_no_more_fine_cells_than_its_bound()
    {
        var covering = SqliteGeoGrid.Covering(-3.705, -3.695, 40.395, 40.405, 64)!;
        covering.Should().HaveCount(6).And.Contain(SqliteGeoGrid.Wide).And.Contain(SqliteGeoGrid.CellsOf(-3.75, -3.65, 40.4, 40.45));
        covering.Count(SqliteGeoGrid.IsFine).Should().Be(4);
        SqliteGeoGrid.Covering(-0.005, 0.005, -0.005, 0.005, 64)!.Where(c => !SqliteGeoGrid.IsFine(c)).Should().HaveCount(5, "four coarse cells meet at (0, 0), then the wide cell");
        SqliteGeoGrid.Covering(-3.8, -3.6, 40.3, 40.5, 64).Should().BeNull();
    }

    [Fact]
    public void Boxes_that_overlap_share_a_cell()
    {
        var random = new Random(20261201);
        for (var i = 0; i < 20_000; i++)
        {
            // Near the edges of the world too, where the cells are clamped, and beyond them; near coarse cell edges (0, 0).
            var (x, y) = (i % 10) switch
            {
                0 => (random.NextDouble() * 400 - 200, random.NextDouble() * 200 - 100),
                1 => ((random.NextDouble() - 0.5) * 0.1, (random.NextDouble() - 0.5) * 0.1),
                _ => (-3.7 + random.NextDouble() * 0.1, 40.4 + random.NextDouble() * 0.1),
            };
            // Points and small boxes, then boxes of 0.05° to 3° (the coarse cells) and up to 6° (the wide cell).
            double Size() => i % 3 == 0 ? 0.05 + random.NextDouble() * (i % 9 == 0 ? 6 : 2.95) : random.NextDouble() * Math.Pow(10, -random.Next(1, 6));
            var (gx0, gy0) = (x + (random.NextDouble() - 0.5) * 0.05 - (i % 3 == 0 ? random.NextDouble() * 3 : 0), y + (random.NextDouble() - 0.5) * 0.05 - (i % 3 == 0 ? random.NextDouble() * 3 : 0));
            var (gx1, gy1) = (gx0 + Size(), gy0 + Size());
            var (qx0, qy0) = (x + (random.NextDouble() - 0.5) * 0.05, y + (random.NextDouble() - 0.5) * 0.05);
            var (qx1, qy1) = (qx0 + random.NextDouble() * 0.03, qy0 + random.NextDouble() * 0.03);
            var overlap = gx1 >= qx0 && gx0 <= qx1 && gy1 >= qy0 && gy0 <= qy1;
            if (!overlap || SqliteGeoGrid.Covering(qx0, qx1, qy0, qy1, 64) is not { } covering) continue;
            covering.Intersect(SqliteGeoGrid.CellsOf(gx0, gx1, gy0, gy1)).Should().NotBeEmpty($"[{gx0}, {gx1}] x [{gy0}, {gy1}] overlaps [{qx0}, {qx1}] x [{qy0}, {qy1}]");
        }
    }

    [Fact]
    public void Boxes_that_reach_the_antimeridian_or_a_pole_share_its_edge_cells()
    {
        // A near box is cut at ±180 (SqliteQueryCompiler): each half reaches the line from its own side.
        SqliteGeoGrid.Covering(179.995, 180, 9.995, 10.005, 64)!.Intersect(SqliteGeoGrid.CellsOf(180, 180, 10, 10)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-180, -179.995, 9.995, 10.005, 64)!.Intersect(SqliteGeoGrid.CellsOf(-180, -180, 10, 10)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-0.005, 0.005, 89.995, 90, 64)!.Intersect(SqliteGeoGrid.CellsOf(0, 0, 90, 90)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-0.005, 0.005, -90, -89.995, 64)!.Intersect(SqliteGeoGrid.CellsOf(0.001, 0.001, -90, -90)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-180, 180, 89.99, 90, 64).Should().BeNull("a box over a pole spans every longitude: the R*Tree's");
        // Boxes of the coarse grid that reach the line or the pole.
        SqliteGeoGrid.Covering(179.995, 180, 9.995, 10.005, 64)!.Intersect(SqliteGeoGrid.CellsOf(177.5, 180, 9.2, 10.004)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-180, -179.995, 9.995, 10.005, 64)!.Intersect(SqliteGeoGrid.CellsOf(-180, -179.95, 9.98, 10.03)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(-0.005, 0.005, 89.995, 90, 64)!.Intersect(SqliteGeoGrid.CellsOf(-0.02, 2.9, 88.5, 90)).Should().NotBeEmpty();
        SqliteGeoGrid.Covering(17, 17.005, -90, -89.995, 64)!.Intersect(SqliteGeoGrid.CellsOf(15.5, 17.2, -90, -89.5)).Should().NotBeEmpty();
        SqliteGeoGrid.CellsOf(177.5, 180, 9.2, 10.004).Should().NotContain(SqliteGeoGrid.CellsOf(-180, -179.95, 9.98, 10.03), "the two sides of the line are two cells apart");
    }
}
