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

    private Task CreateAsync(int i, string type)
    {
        var entity = EntityParser.ParseEntity(JsonNode.Parse($$"""{"id":"urn:ngsi-ld:G:{{i}}","type":"{{type}}","n":{{i}}}""")!.AsObject(), ContextProcessor.Core, ParseMode.Full);
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
        foreach (var name in new[] { "$after", "$end" }) command.Parameters.AddWithValue(name, 0);
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
    public async Task A_geo_query_walks_the_candidates_of_its_bounding_box_by_key_and_checks_the_other_clauses_per_candidate(string georel, string? q)
    {
        await CreateAsync(1, "T");
        var within = georel == "within";
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q, GeoRel: georel, Geometry: within ? "Polygon" : "Point",
            Coordinates: within ? "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]" : "[-3.7,40.4]"), ContextProcessor.Core);
        var compiled = SqliteQueryCompiler.Compile(new EntityPageRequest(query, 0, 20, false));

        var plan = Plan(SqliteTenantStore.WalkSql(compiled, compiled.Where));

        compiled.ByGeometry.Should().BeTrue();
        plan[0].Should().Be("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)", "entities are reached by the keys the box gives, not scanned: " + string.Join("\n", plan));
        plan.Should().Contain(line => line.Contains("entity_bbox VIRTUAL TABLE"));
        plan.Should().NotContain(line => line.Contains("USE TEMP B-TREE"), "the keys come out in creation order");
        plan.Where(line => line.Contains("SEARCH t ") || line.Contains("SEARCH v ")).Should().NotBeEmpty()
            .And.OnlyContain(line => line.Contains("ek=?"), "type and value are looked up per candidate, never read whole: " + string.Join("\n", plan));
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
}
