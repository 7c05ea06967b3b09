using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// How the SQLite store finds a page and a count (issue 12): the paging window by look-ups at the ends of the entity
/// table's B-tree (never an OFFSET walk over the documents), counts from the index tables alone, and pages that stay the
/// evaluator's when deletions leave gaps in the rowids.
/// </summary>
public sealed class SqliteIndexPlanTests : IAsyncLifetime
{
    private readonly SqliteTestDirectory _directory = new("index-plan");
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    public async Task InitializeAsync()
    {
        _storage = _directory.Open();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    private Task CreateAsync(int i, string type) => CreateAsync($$"""{"id":"urn:ngsi-ld:G:{{i}}","type":"{{type}}","n":{{i}}}""");

    private Task CreateAsync(string json)
    {
        var entity = EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        return _store.WriteAsync(entity.Id, _ =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);
    }

    private List<string> Plan(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "kontext.db")};Pooling=False");
        connection.Open();
        SqliteReaders.RegisterFunctions(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        for (var i = 0; i < 16; i++) command.Parameters.AddWithValue("$p" + i, "x");
        foreach (var name in new[] { "$after", "$end", "$limit", "$offset" }) command.Parameters.AddWithValue(name, 0);
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(3));
        return lines;
    }

    [Fact]
    public async Task The_paging_window_is_found_by_look_ups_at_the_ends_of_the_entity_table()
    {
        await CreateAsync(1, "T");

        var plan = Plan(SqliteTenantStore.RowidRangeSql);

        plan.Where(line => line.Contains("entities")).Should().HaveCount(2).And.OnlyContain(line => line.StartsWith("SEARCH entities"), "min and max of the rowid are B-tree seeks, not a scan");
    }

    [Theory]
    [InlineData("n>3")]
    [InlineData("n==3")]
    [InlineData("n")]
    [InlineData("!n")]
    public async Task A_count_reads_only_covering_indexes_of_the_index_tables_never_the_entity_table(string q)
    {
        await CreateAsync(1, "T");
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q), ContextProcessor.Core);

        var plan = Plan(SqliteTenantStore.CountSql(SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, true))));

        plan.Should().NotContain(line => line.Contains("entities"), "the count intersects integer keys and looks no entity up");
        // Index-table reads (aliases t, a, v); "SCAN e" is the walk over the driving clause's keys, a co-routine, not a table.
        plan.Where(line => System.Text.RegularExpressions.Regex.IsMatch(line, "^(SEARCH|SCAN) [tav] ")).Should().NotBeEmpty()
            .And.OnlyContain(line => line.Contains("COVERING INDEX") || line.Contains("USING PRIMARY KEY"), string.Join("\n", plan));
    }

    [Fact]
    public async Task A_count_with_ids_reads_the_entity_tables_id_index_only()
    {
        await CreateAsync(1, "T");
        var query = EntityQuery.Parse(new EntityQueryParameters(Id: "urn:ngsi-ld:G:1,urn:ngsi-ld:G:2", Type: "T"), ContextProcessor.Core);

        var plan = Plan(SqliteTenantStore.CountSql(SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, true))));

        plan.Where(line => line.Contains(" e ")).Should().NotBeEmpty().And.OnlyContain(line => line.Contains("COVERING INDEX"), "the count never reads an entity document");
    }

    [Theory]
    [InlineData("near;maxDistance==500", null)]
    [InlineData("near;maxDistance==500", "n>3")]
    [InlineData("within", null)]
    [InlineData("near;maxDistance==500", "n>3", "[179.999,10]")] // two boxes, one each side of the antimeridian
    [InlineData("near;maxDistance==500", null, "[0,89.999]")]    // one over every longitude
    public async Task A_geo_query_walks_the_candidates_of_its_bounding_box_by_key_and_checks_the_other_clauses_per_candidate(string georel, string? q, string point = "[-3.7,40.4]")
    {
        await CreateAsync(1, "T");
        var within = georel == "within";
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q, GeoRel: georel, Geometry: within ? "Polygon" : "Point",
            Coordinates: within ? "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]" : point), ContextProcessor.Core);
        var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false));

        var plan = Plan(SqliteTenantStore.WalkSql(compiled, compiled.Where));
        plan.Where(line => line.Contains("entity_bbox VIRTUAL TABLE")).Should().OnlyContain(line => System.Text.RegularExpressions.Regex.IsMatch(line, "INDEX 2:([DB][0-3]){4}"), "each box is a search of the R*Tree by its four bounds: " + string.Join("\n", plan));

        compiled.ByGeometry.Should().BeTrue();
        plan[0].Should().Be("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)", "entities are reached by the keys the box gives, not scanned: " + string.Join("\n", plan));
        plan.Should().Contain(line => line.Contains("entity_bbox VIRTUAL TABLE"));
        plan.Should().NotContain(line => line.Contains("USE TEMP B-TREE"), "the keys come out in creation order");
        plan.Where(line => line.Contains("SEARCH t ") || line.Contains("SEARCH v ")).Should().NotBeEmpty()
            .And.OnlyContain(line => line.Contains("ek=?"), "type and value are looked up per candidate, never read whole: " + string.Join("\n", plan));
    }

    [Theory]
    [InlineData("n>3")]
    [InlineData("n==3")]
    [InlineData("s==\"x\"")]
    public async Task A_value_clause_checked_per_candidate_reads_that_entitys_rows_of_the_attribute_by_the_primary_key(string q)
    {
        // Schema step 13: attribute_values is keyed (ek, attr, n), so its primary key is the entity index.
        await CreateAsync(1, "T");
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q, GeoRel: "near;maxDistance==500", Geometry: "Point", Coordinates: "[-3.7,40.4]"), ContextProcessor.Core);
        var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false));

        var plan = Plan(SqliteTenantStore.WalkSql(compiled, compiled.Where));

        plan.Where(line => line.Contains(" v ")).Should().Equal(["SEARCH v EXISTS USING PRIMARY KEY (ek=? AND attr=?)"], string.Join("\n", plan));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("n>3")]
    [InlineData("n")]
    public async Task A_page_past_the_probe_window_goes_through_an_index_tables_keys_never_an_offset_over_the_entity_table(string? q)
    {
        await CreateAsync(1, "T");
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q), ContextProcessor.Core);

        var keyed = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 5000, 20, false)).KeyedPages;

        keyed.Should().NotBeNullOrEmpty();
        foreach (var page in keyed!)
        {
            var plan = Plan(page.Page);
            // The entity table is reached only by the page's keys (rowid=?), to read their documents.
            plan.Where(line => line.Contains("entities")).Should().OnlyContain(line => line.Contains("INTEGER PRIMARY KEY (rowid=?)"), string.Join("\n", plan));
            plan.Where(line => System.Text.RegularExpressions.Regex.IsMatch(line, "^(SEARCH|SCAN) [tav] ")).Should().NotBeEmpty()
                .And.OnlyContain(line => line.StartsWith("SEARCH"), "every index table is searched, none scanned whole: " + string.Join("\n", plan));
            if (page.Unique) plan.Should().NotContain(line => line.Contains("TEMP B-TREE"), "a unique key set comes in key order from its index, so a page stops early: " + string.Join("\n", plan));
            Plan(page.Estimate).Should().NotContain(line => line.Contains("entities"), "the estimate counts index rows only");
        }
        keyed.Should().Contain(page => page.Unique, "the type's keys (PRIMARY KEY (type, ek))");
    }

    [Fact]
    public async Task A_types_size_for_the_break_even_is_one_look_up_in_the_statistics()
    {
        await CreateAsync(1, "T");

        Plan(SqliteTenantStore.TypeSizeSql).Should().Equal("SEARCH type_statistics USING PRIMARY KEY (type=? AND attr=? AND kind=?)");
    }

    [Fact]
    public void A_query_with_ids_pages_the_entity_tables_keys()
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Id: "urn:ngsi-ld:G:1,urn:ngsi-ld:G:2", Type: "T"), ContextProcessor.Core);

        SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false)).KeyedPages.Should().BeEmpty("an id clause reads the entity row");
    }

    [Fact]
    public async Task Deep_and_selective_pages_through_key_sets_equal_the_evaluators()
    {
        for (var batch = 0; batch < 3_000; batch += 500)
            await Task.WhenAll(Enumerable.Range(batch, 500).Select(i => CreateAsync(i, i % 3 == 0 ? "Three" : "Other")));
        // Two value rows of one entity, both matching: one entity in the page and the count.
        await CreateAsync("""{"id":"urn:ngsi-ld:G:multi","type":"Three","n":[{"type":"Property","value":2995},{"type":"Property","value":2996,"datasetId":"urn:ngsi-ld:Dataset:b"}]}""");
        var all = Enumerable.Range(0, 3_000).Select(i => (Id: $"urn:ngsi-ld:G:{i}", Type: i % 3 == 0 ? "Three" : "Other", N: (double)i))
            .Append((Id: "urn:ngsi-ld:G:multi", Type: "Three", N: 2995.5)).ToList();

        foreach (var (type, q, offset, limit, test) in new (string?, string?, int, int, Func<double, bool>)[]
        {
            ("Three", null, 700, 20, _ => true), ("Three", "n>100", 800, 30, n => n > 100), ("Three", "n>2900", 0, 20, n => n > 2900),
            ("Three", "n>2900", 30, 20, n => n > 2900), (null, "n>2990", 0, 20, n => n > 2990), ("Three", "n", 900, 50, _ => true),
            (null, "n<50;n>10", 5, 10, n => n is < 50 and > 10),
        })
        {
            var query = EntityQuery.Parse(new EntityQueryParameters(Type: type, Q: q), ContextProcessor.Core);
            var expected = all.Where(e => (type is null || e.Type == type) && test(e.N)).Select(e => e.Id).ToList();

            var counted = await _store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: true), default);
            var uncounted = await _store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: false), default);

            counted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit), $"{type} {q} {offset} {limit}");
            counted.TotalCount.Should().Be(expected.Count, $"{type} {q}");
            uncounted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit), $"{type} {q} {offset} {limit}");
        }
    }

    [Fact]
    public async Task Pages_and_counts_stay_the_evaluators_when_deletions_leave_rowid_gaps()
    {
        for (var batch = 0; batch < 3_000; batch += 500)
            await Task.WhenAll(Enumerable.Range(batch, 500).Select(i => CreateAsync(i, i % 2 == 0 ? "Even" : "Odd")));
        // The oldest 2,500 go: the rowid window from the oldest left now spans deleted rows.
        await Task.WhenAll(Enumerable.Range(0, 2_500).Where(i => i % 10 != 0).Select(i => _store.WriteAsync($"urn:ngsi-ld:G:{i}", _ => EntityWrite<bool>.Delete(true), default)));
        var remaining = Enumerable.Range(0, 3_000).Where(i => i >= 2_500 || i % 10 == 0).ToList();

        foreach (var (type, q, offset, limit) in new[] { ("Even", (string?)null, 0, 20), ("Even", "n>2600", 0, 20), ("Odd", null, 100, 50), ("Even", "n>=2990", 0, 10) })
        {
            var query = EntityQuery.Parse(new EntityQueryParameters(Type: type, Q: q), ContextProcessor.Core);
            var expected = remaining.Where(i => (i % 2 == 0) == (type == "Even") && (q is null || (q == "n>2600" ? i > 2600 : i >= 2990))).Select(i => $"urn:ngsi-ld:G:{i}").ToList();

            var counted = await _store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: true), default);
            var uncounted = await _store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: false), default);

            counted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit), $"{type} {q} {offset} {limit}");
            counted.TotalCount.Should().Be(expected.Count);
            uncounted.Entities.Select(e => e.Id).Should().Equal(expected.Skip(offset).Take(limit));
        }
    }

    private async Task<long?> CountAsync(string type, string q)
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: type, Q: q), ContextProcessor.Core);
        return (await _store.QueryAsync(new EntityPageRequest(query, 0, 5, Count: true), default)).TotalCount;
    }

    [Fact]
    public async Task A_count_of_a_type_and_an_attribute_no_other_type_has_reads_only_the_attributes_keys()
    {
        await CreateAsync(1, "T");
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: "n>3"), ContextProcessor.Core);

        var implied = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, true)).CountByAttribute;

        implied.Should().NotBeNull();
        implied!.Attributes.Should().Equal(ContextProcessor.Core.ExpandTerm("n"));
        var plan = Plan(implied.Count);
        plan.Should().NotContain(line => line.Contains("entities") || line.Contains(" t "), "neither the entity table nor the type's keys are read: " + string.Join("\n", plan));
        plan.Should().Contain(line => line.StartsWith("SEARCH v USING COVERING INDEX ix_attribute_values_num"));
        Plan(SqliteTenantStore.ImpliedTypeSql).Where(line => line.StartsWith("SCAN") || line.StartsWith("SEARCH")).Should()
            .OnlyContain(line => line.Contains("type_statistics") || line.Contains("CONSTANT ROW"), "the decision reads the statistics (a row per type, attribute and kind), nothing else");
    }

    [Theory]
    [InlineData("n>3|m==1")]
    [InlineData("!n")]
    public void A_count_keeps_its_type_clause_when_an_attribute_is_only_in_an_alternative_or_a_negation(string q)
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q), ContextProcessor.Core);

        SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, true)).CountByAttribute.Should().BeNull();
    }

    [Fact]
    public async Task A_count_equals_the_evaluator_as_the_type_statistics_of_its_attribute_change()
    {
        for (var i = 0; i < 10; i++) await CreateAsync(i, "T");
        await CreateAsync("""{"id":"urn:ngsi-ld:G:u1","type":"U","m":1}""");
        // Two instances of n: two value rows of one entity, counted once.
        await CreateAsync("""{"id":"urn:ngsi-ld:G:d","type":"T","n":[{"type":"Property","value":50},{"type":"Property","value":60,"datasetId":"urn:ngsi-ld:Dataset:b"}]}""");
        (await CountAsync("T", "n>3")).Should().Be(7, "only T has n: counted from n's keys alone, the entity with two n values once");

        // Another type with n: the type clause is needed again.
        await CreateAsync("""{"id":"urn:ngsi-ld:G:u2","type":"U","n":100}""");
        (await CountAsync("T", "n>3")).Should().Be(7);
        (await CountAsync("U", "n>3")).Should().Be(1);

        // An entity of both types: it has both (and only it has n among U's).
        await _store.WriteAsync("urn:ngsi-ld:G:u2", _ => EntityWrite<bool>.Delete(true), default);
        await CreateAsync("""{"id":"urn:ngsi-ld:G:tu","type":["T","U"],"n":200}""");
        (await CountAsync("T", "n>3")).Should().Be(8);
        (await CountAsync("U", "n>3")).Should().Be(1);
        (await CountAsync("T", "n>3;m==1")).Should().Be(0);
    }

    [Fact]
    public void A_near_query_prunes_the_boxs_candidates_by_distance_in_SQL()
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", GeoRel: "near;maxDistance==500", Geometry: "Point", Coordinates: "[-3.7,40.4]"), ContextProcessor.Core);

        var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false));

        compiled.Where.Should().Contain(SqliteQueryCompiler.BoxDistanceFunction + "(");
        compiled.ByGeometry.Should().BeTrue();
    }

    [Fact]
    public void The_box_distance_is_never_more_than_the_distance_to_any_point_of_the_box()
    {
        var random = new Random(20261130);
        for (var i = 0; i < 20_000; i++)
        {
            var (lon, lat) = (random.NextDouble() * 360 - 180, random.NextDouble() * 178 - 89);
            // Boxes from a float's rounding of a point to tens of degrees, near the point and far from it.
            var size = Math.Pow(10, random.NextDouble() * 7 - 6);
            var minX = Math.Clamp(lon + (random.NextDouble() - 0.5) * (i % 2 == 0 ? 0.1 : 40), -180, 180 - size);
            var minY = Math.Clamp(lat + (random.NextDouble() - 0.5) * (i % 2 == 0 ? 0.1 : 40), -89, 89 - size);
            var (maxX, maxY) = (minX + size * random.NextDouble() * 3, minY + size * random.NextDouble());
            var bound = SqliteQueryCompiler.BoxDistanceMetres(lon, lat, minX, maxX, minY, maxY);
            for (var j = 0; j < 5; j++)
            {
                var (x, y) = (minX + (maxX - minX) * random.NextDouble(), minY + (maxY - minY) * random.NextDouble());
                GeoEvaluator.Haversine(lon, lat, x, y).Should().BeGreaterThanOrEqualTo(bound, $"({lon}, {lat}) to ({x}, {y}) in [{minX}, {maxX}] x [{minY}, {maxY}]");
            }
        }
    }

    [Fact]
    public async Task A_near_query_finds_what_the_evaluator_finds_about_the_distance_limit()
    {
        // Points 452 to 552 m east of the centre, and a line whose box reaches within 500 m though the line does not.
        var (lon0, lat0) = (-3.7, 40.4);
        var metresPerDegreeLon = GeoEvaluator.Haversine(lon0, lat0, lon0 + 1, lat0);
        for (var d = 452; d <= 552; d += 5)
        {
            var lon = (lon0 + d / metresPerDegreeLon).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            await CreateAsync("{\"id\":\"urn:ngsi-ld:G:p" + d + "\",\"type\":\"T\",\"location\":{\"type\":\"GeoProperty\",\"value\":{\"type\":\"Point\",\"coordinates\":[" + lon + ",40.4]}}}");
        }
        await CreateAsync("""{"id":"urn:ngsi-ld:G:line","type":"T","location":{"type":"GeoProperty","value":{"type":"LineString","coordinates":[[-3.71,40.4045],[-3.69,40.42]]}}}""");
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", GeoRel: "near;maxDistance==500", Geometry: "Point", Coordinates: "[-3.7,40.4]"), ContextProcessor.Core);
        var all = new List<string>();
        foreach (var id in new[] { "line" }.Concat(Enumerable.Range(0, 21).Select(k => "p" + (452 + 5 * k))))
            all.Add("urn:ngsi-ld:G:" + id);
        var entities = new List<Entity>();
        foreach (var id in all) entities.Add((await _store.GetEntityAsync(id, default))!);
        var expected = entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToHashSet();

        var page = await _store.QueryAsync(new EntityPageRequest(query, 0, 100, Count: true), default);
        var firstFive = await _store.QueryAsync(new EntityPageRequest(query, 0, 5, Count: false), default);

        expected.Should().HaveCount(10, "452 to 497 m in 5 m steps");
        page.Entities.Select(e => e.Id).Should().BeEquivalentTo(expected);
        page.TotalCount.Should().Be(expected.Count);
        firstFive.Entities.Select(e => e.Id).Should().Equal(page.Entities.Take(5).Select(e => e.Id), "the walk stops at the page's end with the same first matches");
    }
}
