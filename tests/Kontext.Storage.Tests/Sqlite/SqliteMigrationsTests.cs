using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>SQLite files carry a schema version (PRAGMA user_version) and migrate by ordered steps when opened.</summary>
public sealed class SqliteMigrationsTests : IDisposable
{
    private readonly SqliteTestDirectory _directory = new("migrations");

    public void Dispose() => _directory.Dispose();

    private string File(string name) => _directory.File(name);

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Fact]
    public void Steps_are_numbered_in_order_from_one()
    {
        foreach (var steps in new[] { SqliteMigrations.Tenant, SqliteMigrations.System })
            steps.Select(s => s.Version).Should().Equal(Enumerable.Range(1, steps.Length));
        SqliteMigrations.Tenant.Should().Contain(s => s.Version == SqliteMigrations.Baseline);
    }

    [Fact]
    public async Task New_tenant_and_system_files_are_at_the_latest_version()
    {
        await using (var storage = new SqliteStorage(_directory.Path))
            await storage.GetTenantAsync("city", true, default);
        SqliteConnection.ClearAllPools();

        using var tenant = Open(Directory.EnumerateFiles(_directory.Path, "tenant-*.db").Single());
        SqliteMigrations.VersionOf(tenant).Should().Be(SqliteMigrations.Tenant[^1].Version);
        using var system = Open(File("system.db"));
        SqliteMigrations.VersionOf(system).Should().Be(SqliteMigrations.System[^1].Version);
    }

    [Fact]
    public async Task An_unversioned_file_from_before_the_later_tables_opens_migrated_with_its_data()
    {
        // A tenant file as the first releases wrote it: entities and notifications, no version, no temporal, federation or adapter tables.
        var path = File("kontext.db");
        using (var old = Open(path))
        {
            SqliteDatabase.Execute(old, SqliteSchema.Tables);
            SqliteDatabase.Execute(old, SqliteSchema.NotificationTables);
            SqliteDatabase.Execute(old, """
                INSERT INTO entities(id, doc, created_at, modified_at)
                VALUES('urn:ngsi-ld:T:1', '{"id":"urn:ngsi-ld:T:1","type":["https://uri.etsi.org/ngsi-ld/default-context/T"]}', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');
                INSERT INTO attribute_instances(entity_id, attr, instance_id, kind, modified_at, doc)
                VALUES('urn:ngsi-ld:T:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:i:1', 'Created', '2024-01-01T00:00:00Z', '{"type":"Property","value":4}');
                """);
            SqliteMigrations.VersionOf(old).Should().Be(0);
        }

        await using (var store = new SqliteTenantStore(null, path))
        {
            await store.Adapters!.SetValidationModeAsync("T", ValidationMode.Enforce, default);
            (await store.Adapters!.GetValidationModeAsync("T", default)).Should().Be(ValidationMode.Enforce);
        }
        SqliteConnection.ClearAllPools();

        using var migrated = Open(path);
        SqliteMigrations.VersionOf(migrated).Should().Be(SqliteMigrations.Tenant[^1].Version);
        Scalar(migrated, "SELECT COUNT(*) FROM entities").Should().Be(1L, "the data stays");
        Scalar(migrated, "SELECT sample_num FROM attribute_instances").Should().Be(4.0, "the temporal step filled the sample columns in");
        Scalar(migrated, "SELECT COUNT(*) FROM temporal_series").Should().Be(1L);
        Scalar(migrated, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('registrations', 'adapter_dead_letters')").Should().Be(2L);
    }

    [Fact]
    public async Task A_version_5_file_gets_integer_entity_keys_and_its_entities_stay_found_counted_and_deletable()
    {
        // Index rows as versions 1–5 wrote them: keyed by the entity's text id.
        var path = File("v5.db");
        using (var old = Open(path))
        {
            SqliteMigrations.Apply(old, SqliteMigrations.Tenant.Take(5).ToList()).Should().Be(5);
            foreach (var json in new[]
                     {
                         """{"id":"urn:ngsi-ld:T:1","type":"T","n":4,"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""",
                         """{"id":"urn:ngsi-ld:T:2","type":"T","n":9}""",
                     })
            {
                var entity = Kontext.Ngsi.Model.EntityParser.ParseEntity(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject(), Kontext.Ngsi.JsonLd.ContextProcessor.Core, Kontext.Ngsi.Model.ParseMode.Full);
                using var insert = old.CreateCommand();
                insert.CommandText = "INSERT INTO entities(id, doc, created_at, modified_at) VALUES($id, $doc, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')";
                insert.Parameters.AddWithValue("$id", entity.Id);
                insert.Parameters.AddWithValue("$doc", System.Text.Encoding.UTF8.GetString(Kontext.Ngsi.Model.EntityJson.Serialize(entity)));
                insert.ExecuteNonQuery();
            }
            SqliteDatabase.Execute(old, """
                INSERT INTO entity_types(type, entity_id) VALUES('https://uri.etsi.org/ngsi-ld/default-context/T', 'urn:ngsi-ld:T:1'), ('https://uri.etsi.org/ngsi-ld/default-context/T', 'urn:ngsi-ld:T:2');
                INSERT INTO entity_attributes(attr, entity_id, kinds) VALUES('https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:T:1', 'Property'), ('https://uri.etsi.org/ngsi-ld/location', 'urn:ngsi-ld:T:1', 'GeoProperty'), ('https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:T:2', 'Property');
                INSERT INTO attribute_values(attr, entity_id, num, str) VALUES('https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:T:1', 4, NULL), ('https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:T:2', 9, NULL);
                INSERT INTO entity_geometries(rid, entity_id, attr) VALUES(7, 'urn:ngsi-ld:T:1', 'https://uri.etsi.org/ngsi-ld/location');
                INSERT INTO entity_bbox(rid, min_x, max_x, min_y, max_y) VALUES(7, 1, 1, 2, 2);
                INSERT INTO type_statistics(type, attr, kind, entities) VALUES('https://uri.etsi.org/ngsi-ld/default-context/T', '', '', 2);
                """);
        }

        await using (var store = new SqliteTenantStore(null, path))
        {
            EntityPage Query(string q, string? georel = null) => store.QueryAsync(new EntityPageRequest(Kontext.Ngsi.Query.EntityQuery.Parse(
                new Kontext.Ngsi.Query.EntityQueryParameters(Type: "T", Q: q, GeoRel: georel, Geometry: georel is null ? null : "Point",
                    Coordinates: georel is null ? null : "[1,2]"), Kontext.Ngsi.JsonLd.ContextProcessor.Core), 0, 10, Count: true), default).Result;

            Query("n>5").Should().Match<EntityPage>(p => p.TotalCount == 1 && p.Entities.Single().Id == "urn:ngsi-ld:T:2");
            Query("n>1").Entities.Select(e => e.Id).Should().Equal(["urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2"], "creation order is kept");
            Query("n>1", "near;maxDistance==10").Entities.Select(e => e.Id).Should().Equal("urn:ngsi-ld:T:1");

            await store.WriteAsync("urn:ngsi-ld:T:1", _ => EntityWrite<bool>.Delete(true), default);
            Query("n>1").TotalCount.Should().Be(1);
        }
        SqliteConnection.ClearAllPools();

        using var migrated = Open(path);
        SqliteMigrations.VersionOf(migrated).Should().Be(SqliteMigrations.Tenant[^1].Version);
        Scalar(migrated, "SELECT COUNT(*) FROM entity_geometries").Should().Be(0L, "the deletion found the migrated rows by their key");
        Scalar(migrated, "SELECT COUNT(*) FROM attribute_values").Should().Be(1L);
        Scalar(migrated, "SELECT typeof(attr) FROM attribute_values").Should().Be("integer", "index rows name an attribute by its id in names");
        Scalar(migrated, "SELECT COUNT(*) FROM names").Should().Be(3L, "T, n and location, each once");
        Scalar(migrated, "SELECT COUNT(*) FROM deleted_entities").Should().Be(1L, "the entity table's triggers were made again");
    }

    /// <summary>
    /// Version 12's value rows: a rowid table with an index by (ek, attr), an attribute's rows in rowid order (as step 7
    /// made it), and no history key in the entity rows. The step-13 test writes its data through this build, then puts
    /// the file back in that layout.
    /// </summary>
    private const string Version12Values = """
        CREATE TABLE attribute_values_v12(attr INTEGER NOT NULL, ek INTEGER NOT NULL, num REAL, str TEXT);
        INSERT INTO attribute_values_v12(attr, ek, num, str) SELECT attr, ek, num, str FROM attribute_values ORDER BY (ek * 7919) % 101, attr DESC, n;
        DROP TABLE attribute_values;
        ALTER TABLE attribute_values_v12 RENAME TO attribute_values;
        CREATE INDEX ix_attribute_values_entity ON attribute_values(ek, attr);
        CREATE INDEX ix_attribute_values_num ON attribute_values(attr, num, ek) WHERE num IS NOT NULL;
        CREATE INDEX ix_attribute_values_str ON attribute_values(attr, str, ek) WHERE str IS NOT NULL;
        ALTER TABLE entities DROP COLUMN hk;
        PRAGMA user_version = 12;
        """;

    [Fact]
    public async Task A_version_12_file_gets_value_rows_keyed_by_entity_and_history_keys_in_entity_rows_and_every_query_answers_as_before()
    {
        var path = File("v12.db");
        static Kontext.Ngsi.Model.Entity Parse(string json) =>
            Kontext.Ngsi.Model.EntityParser.ParseEntity(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject(), Kontext.Ngsi.JsonLd.ContextProcessor.Core, Kontext.Ngsi.Model.ParseMode.Full);
        string[] queries =
        [
            "n>5", "n<=12", "n==7", "n==3..9", "s==\"s2\"", "s==\"s1\",\"s3\"", "multi>120", "multi==4", "multi<3", "list==\"x4\"", "list>30",
            "n>5;s==\"s0\"", "n>20|multi==101", "!s", "n>3;list==\"x1\"",
        ];
        // Created, or replaced whole, with their history (as a POST or a PUT of the entity).
        static Func<Kontext.Ngsi.Model.Entity?, EntityWrite<bool>> Upsert(Kontext.Ngsi.Model.Entity entity) => current =>
        {
            var operations = new Kontext.Ngsi.Model.EntityOperations(DateTimeOffset.UtcNow);
            var after = current is null ? operations.Create(entity) : operations.Replace(current, entity);
            return EntityWrite<bool>.Upsert(after, operations.Changes, true);
        };
        async Task<List<string>> AnswersAsync(SqliteTenantStore store)
        {
            var answers = new List<string>();
            foreach (var q in queries)
                foreach (var (offset, limit) in new[] { (0, 100), (0, 3), (4, 5) })
                {
                    var query = Kontext.Ngsi.Query.EntityQuery.Parse(new Kontext.Ngsi.Query.EntityQueryParameters(Type: "T", Q: q), Kontext.Ngsi.JsonLd.ContextProcessor.Core);
                    var page = await store.QueryAsync(new EntityPageRequest(query, offset, limit, Count: true), default);
                    answers.Add($"{q} {offset} {limit}: {page.TotalCount} [{string.Join(' ', page.Entities.Select(e => e.Id))}]");
                }
            return answers;
        }

        List<string> expected;
        await using (var store = new SqliteTenantStore(null, path))
        {
            for (var i = 0; i < 30; i++)
            {
                // Several value rows per attribute: two instances by datasetId, a list of numbers and texts.
                var s = i % 4 == 3 ? "" : $",\"s\":\"s{i % 5}\"";
                var entity = Parse($$$"""
                    {"id":"urn:ngsi-ld:T:{{{i}}}","type":"T","n":{{{i}}}{{{s}}},
                     "multi":[{"type":"Property","value":{{{i}}}},{"type":"Property","value":{{{i + 100}}},"datasetId":"urn:ds:b"}],
                     "list":{"type":"Property","value":[{{{i * 2}}},"x{{{i % 6}}}",{{{i * 3}}}]}}
                    """);
                await store.WriteAsync(entity.Id, Upsert(entity), default);
            }
            expected = await AnswersAsync(store);
        }
        SqliteConnection.ClearAllPools();
        using (var old = Open(path))
        {
            SqliteDatabase.Execute(old, Version12Values);
            Scalar(old, "SELECT COUNT(*) FROM attribute_values").Should().Be(30L * 6 + 30 - 30 / 4);
        }

        await using (var store = new SqliteTenantStore(null, path))
        {
            (await AnswersAsync(store)).Should().Equal(expected);
            // Writes after the migration find the migrated rows by their key: a new list (rows updated where they are),
            // a list of another length (rows replaced), a new reading of one value, a deleted entity.
            var updated = Parse("""{"id":"urn:ngsi-ld:T:4","type":"T","n":4,"multi":{"type":"Property","value":55},"list":{"type":"Property","value":[1,"y",2]}}""");
            await store.WriteAsync(updated.Id, Upsert(updated), default);
            var shorter = Parse("""{"id":"urn:ngsi-ld:T:5","type":"T","n":77,"list":{"type":"Property","value":["z"]}}""");
            await store.WriteAsync(shorter.Id, Upsert(shorter), default);
            await store.WriteAsync("urn:ngsi-ld:T:6", _ => EntityWrite<bool>.Delete(true), default);
            async Task<string> IdsAsync(string q) => string.Join(' ', (await store.QueryAsync(new EntityPageRequest(Kontext.Ngsi.Query.EntityQuery.Parse(
                new Kontext.Ngsi.Query.EntityQueryParameters(Type: "T", Q: q), Kontext.Ngsi.JsonLd.ContextProcessor.Core), 0, 100, Count: false), default)).Entities.Select(e => e.Id));
            (await IdsAsync("list==\"y\"")).Should().Be("urn:ngsi-ld:T:4");
            (await IdsAsync("list==\"z\"")).Should().Be("urn:ngsi-ld:T:5");
            (await IdsAsync("multi==55")).Should().Be("urn:ngsi-ld:T:4");
            (await IdsAsync("n==77")).Should().Be("urn:ngsi-ld:T:5");
            (await IdsAsync("multi==104|multi==105|n==6|n==5")).Should().BeEmpty("the old rows of T:4, T:5 and T:6 are gone");
        }
        SqliteConnection.ClearAllPools();

        using var migrated = Open(path);
        SqliteMigrations.VersionOf(migrated).Should().Be(SqliteMigrations.Tenant[^1].Version);
        Scalar(migrated, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'ix_attribute_values_entity'").Should().Be(0L, "the primary key is the entity index");
        Scalar(migrated, "SELECT COUNT(*) FROM (SELECT ek, attr FROM attribute_values GROUP BY ek, attr HAVING MAX(n) <> COUNT(*) - 1 OR MIN(n) <> 0)")
            .Should().Be(0L, "each attribute's rows are numbered 0, 1, …");
        Scalar(migrated, "SELECT group_concat(coalesce(num, str), ',') FROM (SELECT num, str FROM attribute_values WHERE ek = (SELECT ek FROM entities WHERE id = 'urn:ngsi-ld:T:9') AND attr = (SELECT nid FROM names WHERE iri LIKE '%/list') ORDER BY n)")
            .Should().Be("18.0,x3,27.0", "an attribute's rows keep their order");
        // Step 14: the entity rows learnt their history keys as they were written, and their history went on where it was.
        Scalar(migrated, "SELECT group_concat(id, ' ') FROM (SELECT id FROM entities WHERE hk IS NOT NULL ORDER BY ek)").Should().Be("urn:ngsi-ld:T:4 urn:ngsi-ld:T:5");
        Scalar(migrated, "SELECT COUNT(*) FROM entities e JOIN history_entities h ON h.hk = e.hk WHERE h.id <> e.id").Should().Be(0L);
        Scalar(migrated, "SELECT COUNT(*) FROM history_entities").Should().Be(30L, "no entity's history started again");
    }

    [Fact]
    public void Only_the_steps_above_the_files_version_run()
    {
        using var connection = Open(File("partial.db"));
        var ran = new List<int>();
        SqliteMigrations.Step[] steps = [new(1, "one", _ => ran.Add(1)), new(2, "two", _ => ran.Add(2)), new(3, "three", _ => ran.Add(3))];
        SqliteDatabase.Execute(connection, "PRAGMA user_version = 1");

        SqliteMigrations.Apply(connection, steps).Should().Be(3);
        SqliteMigrations.Apply(connection, steps).Should().Be(3);

        ran.Should().Equal(2, 3);
    }

    [Fact]
    public void A_file_from_a_newer_release_is_refused()
    {
        var path = File("newer.db");
        using (var newer = Open(path))
            SqliteDatabase.Execute(newer, $"PRAGMA user_version = {SqliteMigrations.Tenant[^1].Version + 1}");

        var open = () => new SqliteTenantStore(null, path);

        open.Should().Throw<InvalidOperationException>().WithMessage("*newer than this Kontext knows*");
    }
}
