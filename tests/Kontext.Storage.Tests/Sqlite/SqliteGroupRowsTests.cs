using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// A group's entity writes stage their new rows and the writer writes them set-based before the group commits
/// (<see cref="SqliteGroupRows"/>): the file holds the same rows as when each write inserts its own, a failed job's rows
/// are dropped with it, and every later job of the group sees the staged rows.
/// </summary>
public sealed class SqliteGroupRowsTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly SqliteTestDirectory _grouped = new("group-rows");
    private readonly SqliteTestDirectory _oneByOne = new("one-by-one");

    public void Dispose()
    {
        _grouped.Dispose();
        _oneByOne.Dispose();
    }

    /// <param name="asBatch">
    /// The grouped store gets each round as one <see cref="IEntityStore.WriteManyAsync{T}"/> call (a batch operation's
    /// path: few writer jobs, each write in its own savepoint) instead of a <see cref="IEntityStore.WriteAsync{T}"/> each.
    /// Some writes fail (a delete of an entity that does not exist): their results stay theirs, the others are stored.
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Entities_written_as_a_group_are_stored_with_the_rows_of_entities_written_one_at_a_time(bool asBatch)
    {
        // The same writes, issued at once (so the writer groups them), into two stores: one through WriteAsync, which
        // stages; one through WriteAndPurgeAsync with a purge that selects nothing, which inserts each row as it goes.
        var random = new Random(12);
        var rounds = new List<List<(string Id, Func<Entity?, EntityWrite<bool>> Decide)>>();
        for (var round = 0; round < 4; round++)
        {
            var writes = new List<(string, Func<Entity?, EntityWrite<bool>>)>();
            for (var i = 0; i < 80; i++)
            {
                var n = random.Next(round == 0 ? 60 : 100);
                var id = $"urn:ngsi-ld:T:{n}";
                writes.Add(random.Next(12) == 0 ? (id, Delete) : (id, Upsert(RandomEntity(id, random), update: random.Next(3) == 0)));
            }
            rounds.Add(writes);
        }

        await using (var stores = await OpenBothAsync())
        {
            var (groupedStore, oneByOneStore) = (stores.Grouped, stores.OneByOne);
            var nothing = new HistoryPurge("https://example.org/no-such-attribute");
            var failures = 0;
            foreach (var writes in rounds)
            {
                var groupedResults = asBatch
                    ? (await groupedStore.WriteManyAsync(writes, default)).Select(o => o.Error?.GetType().Name ?? o.Result.ToString()).ToArray()
                    : await Task.WhenAll(writes.Select(w => Outcome(() => groupedStore.WriteAsync(w.Id, w.Decide, default))));
                var oneByOneResults = await Task.WhenAll(writes.Select(w => Outcome(async () => (await oneByOneStore.History!.WriteAndPurgeAsync(w.Id, w.Decide, nothing, default)).Result)));
                groupedResults.Should().Equal(oneByOneResults);
                failures += oneByOneResults.Count(r => r == nameof(InvalidOperationException));
            }
            failures.Should().BeGreaterThan(0, "some writes fail between others that succeed");
        }

        var expected = Dump(_oneByOne.DbPath);
        expected.Should().Contain("attribute_instances").And.Contain("entity_geometries").And.Contain("change_log").And.Contain("temporal_buckets");
        Dump(_grouped.DbPath).Should().Be(expected);
    }

    /// <summary>
    /// The group binds texts from UTF-8 it encodes itself (a buffer per thread, an instance document trimmed as it is
    /// encoded): empty texts stay empty (not NULL), other scripts and characters outside the BMP arrive whole, and the
    /// file holds what the one-at-a-time inserts (Microsoft.Data.Sqlite's binding) give.
    /// </summary>
    [Fact]
    public async Task Texts_written_as_a_group_are_stored_as_written_one_at_a_time_empty_and_non_ascii_included()
    {
        string[] texts = ["", "Zürich – Straße", "東京 🌍", new string('x', 9000) + "é", "a\"b\\c"];
        var writes = texts.Select((text, i) =>
        {
            var id = $"urn:ngsi-ld:T:text{i}";
            var json = new JsonObject
            {
                ["id"] = id, ["type"] = "T",
                ["s"] = new JsonObject { ["type"] = "Property", ["value"] = text, ["observedAt"] = "2026-11-01T00:00:00Z" },
                ["n"] = new JsonObject { ["type"] = "Property", ["value"] = text.Length },
            };
            return (Id: id, Decide: Upsert(EntityParser.ParseEntity(json, ContextProcessor.Core, ParseMode.Full), update: false));
        }).ToList();

        await using (var stores = await OpenBothAsync())
        {
            var (groupedStore, oneByOneStore) = (stores.Grouped, stores.OneByOne);
            (await groupedStore.WriteManyAsync(writes, default)).Should().AllSatisfy(o => o.Error.Should().BeNull());
            var nothing = new HistoryPurge("https://example.org/no-such-attribute");
            foreach (var (id, decide) in writes) await oneByOneStore.History!.WriteAndPurgeAsync(id, decide, nothing, default);
            foreach (var (i, text) in texts.Index())
                (await groupedStore.GetEntityAsync($"urn:ngsi-ld:T:text{i}", default))!.Attributes["https://uri.etsi.org/ngsi-ld/default-context/s"][0]["value"]!
                    .GetValue<string>().Should().Be(text);
        }

        Dump(_grouped.DbPath).Should().Be(Dump(_oneByOne.DbPath));
        using var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
        connection.Open();
        Column(connection, "SELECT typeof(str) || ':' || str FROM attribute_values WHERE str IS NOT NULL OR num IS NULL ORDER BY ek, attr, n")
            .Should().Equal(texts.Select(t => "text:" + t));
        Column(connection, "SELECT typeof(doc) FROM attribute_instances GROUP BY 1").Should().Equal("text");
    }

    /// <summary>
    /// A group's history rows store their instances' members from where the entity's encode wrote them
    /// (<see cref="EncodedInstances"/>), and observedAt as the last instance's when its text is the same: every form of
    /// observedAt, instances shared by one time or each with its own, sub-attributes, other scripts, and updated instances
    /// (whose createdAt is not their modifiedAt) store what the one-at-a-time inserts store.
    /// </summary>
    [Fact]
    public async Task History_rows_written_as_a_group_are_stored_as_written_one_at_a_time_for_every_form_of_observedAt()
    {
        string[] observed = ["2026-11-01T10:00:00Z", "2026-11-01T10:00:00.000Z", "2026-11-01T10:00:00.5Z", "2026-11-01T10:00:00.123456789Z", "2026-11-01T10:00:00.120Z"];
        Entity Body(int i, int version) => EntityParser.ParseEntity(JsonNode.Parse($$$"""
            {"id":"urn:ngsi-ld:T:h{{{i}}}","type":"T",
             "a":{"type":"Property","value":{{{version}}},"observedAt":"{{{observed[i % observed.Length]}}}"},
             "b":{"type":"Property","value":"Zürich 東京 🌍 \"q\"","observedAt":"{{{observed[i % observed.Length]}}}","unitCode":"C62"},
             "c":{"type":"Property","value":{"n":[1,2.50]},"observedAt":"{{{observed[(i + 1) % observed.Length]}}}",
                  "accuracy":{"type":"Property","value":0.1,"observedAt":"{{{observed[(i + 2) % observed.Length]}}}"}},
             "r":{"type":"Relationship","object":"urn:ngsi-ld:T:{{{version}}}","observedAt":"{{{observed[(i + 3) % observed.Length]}}}"},
             "d":[{"type":"Property","value":1,"datasetId":"urn:d:1","observedAt":"{{{observed[(i + 4) % observed.Length]}}}"},{"type":"Property","value":2}]}
            """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        // Created, then updated an hour later (the instances keep their createdAt), then replaced another hour later.
        var rounds = new[] { (Version: 1, Update: false), (Version: 2, Update: true), (Version: 3, Update: false) }
            .Select(round => Enumerable.Range(0, 10)
                .Select(i => (Id: $"urn:ngsi-ld:T:h{i}", Decide: Upsert(Body(i, round.Version), round.Update, Now.AddHours(round.Version)))).ToList());

        await using (var stores = await OpenBothAsync())
        {
            var nothing = new HistoryPurge("https://example.org/no-such-attribute");
            foreach (var writes in rounds)
            {
                (await stores.Grouped.WriteManyAsync(writes, default)).Should().AllSatisfy(o => o.Error.Should().BeNull());
                foreach (var (id, decide) in writes) await stores.OneByOne.History!.WriteAndPurgeAsync(id, decide, nothing, default);
            }
        }

        var expected = Dump(_oneByOne.DbPath);
        expected.Should().Contain("2026-11-01T10:00:00.123Z").And.Contain("2026-11-01T10:00:00.500Z");
        Dump(_grouped.DbPath).Should().Be(expected);
    }

    [Fact]
    public async Task A_write_to_an_entity_created_earlier_in_its_group_sees_it()
    {
        await using var storage = _grouped.Open();
        var store = (await storage.GetTenantAsync(null, true, default))!;
        var id = "urn:ngsi-ld:T:twice";
        // Queued back to back, so usually one group; the outcome must not depend on it.
        var first = store.WriteAsync(id, Upsert(RandomEntity(id, new Random(1)), update: false), default);
        var second = store.WriteAsync(id, Upsert(RandomEntity(id, new Random(2)), update: true), default);
        (await first).Should().BeTrue("the first write creates the entity");
        (await second).Should().BeFalse("the second finds it");
        (await store.GetEntityAsync(id, default))!.Attributes.Should().NotBeEmpty();
    }

    [Fact]
    public async Task Rows_staged_by_a_rolled_back_job_are_not_written_and_the_rest_of_its_group_is()
    {
        await using var writer = NewWriter();
        Task<bool> Stage(string id, bool fail) => writer.Enqueue(c =>
        {
            StageEntity(c, id);
            SqliteDatabase.State(c).GroupRows.Add(new SqliteGroupRows.Change(id, "create", "2026-01-01T00:00:00.000Z", null, "{}"));
            return fail ? throw new InvalidOperationException("the write fails") : true;
        }, default, stagingFor: id);
        var kept = Stage("urn:a", fail: false);
        var failed = Stage("urn:b", fail: true);
        var keptToo = Stage("urn:c", fail: false);
        // A job that does not stage runs after the staged rows are written, and sees them.
        var seen = writer.Enqueue(c => (long)SqliteDatabase.Cached(c, "SELECT COUNT(*) FROM entities").ExecuteScalar()!, default);

        (await kept).Should().BeTrue();
        (await keptToo).Should().BeTrue();
        await failed.Invoking(t => t).Should().ThrowAsync<InvalidOperationException>();
        (await seen).Should().Be(2);
        (await writer.Enqueue(c => Column(c, "SELECT id FROM entities ORDER BY ek"), default)).Should().Equal("urn:a", "urn:c");
        (await writer.Enqueue(c => Column(c, "SELECT entity_id FROM change_log ORDER BY seq"), default)).Should().Equal("urn:a", "urn:c");
    }

    [Fact]
    public async Task A_job_of_several_writes_answers_each_and_a_failed_group_fails_every_write_not_failed_on_its_own()
    {
        await using var writer = NewWriter();
        (string, Func<SqliteConnection, bool>) Stage(string id, bool fail) => (id, c =>
        {
            StageEntity(c, id);
            return fail ? throw new InvalidOperationException("the write fails") : true;
        });

        // One job: a write that fails rolls back alone, the others are stored.
        var outcomes = await writer.EnqueueMany([Stage("urn:a", false), Stage("urn:b", true), Stage("urn:c", false)], default);
        outcomes.Select(o => o.Error?.GetType().Name ?? o.Result.ToString()).Should().Equal("True", nameof(InvalidOperationException), "True");
        (await writer.Enqueue(c => Column(c, "SELECT id FROM entities ORDER BY ek"), default)).Should().Equal("urn:a", "urn:c");

        // A job whose group cannot commit (its last write stages an entity that exists): every write but the one that
        // failed on its own fails with the group's cause, and nothing of the group is stored.
        outcomes = await writer.EnqueueMany([Stage("urn:d", false), Stage("urn:e", true), Stage("urn:a", false)], default);
        outcomes[0].Error.Should().BeOfType<SqliteException>();
        outcomes[1].Error.Should().BeOfType<InvalidOperationException>();
        outcomes[2].Error.Should().BeSameAs(outcomes[0].Error);
        (await writer.Enqueue(c => Column(c, "SELECT id FROM entities ORDER BY ek"), default)).Should().Equal("urn:a", "urn:c");
    }

    [Fact]
    public async Task The_group_look_ups_of_history_and_series_keys_seek_their_unique_indexes()
    {
        using var connection = await FiftyEntitiesAsync(3);
        List<string> Plan(string format, string row) => PlanOf(connection, format, row);

        // Through the entity's row (by its id, as the write read it) and its history key: no history_entities page (step 14).
        Plan(SqliteGroupRows.KnownSeries, "('urn:ngsi-ld:T:1', 1)").Skip(1).Should().Equal(
            "SEARCH e USING INDEX sqlite_autoindex_entities_1 (id=?)", "SEARCH s USING COVERING INDEX sqlite_autoindex_temporal_series_1 (hk=? AND attr=?)");
        Plan(SqliteGroupRows.KeepHistoryKeys, "('urn:ngsi-ld:T:1', 1)").Should().Contain(l => l.StartsWith("SEARCH entities USING INDEX sqlite_autoindex_entities_1 (id=?)", StringComparison.Ordinal));
        Plan(SqliteGroupRows.HistoryKeys, "('urn:ngsi-ld:T:1')").Should().Contain(l => l.StartsWith("SEARCH h USING COVERING INDEX", StringComparison.Ordinal))
            .And.NotContain(l => l.StartsWith("SCAN h"));
        Plan(SqliteGroupRows.SeriesKeys, "(1, 1)").Should().Contain(l => l.StartsWith("SEARCH s USING COVERING INDEX", StringComparison.Ordinal))
            .And.NotContain(l => l.StartsWith("SCAN s"));
    }

    [Fact]
    public async Task The_group_writes_of_updated_entities_seek_their_rows_by_key()
    {
        using var connection = await FiftyEntitiesAsync(4);
        List<string> Plan(string format, string row) => PlanOf(connection, format, row);

        // Every table is reached by its key or an index on the entity key, never scanned (the VALUES rows are).
        var plans = new[]
        {
            (SqliteGroupRows.UpdateEntities, "(1, '{}', 'x')", "entities"),
            (SqliteGroupRows.DropTypes, "(1)", "entity_types"),
            (SqliteGroupRows.DropScopes, "(1)", "entity_scopes"),
            (SqliteGroupRows.DropAttributes, "(1, 1)", "entity_attributes"),
            (SqliteGroupRows.DropValues, "(1, 1)", "attribute_values"),
            (SqliteGroupRows.DropBoxes, "(1, 1)", "g"),
            (SqliteGroupRows.DropGeometries, "(1, 1)", "g"),
            (SqliteGroupRows.DropCells, "(1, 1)", "entity_cells"),
            (SqliteGroupRows.UpdateKinds, "(1, 1, 'Property')", "entity_attributes"),
            (SqliteGroupRows.UpdateValues, "(1, 1, 1.5, NULL)", "attribute_values"),
        };
        foreach (var (sql, row, table) in plans)
        {
            var plan = Plan(sql, row);
            plan.Should().Contain(l => l.StartsWith($"SEARCH {table} USING", StringComparison.Ordinal), sql)
                .And.NotContain(l => l.StartsWith($"SCAN {table}", StringComparison.Ordinal), sql);
        }
        // The value rows by their primary key (ek, attr, n): no separate entity index to read first (schema step 13).
        foreach (var sql in new[] { SqliteGroupRows.DropValues, SqliteGroupRows.UpdateValues })
            Plan(sql, sql == SqliteGroupRows.DropValues ? "(1, 1)" : "(1, 1, 1.5, NULL)").Should()
                .Contain(l => l.StartsWith("SEARCH attribute_values USING PRIMARY KEY (ek=?", StringComparison.Ordinal), sql);
    }

    [Fact]
    public async Task An_update_whose_value_rows_disagree_with_the_stored_document_gets_them_written_anew()
    {
        // A value row lost (or doubled) behind the document's back: the in-place update of the group finds another
        // count of rows than the fingerprint said, and the attribute's rows are dropped and inserted as the document says.
        await using var storage = _grouped.Open();
        var store = (await storage.GetTenantAsync(null, true, default))!;
        Entity Reading(string id, double no2, double o3) => EntityParser.ParseEntity(JsonNode.Parse($$$"""
            {"id":"{{{id}}}","type":"T","no2":{"type":"Property","value":{{{no2}}}},"o3":{"type":"Property","value":{{{o3}}}}}
            """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => store.WriteAsync($"urn:ngsi-ld:T:{i}", Upsert(Reading($"urn:ngsi-ld:T:{i}", 1, 1), false), default)));
        using (var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                DELETE FROM attribute_values WHERE ek = (SELECT ek FROM entities WHERE id = 'urn:ngsi-ld:T:1')
                  AND attr = (SELECT nid FROM names WHERE iri = 'https://uri.etsi.org/ngsi-ld/default-context/no2')
                """;
            command.ExecuteNonQuery().Should().Be(1);
        }

        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => store.WriteAsync($"urn:ngsi-ld:T:{i}", Upsert(Reading($"urn:ngsi-ld:T:{i}", 10 + i, 20 + i), false), default)));

        using var check = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
        check.Open();
        Column(check, """
            SELECT e.id || ' ' || n.iri || ' ' || v.num FROM attribute_values v JOIN entities e USING (ek) JOIN names n ON n.nid = v.attr
            ORDER BY e.id, n.iri
            """).Select(r => r.Replace("https://uri.etsi.org/ngsi-ld/default-context/", "")).Should().Equal(
            "urn:ngsi-ld:T:0 no2 10.0", "urn:ngsi-ld:T:0 o3 20.0", "urn:ngsi-ld:T:1 no2 11.0", "urn:ngsi-ld:T:1 o3 21.0",
            "urn:ngsi-ld:T:2 no2 12.0", "urn:ngsi-ld:T:2 o3 22.0");
    }

    [Fact]
    public async Task The_history_key_kept_in_an_entity_row_never_names_another_entitys_history()
    {
        // Step 14: a group write finds a series through entities.hk. A purge of an entity's history frees its history
        // key, which the next new history may be given (the largest key, freed, is given again): the entity's next
        // instance must start a history of its own, not go into the other entity's.
        await using var storage = _grouped.Open();
        var store = (await storage.GetTenantAsync(null, true, default))!;
        Entity Reading(string id, double no2) => EntityParser.ParseEntity(JsonNode.Parse($$$"""
            {"id":"{{{id}}}","type":"T","no2":{"type":"Property","value":{{{no2}}}}}
            """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        const string B = "urn:ngsi-ld:T:b", A = "urn:ngsi-ld:T:a", C = "urn:ngsi-ld:T:c";
        const string No2 = "https://uri.etsi.org/ngsi-ld/default-context/no2";
        await store.WriteAsync(B, Upsert(Reading(B, 1), false), default);
        await store.WriteAsync(A, Upsert(Reading(A, 2), false), default);
        await store.WriteAsync(A, Upsert(Reading(A, 3), true), default);
        List<string> Keys()
        {
            using var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
            connection.Open();
            return Column(connection, "SELECT e.id || ' ' || coalesce(e.hk, '-') || ' ' || coalesce((SELECT hk FROM history_entities h WHERE h.id = e.id), '-') FROM entities e ORDER BY e.id");
        }
        Keys().Should().Equal($"{A} 2 2", $"{B} 1 1");

        await store.History!.WriteAndPurgeAsync(A, _ => EntityWrite<bool>.Nothing(false), HistoryPurge.WholeEntity, default);
        Keys().Should().Equal($"{A} - -", $"{B} 1 1");
        await store.WriteAsync(C, Upsert(Reading(C, 4), false), default);
        Keys().Should().Equal($"{A} - -", $"{B} 1 1", $"{C} 2 2");
        await Task.WhenAll(store.WriteAsync(A, Upsert(Reading(A, 5), true), default), store.WriteAsync(C, Upsert(Reading(C, 6), true), default));

        Keys().Should().Equal($"{A} 3 3", $"{B} 1 1", $"{C} 2 2");
        (await store.ReadHistoryAsync(A, No2, default)).Select(i => JsonNode.Parse(i.InstanceJson!)!["value"]!.GetValue<double>()).Should().Equal(5);
        (await store.ReadHistoryAsync(C, No2, default)).Select(i => JsonNode.Parse(i.InstanceJson!)!["value"]!.GetValue<double>()).Should().Equal(4, 6);
    }

    [Fact]
    public async Task Instances_staged_with_the_history_key_read_with_the_entity_row_join_that_entitys_series()
    {
        // The write reads entities.hk with the row and stages it with the instances: in one group an update continues the
        // attribute's series, an attribute new to the entity starts a series under the entity's history key, a deleted
        // entity's markers end its series, and an entity without a history key yet gets one.
        await using var storage = _grouped.Open();
        var store = (await storage.GetTenantAsync(null, true, default))!;
        Entity Reading(string id, string attr, double value) => EntityParser.ParseEntity(JsonNode.Parse($$$"""
            {"id":"{{{id}}}","type":"T","{{{attr}}}":{"type":"Property","value":{{{value}}}}}
            """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        const string A = "urn:ngsi-ld:T:a", B = "urn:ngsi-ld:T:b", C = "urn:ngsi-ld:T:c";
        await store.WriteAsync(A, Upsert(Reading(A, "no2", 1), false), default);
        await store.WriteAsync(B, Upsert(Reading(B, "no2", 2), false), default);
        var outcomes = await store.WriteManyAsync<bool>([
            (A, Upsert(Reading(A, "no2", 3), true)), (A, Upsert(Reading(A, "o3", 4), true)),
            (B, current => EntityWrite<bool>.Delete(true)), (C, Upsert(Reading(C, "no2", 5), false))], default);
        outcomes.Should().OnlyContain(o => o.Error == null);

        using var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
        connection.Open();
        Column(connection, """
            SELECT h.id || ' ' || n.iri || ' ' || group_concat(i.kind || ':' || coalesce(json_extract(i.doc, '$.value'), '-'), ',')
            FROM history_entities h JOIN temporal_series s ON s.hk = h.hk JOIN names n ON n.nid = s.attr JOIN attribute_instances i ON i.sk = s.sk
            GROUP BY s.sk ORDER BY h.id, n.iri
            """).Select(r => r.Replace("https://uri.etsi.org/ngsi-ld/default-context/", "")).Should().Equal(
            $"{A} no2 Created:1,Updated:3", $"{A} o3 Created:4", $"{B} no2 Created:2,Deleted:-", $"{C} no2 Created:5");
        Column(connection, "SELECT e.id || ' ' || (e.hk = h.hk) FROM entities e JOIN history_entities h ON h.id = e.id ORDER BY e.id")
            .Should().Equal($"{A} 1", $"{C} 1");
    }

    [Fact]
    public async Task Entities_new_to_a_group_get_their_history_keys_in_the_order_of_first_use_and_in_their_rows()
    {
        // A group's series are resolved before its rows are written: a new entity's row is inserted with the history key it
        // was given, an existing entity's row is updated with its; keys go in the order of first use within the group, a
        // recreated entity continues its history, and an entity without instances gets none.
        await using var storage = _grouped.Open();
        var store = (await storage.GetTenantAsync(null, true, default))!;
        Entity Parse(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        Entity Reading(string id, string attr, double value) => Parse($$$"""{"id":"{{{id}}}","type":"T","{{{attr}}}":{"type":"Property","value":{{{value}}}}}""");
        const string A = "urn:ngsi-ld:T:a", B = "urn:ngsi-ld:T:b", C = "urn:ngsi-ld:T:c", D = "urn:ngsi-ld:T:d";
        await store.WriteAsync(A, Upsert(Reading(A, "no2", 1), false), default);
        await store.WriteAsync(A, current => EntityWrite<bool>.Delete(true), default);
        await store.WriteAsync(B, Upsert(Parse($$"""{"id":"{{B}}","type":"T"}"""), false), default);
        var outcomes = await store.WriteManyAsync<bool>([
            (B, Upsert(Reading(B, "no2", 2), true)), (C, Upsert(Reading(C, "o3", 3), false)),
            (A, Upsert(Reading(A, "no2", 4), false)), (D, Upsert(Parse($$"""{"id":"{{D}}","type":"T"}"""), false)),
            (C, Upsert(Reading(C, "no2", 5), true))], default);
        outcomes.Should().OnlyContain(o => o.Error == null);

        using var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
        connection.Open();
        Column(connection, """
            SELECT e.id || ' ' || coalesce(e.hk, '-') || ' ' || coalesce((SELECT h.hk FROM history_entities h WHERE h.id = e.id), '-') FROM entities e ORDER BY e.id
            """).Should().Equal($"{A} 1 1", $"{B} 2 2", $"{C} 3 3", $"{D} - -");
        Column(connection, """
            SELECT h.id || ' ' || n.iri || ' ' || group_concat(i.kind || ':' || coalesce(json_extract(i.doc, '$.value'), '-'), ',' ORDER BY i.seq)
            FROM history_entities h JOIN temporal_series s ON s.hk = h.hk JOIN names n ON n.nid = s.attr JOIN attribute_instances i ON i.sk = s.sk
            GROUP BY s.sk ORDER BY s.sk
            """).Select(r => r.Replace("https://uri.etsi.org/ngsi-ld/default-context/", "")).Should().Equal(
            $"{A} no2 Created:1,Deleted:-,Created:4", $"{B} no2 Created:2", $"{C} o3 Created:3", $"{C} no2 Created:5");
    }

    /// <summary>A writer alone over a new tenant file: the test gives it jobs of its own, as the store's writes would.</summary>
    private SqliteWriter NewWriter()
    {
        Directory.CreateDirectory(_grouped.Path);
        var connectionString = SqliteDatabase.ConnectionString(_grouped.DbPath, pooled: false);
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            SqliteMigrations.Apply(connection, SqliteMigrations.Tenant);
        }
        return new SqliteWriter(connectionString);
    }

    /// <summary>Stages the row of a new entity (of type https://example.org/T, with nothing else), as an entity write does.</summary>
    private static void StageEntity(SqliteConnection connection, string id) =>
        SqliteDatabase.State(connection).GroupRows.Add(new SqliteGroupRows.NewEntity(id, "{}"u8.ToArray(), "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z",
            [SqliteNameSchema.Id(connection, "https://example.org/T")], [], [], [], []));

    private static List<string> Column(SqliteConnection connection, string sql)
    {
        using var reader = SqliteDatabase.Cached(connection, sql).ExecuteReader();
        var values = new List<string>();
        while (reader.Read()) values.Add(reader.GetString(0));
        return values;
    }

    /// <summary>The grouped and the one-at-a-time file opened, each tenant with a subscription, so that every write is change-logged.</summary>
    private async Task<BothStores> OpenBothAsync()
    {
        var grouped = _grouped.Open();
        var oneByOne = _oneByOne.Open();
        var stores = new BothStores(grouped, oneByOne, (await grouped.GetTenantAsync(null, true, default))!, (await oneByOne.GetTenantAsync(null, true, default))!);
        foreach (var store in new[] { stores.Grouped, stores.OneByOne })
            await store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:all", _ => new SubscriptionWrite<bool>(true, "{}"), default);
        return stores;
    }

    private sealed record BothStores(IEntityStorage GroupedStorage, IEntityStorage OneByOneStorage, ITenantStore Grouped, ITenantStore OneByOne) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await GroupedStorage.DisposeAsync();
            await OneByOneStorage.DisposeAsync();
        }
    }

    private static async Task<string> Outcome(Func<Task<bool>> write)
    {
        try
        {
            return (await write()).ToString();
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    /// <summary>Upsert as Batch Upsert decides it, with a fixed clock (<see cref="Now"/> unless given), so both stores get the same documents.</summary>
    private static Func<Entity?, EntityWrite<bool>> Upsert(Entity entity, bool update, DateTimeOffset? at = null) => current =>
    {
        var operations = new EntityOperations(at ?? Now);
        if (current is null) return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
        if (update)
        {
            operations.Append(current, entity, noOverwrite: false);
            return EntityWrite<bool>.Upsert(current, operations.Changes, false);
        }
        return EntityWrite<bool>.Upsert(operations.Replace(current, entity.Clone()), operations.Changes, false);
    };

    private static EntityWrite<bool> Delete(Entity? current) =>
        current is null ? throw new InvalidOperationException("no entity") : EntityWrite<bool>.Delete(true);

    private static Entity RandomEntity(string id, Random random)
    {
        var observed = $"\"observedAt\":\"2026-11-{1 + random.Next(28):D2}T{random.Next(24):D2}:{random.Next(60):D2}:00Z\"";
        var json = new StringBuilder($$"""{"id":"{{id}}","type":{{(random.Next(3) == 0 ? "[\"T\",\"U\"]" : "\"T\"")}}""");
        if (random.Next(4) == 0) json.Append(""","scope":["/a/b","/c"]""");
        if (random.Next(2) == 0) json.Append($$""","n":{"type":"Property","value":{{random.Next(100)}}.5,{{observed}}}""");
        if (random.Next(2) == 0) json.Append($$""","s":{"type":"Property","value":"v{{random.Next(5)}}","unitCode":"C62"}""");
        if (random.Next(3) == 0) json.Append($$""","l":{"type":"Property","value":[{{random.Next(9)}},"x"],{{observed}}}""");
        if (random.Next(3) == 0)
            json.Append($$""","m":[{"type":"Property","value":{{random.Next(9)}},"datasetId":"urn:d:1",{{observed}}},{"type":"Property","value":"w"}]""");
        if (random.Next(3) == 0) json.Append($$""","r":{"type":"Relationship","object":"urn:ngsi-ld:T:{{random.Next(9)}}"}""");
        // An attribute whose kind changes from one write to the next (its kinds row is updated in place).
        if (random.Next(3) == 0)
            json.Append(random.Next(2) == 0 ? ""","k":{"type":"Property","value":"p"}""" : $$""","k":{"type":"Relationship","object":"urn:ngsi-ld:T:{{random.Next(9)}}"}""");
        json.Append(random.Next(3) == 0
            ? $$$""","location":{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[0,0],[{{{1 + random.Next(5)}}},0],[1,1],[0,0]]]}}"""
            : $$$""","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[{{{random.Next(90)}}}.25,{{{random.Next(45)}}}.5]}}""");
        json.Append('}');
        return EntityParser.ParseEntity(JsonNode.Parse(json.ToString())!.AsObject(), ContextProcessor.Core, ParseMode.Full);
    }

    /// <summary>A file of 50 random entities written as groups, opened for plans.</summary>
    private async Task<SqliteConnection> FiftyEntitiesAsync(int seed)
    {
        await using (var storage = _grouped.Open())
        {
            var store = (await storage.GetTenantAsync(null, true, default))!;
            var random = new Random(seed);
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => store.WriteAsync($"urn:ngsi-ld:T:{i}", Upsert(RandomEntity($"urn:ngsi-ld:T:{i}", random), false), default)));
        }
        var connection = new SqliteConnection($"Data Source={_grouped.DbPath};Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>The query plan of a group statement ({0}: 64 VALUES rows like <paramref name="row"/>).</summary>
    private static List<string> PlanOf(SqliteConnection connection, string format, string row)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + string.Format(CultureInfo.InvariantCulture, format, string.Join(", ", Enumerable.Repeat(row, 64)));
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(3));
        return lines;
    }

    /// <summary>
    /// Every row of the entity, index, history and change tables, but the store's own clock (change times, deletion
    /// markers) and the random instance ids.
    /// </summary>
    private static string Dump(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        string[] queries =
        [
            // Row keys (ek, rid) are the file's own; an entity's rows are compared by its id, in their order.
            "SELECT 'entities', id, doc, created_at, modified_at FROM entities ORDER BY id",
            "SELECT 'names', * FROM names ORDER BY nid",
            "SELECT 'entity_types', e.id, t.type FROM entity_types t JOIN entities e USING (ek) ORDER BY e.id, t.type",
            "SELECT 'entity_scopes', e.id, s.scope FROM entity_scopes s JOIN entities e USING (ek) ORDER BY e.id, s.scope",
            "SELECT 'entity_attributes', e.id, a.attr, a.kinds FROM entity_attributes a JOIN entities e USING (ek) ORDER BY e.id, a.attr",
            "SELECT 'attribute_values', e.id, v.attr, v.n, v.num, v.str FROM attribute_values v JOIN entities e USING (ek) ORDER BY e.id, v.attr, v.n",
            """
            SELECT 'entity_geometries', e.id, g.attr, b.min_x, b.max_x, b.min_y, b.max_y
            FROM entity_geometries g JOIN entities e USING (ek) JOIN entity_bbox b ON b.rid = g.rid ORDER BY e.id, g.attr, g.rid
            """,
            """
            SELECT 'entity_cells', e.id, c.attr, c.cell, c.min_x, c.max_x, c.min_y, c.max_y
            FROM entity_cells c JOIN entities e USING (ek) ORDER BY e.id, c.attr, c.cell, c.min_x, c.min_y
            """,
            "SELECT 'counts', (SELECT COUNT(*) FROM entity_geometries), (SELECT COUNT(*) FROM entity_bbox), (SELECT COUNT(*) FROM entity_cells), (SELECT COUNT(*) FROM attribute_values)",
            "SELECT 'type_statistics', * FROM type_statistics ORDER BY type, attr, kind",
            "SELECT 'history_entities', * FROM history_entities ORDER BY hk",
            "SELECT 'temporal_series', * FROM temporal_series ORDER BY sk",
            """
            SELECT 'attribute_instances', seq, sk, dataset_id, kind, CASE WHEN kind = 'Deleted' THEN '' ELSE observed_at END, CASE WHEN kind = 'Deleted' THEN '' ELSE modified_at END,
                   CASE WHEN kind = 'Deleted' THEN '' ELSE doc END, trimmed, sample_type, sample_num, sample_str, sample_key
            FROM attribute_instances ORDER BY seq
            """,
            "SELECT 'temporal_buckets', * FROM temporal_buckets ORDER BY sk, g, ds, start",
            "SELECT 'change_log', seq, entity_id, operation, before_doc, after_doc FROM change_log ORDER BY seq",
            "SELECT 'deleted_entities', id, doc FROM deleted_entities ORDER BY id",
        ];
        var dump = new StringBuilder();
        foreach (var sql in queries)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                    dump.Append(Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)).Append('|');
                dump.Append('\n');
            }
        }
        return dump.ToString();
    }
}
