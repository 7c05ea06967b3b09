using System.Globalization;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Geo pages through the grid cells (issue 12, schema step 12): the cell rows every geometry write keeps, the walk that
/// merges the covering cells in key order, and its hand-over to the R*Tree, each compared page by page with the evaluator
/// over the store's entities in creation order; the plans of its statements; the migration that fills the cells.
/// </summary>
public sealed class SqliteCellWalkTests : IAsyncLifetime
{
    private const double Lon0 = -3.70, Lat0 = 40.40;
    private readonly SqliteTestDirectory _directory = new("cell-walk");
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    public async Task InitializeAsync() => await OpenAsync();

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    private async Task OpenAsync()
    {
        _storage = _directory.Open();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
    }

    private SqliteConnection OpenFile()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "kontext.db")};Pooling=False");
        connection.Open();
        SqliteReaders.RegisterFunctions(connection);
        return connection;
    }

    private static Entity Parse(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    private Task CreateAsync(string json)
    {
        var entity = Parse(json);
        return _store.WriteAsync(entity.Id, _ =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);
    }

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Point(double lon, double lat) => $$$"""{"type":"GeoProperty","value":{"type":"Point","coordinates":[{{{F(lon)}}},{{{F(lat)}}}]}}""";

    private static string Box(double x, double y, double width, double height) =>
        $$$"""{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[{{{F(x)}}},{{{F(y)}}}],[{{{F(x + width)}}},{{{F(y)}}}],[{{{F(x + width)}}},{{{F(y + height)}}}],[{{{F(x)}}},{{{F(y + height)}}}],[{{{F(x)}}},{{{F(y)}}}]]]}}""";

    /// <summary>Points in a few cells around (Lon0, Lat0), lines over several cells, polygons of the coarse grid and too large for it, and a location given twice (datasetId).</summary>
    private static string RandomEntity(Random random, int i)
    {
        var type = new[] { "A", "B", "C" }[random.Next(3)];
        var (lon, lat) = (Lon0 + (random.NextDouble() - 0.5) * 0.04, Lat0 + (random.NextDouble() - 0.5) * 0.04);
        var location = (i % 23) switch
        {
            0 => $$$"""{"type":"GeoProperty","value":{"type":"LineString","coordinates":[[{{{F(lon)}}},{{{F(lat)}}}],[{{{F(lon + 0.021)}}},{{{F(lat + 0.013)}}}]]}}""",
            1 => $$$"""{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[{{{F(lon - 0.2)}}},{{{F(lat - 0.1)}}}],[{{{F(lon + 0.2)}}},{{{F(lat - 0.1)}}}],[{{{F(lon)}}},{{{F(lat + 0.2)}}}],[{{{F(lon - 0.2)}}},{{{F(lat - 0.1)}}}]]]}}""",
            2 => $$"""[{{Point(lon, lat)}},{"type":"GeoProperty","value":{"type":"Point","coordinates":[{{F(lon + 0.015)}},{{F(lat - 0.01)}}]},"datasetId":"urn:ngsi-ld:D:2"}]""",
            3 => "null",
            // A district or flood zone of 0.05° to 3° (the coarse cells), now and then one too large for them (the wide cell).
            4 or 5 => Box(lon - random.NextDouble() * (i % 23 == 4 ? 3 : 6), lat - random.NextDouble() * 0.5, 0.05 + random.NextDouble() * (i % 23 == 4 ? 2.95 : 6), 0.05 + random.NextDouble() * 0.5),
            _ => Point(lon, lat),
        };
        var located = location == "null" ? "" : $",\"location\":{location}";
        return $$"""{"id":"urn:ngsi-ld:C:{{i}}","type":"{{type}}","n":{"type":"Property","value":{{random.Next(10)}}}{{located}}}""";
    }

    private async Task<List<Entity>> AllInCreationOrderAsync() =>
        [.. (await _store.QueryAsync(new EntityPageRequest(new EntityQuery(), 0, 100_000, false), default)).Entities];

    private static EntityQuery Query(string? type, string? q, string georel, string geometry, string coordinates) =>
        EntityQuery.Parse(new EntityQueryParameters(Type: type, Q: q, GeoRel: georel, Geometry: geometry, Coordinates: coordinates), ContextProcessor.Core);

    private static readonly (string GeoRel, string Geometry, Func<double, double, string> Coordinates)[] Shapes =
    [
        ("near;maxDistance==150", "Point", (x, y) => $"[{F(x)},{F(y)}]"),
        ("near;maxDistance==500", "Point", (x, y) => $"[{F(x)},{F(y)}]"),
        ("near;maxDistance==1200", "Point", (x, y) => $"[{F(x)},{F(y)}]"),
        ("near;maxDistance==300", "LineString", (x, y) => $"[[{F(x - 0.003)},{F(y)}],[{F(x + 0.004)},{F(y + 0.003)}]]"),
        ("within", "Polygon", (x, y) => $"[[[{F(x - 0.006)},{F(y - 0.004)}],[{F(x + 0.006)},{F(y - 0.004)}],[{F(x + 0.006)},{F(y + 0.005)}],[{F(x - 0.006)},{F(y + 0.005)}],[{F(x - 0.006)},{F(y - 0.004)}]]]"),
        ("intersects", "Polygon", (x, y) => $"[[[{F(x - 0.004)},{F(y - 0.004)}],[{F(x + 0.007)},{F(y - 0.004)}],[{F(x)},{F(y + 0.006)}],[{F(x - 0.004)},{F(y - 0.004)}]]]"),
        ("intersects", "LineString", (x, y) => $"[[{F(x - 0.01)},{F(y)}],[{F(x + 0.01)},{F(y + 0.002)}]]"),
    ];

    /// <summary>Pages of <paramref name="size"/> through every shape around random points, each equal to the evaluator's slice.</summary>
    private async Task AssertPagesAsync(int points, int size, int seed, bool expectCellWalks = true)
    {
        var entities = await AllInCreationOrderAsync();
        var random = new Random(seed);
        var walked = 0;
        for (var i = 0; i < points; i++)
        {
            var (x, y) = (Lon0 + (random.NextDouble() - 0.5) * 0.04, Lat0 + (random.NextDouble() - 0.5) * 0.04);
            var shape = Shapes[i % Shapes.Length];
            var query = Query(new[] { null, "A", "B" }[i % 3], i % 5 == 4 ? "n>4" : null, shape.GeoRel, shape.Geometry, shape.Coordinates(x, y));
            var expected = entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            if (SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, size, false)).Cells is { } cells && SqliteCellWalk.CellsFor(cells, size) is not null) walked++;
            var pages = new List<string>();
            for (var offset = 0; offset < expected.Count + size; offset += size)
                pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, size, false), default)).Entities.Select(e => e.Id));
            pages.Should().Equal(expected, $"{shape.GeoRel} {shape.Coordinates(x, y)}, case {i}");
        }
        if (expectCellWalks) walked.Should().BeGreaterThan(points / 2, "most of these pages go through the cells");
    }

    private async Task CreateRandomAsync(int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++) await CreateAsync(RandomEntity(random, i));
    }

    [Fact]
    public async Task Pages_through_the_cells_equal_the_evaluators_for_points_lines_wide_polygons_and_repeated_locations()
    {
        await CreateRandomAsync(400, 20261201);

        await AssertPagesAsync(42, 7, 1);
    }

    [Fact]
    public async Task Pages_stay_the_evaluators_after_locations_move_are_removed_and_entities_are_deleted()
    {
        await CreateRandomAsync(300, 20261202);
        var random = new Random(5);
        for (var i = 0; i < 300; i += 3)
        {
            var id = $"urn:ngsi-ld:C:{i}";
            if (i % 9 == 0) await _store.WriteAsync(id, EntityWrites.Delete(id), default);
            else if (i % 9 == 3 && (await _store.GetEntityAsync(id, default))!.Attributes.ContainsKey(ContextProcessor.Core.ExpandTerm("location"))) await _store.WriteAsync(id, EntityWrites.DeleteAttribute(id, ContextProcessor.Core.ExpandTerm("location"), null, deleteAll: true), default);
            else
            {
                var (lon, lat) = (Lon0 + (random.NextDouble() - 0.5) * 0.04, Lat0 + (random.NextDouble() - 0.5) * 0.04);
                await _store.WriteAsync(id, EntityWrites.UpdateAttributes(id, Parse($$"""{"id":"{{id}}","type":"A","location":{{Point(lon, lat)}}}""")), default);
            }
        }

        await AssertPagesAsync(21, 5, 2);
        using var connection = OpenFile();
        using var stale = connection.CreateCommand();
        stale.CommandText = "SELECT COUNT(*) FROM entity_cells c WHERE NOT EXISTS (SELECT 1 FROM entity_geometries g WHERE g.rid = c.rid AND g.ek = c.ek AND g.attr = c.attr)";
        ((long)stale.ExecuteScalar()!).Should().Be(0, "a moved, removed or deleted geometry leaves no cell row behind");
    }

    [Fact]
    public async Task Entities_created_together_in_one_group_are_listed_in_their_cells()
    {
        var random = new Random(20261203);
        // Concurrent writes are committed in groups, whose new entities are written set-based (SqliteGroupRows).
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => RandomEntity(random, i)).ToList().Select(CreateAsync));

        await AssertPagesAsync(21, 6, 3);
        using var connection = OpenFile();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(DISTINCT rid) FROM entity_cells), (SELECT COUNT(*) FROM entity_geometries)";
        using var reader = count.ExecuteReader();
        reader.Read();
        reader.GetInt64(0).Should().Be(reader.GetInt64(1)).And.BeGreaterThan(250);
    }

    [Fact]
    public async Task A_walk_that_spends_its_budget_hands_over_to_the_box_after_the_last_key_it_finished()
    {
        // One dense cell of type A, then a few B: a near page of B reads the budget of A's rows first.
        var random = new Random(20261204);
        var writes = new List<Task>();
        for (var i = 0; i < SqliteCellWalk.RowBudget + 300; i++)
        {
            var type = i < SqliteCellWalk.RowBudget + 100 ? "A" : "B";
            var (lon, lat) = (-3.7015 + random.NextDouble() * 0.003, 40.4015 + random.NextDouble() * 0.003);
            writes.Add(CreateAsync($$"""{"id":"urn:ngsi-ld:D:{{i}}","type":"{{type}}","location":{{Point(lon, lat)}}}"""));
        }
        await Task.WhenAll(writes);
        var entities = await AllInCreationOrderAsync();
        var query = Query("B", null, "near;maxDistance==300", "Point", "[-3.7,40.403]");
        var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 10, false));
        var expected = entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();

        var pages = new List<string>();
        for (var offset = 0; offset < expected.Count + 10; offset += 10)
            pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, 10, false), default)).Entities.Select(e => e.Id));

        SqliteCellWalk.CellsFor(compiled.Cells!, 10).Should().NotBeNull("the page goes through the cells");
        expected.Should().HaveCountGreaterThan(10);
        pages.Should().Equal(expected);
    }

    [Fact]
    public async Task The_migration_lists_the_geometries_of_an_existing_file_in_their_cells()
    {
        await CreateRandomAsync(200, 20261205);
        var step = SqliteMigrations.Tenant.Single(s => s.Version == 12);
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        using (var connection = OpenFile())
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"DROP TABLE entity_cells; PRAGMA user_version = {step.Version - 1};";
            command.ExecuteNonQuery();
        }

        await OpenAsync();

        using (var connection = OpenFile())
        {
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT (SELECT COUNT(DISTINCT rid) FROM entity_cells), (SELECT COUNT(*) FROM entity_geometries), (SELECT COUNT(*) FROM sqlite_master WHERE name = 'ix_entity_cells_entity')";
            using var reader = count.ExecuteReader();
            reader.Read();
            reader.GetInt64(0).Should().Be(reader.GetInt64(1)).And.BeGreaterThan(150);
            reader.GetInt64(2).Should().Be(1);
        }
        await AssertPagesAsync(21, 7, 4);
    }

    [Fact]
    public async Task A_file_whose_medium_boxes_were_listed_in_the_wide_cell_before_the_coarse_grid_still_answers_as_the_evaluator()
    {
        await CreateRandomAsync(300, 20261207);
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        long moved;
        using (var connection = OpenFile())
        {
            // The rows the rule before the coarse grid wrote: every box over more than 4 fine cells in the wide cell.
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                INSERT OR IGNORE INTO entity_cells SELECT attr, {SqliteGeoGrid.Wide}, ek, rid, min_x, max_x, min_y, max_y FROM entity_cells WHERE cell < {SqliteGeoGrid.Wide};
                DELETE FROM entity_cells WHERE cell < {SqliteGeoGrid.Wide};
                SELECT COUNT(*) FROM entity_cells WHERE cell = {SqliteGeoGrid.Wide};
                """;
            moved = (long)command.ExecuteScalar()!;
        }
        await OpenAsync();
        moved.Should().BeGreaterThan(20);

        await AssertPagesAsync(21, 7, 5);
        // Writers delete an entity's cell rows by its key, whichever rule wrote them.
        var random = new Random(7);
        for (var i = 4; i < 300; i += 23)
        {
            var id = $"urn:ngsi-ld:C:{i}";
            if (i % 2 == 0) await _store.WriteAsync(id, EntityWrites.Delete(id), default);
            else await _store.WriteAsync(id, EntityWrites.UpdateAttributes(id, Parse($$"""{"id":"{{id}}","type":"A","location":{{Box(Lon0 - 0.3, Lat0 - 0.2, 0.3 + random.NextDouble(), 0.3)}}}""")), default);
        }
        await AssertPagesAsync(21, 7, 6);
        using var file = OpenFile();
        using var stale = file.CreateCommand();
        stale.CommandText = "SELECT COUNT(*) FROM entity_cells c WHERE NOT EXISTS (SELECT 1 FROM entity_geometries g WHERE g.rid = c.rid AND g.ek = c.ek AND g.attr = c.attr)";
        ((long)stale.ExecuteScalar()!).Should().Be(0);
    }

    private List<string> Plan(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        for (var i = 0; i < 16; i++) command.Parameters.AddWithValue("$p" + i, "x");
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(3));
        return lines;
    }

    [Fact]
    public async Task A_cell_is_read_in_key_order_from_the_primary_key_after_the_last_row_read()
    {
        await CreateRandomAsync(5, 1);

        var plan = Plan(SqliteCellWalk.CellRowsSql, ("$attr", 1L), ("$cell", 1L), ("$ek", 0L), ("$rid", 0L), ("$n", 32));

        plan.Should().Equal(["SEARCH entity_cells USING PRIMARY KEY (attr=? AND cell=? AND (ek,rid)>(?,?))"], "one seek, then the rows in key order: no sort");
    }

    [Theory]
    [InlineData("n>3")]
    [InlineData(null)]
    public async Task Candidates_are_checked_by_index_look_ups_per_key_and_only_the_pages_documents_are_read(string? q)
    {
        await CreateRandomAsync(5, 1);
        var query = Query("A", q, "near;maxDistance==500", "Point", "[-3.7,40.4]");
        var cells = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false)).Cells!;

        var passing = Plan(string.Format(CultureInfo.InvariantCulture, SqliteCellWalk.PassingKeysSql, cells.Rest), ("$keys", "[1,2,3]"));
        var documents = Plan(SqliteCellWalk.DocumentsSql, ("$keys", "[1,2,3]"));

        cells.RestReadsRow.Should().BeFalse();
        passing.Should().NotContain(line => line.Contains("entities") || line.Contains("entity_bbox") || line.Contains("entity_geometries"),
            "the other clauses need only the key; the box was checked from the cell rows: " + string.Join("\n", passing));
        passing.Where(line => line.StartsWith("SEARCH", StringComparison.Ordinal) && !line.StartsWith("SEARCH names", StringComparison.Ordinal)).Should().NotBeEmpty()
            .And.OnlyContain(line => line.Contains("ek=?"), "type and value are looked up per key: " + string.Join("\n", passing));
        passing.Should().NotContain(line => line.StartsWith("SCAN t", StringComparison.Ordinal) || line.StartsWith("SCAN v", StringComparison.Ordinal));
        documents.Should().Contain("SEARCH entities USING INTEGER PRIMARY KEY (rowid=?)").And.NotContain(line => line.Contains("TEMP B-TREE"),
            "the documents are read by key in key order, each only when the walk steps to it: " + string.Join("\n", documents));
    }

    [Fact]
    public void A_large_area_a_tiny_box_and_a_deep_page_go_through_the_R_tree()
    {
        GeoCellQuery Near(double metres) => SqliteQueryCompiler.Compile(new EntityPageRequest(
            Query("A", null, $"near;maxDistance=={metres}", "Point", "[-3.7,40.4]"), 0, 20, false)).Cells!;

        SqliteCellWalk.CellsFor(Near(500), 20).Should().NotBeNull();
        SqliteCellWalk.CellsFor(Near(5_000), 20).Should().BeNull("a box over more than 64 cells");
        SqliteCellWalk.CellsFor(Near(5), 20).Should().BeNull("a box this small against its cell has few candidates in the R*Tree");
        SqliteCellWalk.CellsFor(Near(500), 100_000).Should().BeNull("a deep page would read more rows than the walk's budget");
    }

    [Fact]
    public void The_walks_row_budget_is_shared_out_by_the_fine_cells_alone()
    {
        // A quarter of one fine cell, inside one coarse cell: the walk reads that fine cell, its coarse cell and the wide one.
        var quarter = new GeoCellQuery("location", 0.2525, 0.2575, 0.2525, 0.2575, null, "1");
        SqliteGeoGrid.Covering(quarter.MinX, quarter.MaxX, quarter.MinY, quarter.MaxY, SqliteCellWalk.MaxCells).Should().HaveCount(3);

        SqliteCellWalk.CellsFor(quarter, SqliteCellWalk.RowBudget / 4 - 50).Should().NotBeNull("a quarter of the fine cell's rows spread evenly are in the box");
        SqliteCellWalk.CellsFor(quarter, SqliteCellWalk.RowBudget / 4 + 50).Should().BeNull();
    }

    [Fact]
    public async Task Near_the_antimeridian_a_box_on_one_side_walks_its_cells_and_one_across_it_or_over_a_pole_goes_through_the_R_tree()
    {
        var random = new Random(20261206);
        for (var i = 0; i < 200; i++)
        {
            var lon = (i % 2 == 0 ? 1 : -1) * (180 - random.NextDouble() * 0.03);
            var (x, y) = i % 7 == 6 ? (random.NextDouble() * 360 - 180, 89.99 + random.NextDouble() * 0.01) : (lon, 10 + (random.NextDouble() - 0.5) * 0.02);
            await CreateAsync($$"""{"id":"urn:ngsi-ld:W:{{i}}","type":"{{(i % 3 == 0 ? "A" : "B")}}","location":{{Point(Math.Round(x, 6), Math.Round(y, 6))}}}""");
        }
        var entities = await AllInCreationOrderAsync();
        (string Point, bool Walks)[] cases = [("[179.985,10]", true), ("[-179.985,10.002]", true), ("[179.999,10]", false), ("[-180,10]", false), ("[0,89.999]", false)];
        foreach (var (point, walks) in cases)
        {
            var query = Query(null, null, "near;maxDistance==500", "Point", point);
            var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 5, false));
            compiled.ByGeometry.Should().BeTrue("even across the antimeridian or over a pole, the R*Tree's boxes bound the candidates");
            (compiled.Cells is { } cells && SqliteCellWalk.CellsFor(cells, 5) is not null).Should().Be(walks, point);
            var expected = entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            var pages = new List<string>();
            for (var offset = 0; offset < expected.Count + 5; offset += 5)
                pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, 5, false), default)).Entities.Select(e => e.Id));
            pages.Should().Equal(expected, point);
            expected.Should().NotBeEmpty(point);
        }
    }
}
