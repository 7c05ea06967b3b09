using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The SQLite write path by delta (issue 12): a write changes the index rows of what it changed only, and logs a change
/// only while someone will read it (a subscription, or a transient entity for the expiry reaper).
/// </summary>
public sealed class SqliteWriteDeltaTests : IAsyncLifetime
{
    private const string Id = "urn:ngsi-ld:T:delta";
    private readonly SqliteTestDirectory _directory = new("delta");
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

    private static Entity Parse(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    private Task PutAsync(string json)
    {
        var entity = Parse(json);
        return _store.WriteAsync(entity.Id, current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);
    }

    private Task<bool> SetAsync(string attribute, JsonNode value) => _store.WriteAsync(Id, current =>
    {
        var after = current!.Clone();
        after.Attributes[ContextProcessor.Core.ExpandTerm(attribute)][0]["value"] = value;
        return EntityWrite<bool>.Upsert(after, [], true);
    }, default);

    /// <summary>(table, row key (a value's ordinal, a geometry's rid), attr, value) of every index row of the entity, read from the file.</summary>
    private List<(string Table, long Row, string Attr, string Value)> IndexRows()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "kontext.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT 'value', v.n, n.iri, coalesce(num, str) FROM attribute_values v JOIN names n ON n.nid = v.attr WHERE ek = (SELECT ek FROM entities WHERE id = $id)
            UNION ALL SELECT 'attribute', 0, n.iri, kinds FROM entity_attributes a JOIN names n ON n.nid = a.attr WHERE ek = (SELECT ek FROM entities WHERE id = $id)
            UNION ALL SELECT 'geometry', rid, n.iri, '' FROM entity_geometries g JOIN names n ON n.nid = g.attr WHERE ek = (SELECT ek FROM entities WHERE id = $id)
            UNION ALL SELECT 'box', b.rid, n.iri, b.min_x FROM entity_bbox b JOIN entity_geometries g ON g.rid = b.rid JOIN names n ON n.nid = g.attr WHERE g.ek = (SELECT ek FROM entities WHERE id = $id)
            ORDER BY 1, 3
            """;
        command.Parameters.AddWithValue("$id", Id);
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long, string, string)>();
        while (reader.Read()) rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2).Split('/')[^1], Convert.ToString(reader.GetValue(3), System.Globalization.CultureInfo.InvariantCulture)!));
        return rows;
    }

    private async Task<List<string>> IdsAsync(string? q = null, string? georel = null, string? coordinates = null)
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Type: "T", Q: q, GeoRel: georel, Geometry: georel is null ? null : "Point", Coordinates: coordinates), ContextProcessor.Core);
        return (await _store.QueryAsync(new EntityPageRequest(query, 0, 10, Count: false), default)).Entities.Select(e => e.Id).ToList();
    }

    private const string Entity = """
        {"id":"urn:ngsi-ld:T:delta","type":"T","a":{"type":"Property","value":1},"b":{"type":"Property","value":"x"},
         "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}}}
        """;

    /// <summary>
    /// A fingerprint's value rows are the rows (issue 12): equal only when every number has the same bits and every text
    /// is the same, in the same order, so a changed row is never taken for an unchanged one.
    /// </summary>
    [Fact]
    public void Value_rows_are_equal_only_when_every_row_is()
    {
        static SqliteIndexRows.ValueRows Rows(params (double? Number, string? Text)[] rows) =>
            new([.. rows.Select(r => new SqliteIndexRows.ValueRow(r.Number, r.Text))]);

        Rows((1.5, null), (null, "a")).Should().Be(Rows((1.5, null), (null, "a")));
        (Rows((1.5, null)) == Rows((1.5, null))).Should().BeTrue();
        Rows().Should().Be(default(SqliteIndexRows.ValueRows), "no rows, however made");
        (Rows((0.0, null)) != Rows((-0.0, null))).Should().BeTrue("0 and -0 are stored apart");
        (Rows((1.0, null)) != Rows((null, "1"))).Should().BeTrue();
        (Rows((null, "")) != Rows((null, null))).Should().BeTrue();
        (Rows((null, "a"), (null, "b")) != Rows((null, "b"), (null, "a"))).Should().BeTrue("the order is the rows'");
        (Rows((1.0, null)) != Rows((1.0, null), (1.0, null))).Should().BeTrue();
        (Rows((null, "é")) != Rows((null, "e\u0301"))).Should().BeTrue("texts compare ordinally");
    }

    [Fact]
    public async Task Updating_one_attribute_rewrites_only_its_value_rows()
    {
        await PutAsync(Entity);
        var before = IndexRows();

        await SetAsync("a", 2);

        var after = IndexRows();
        after.Where(r => r.Attr != "a" || r.Table != "value").Should().Equal(before.Where(r => r.Attr != "a" || r.Table != "value"), "untouched rows keep their row ids");
        after.Where(r => r.Attr == "a" && r.Table == "value").Select(r => (r.Row, r.Value))
            .Should().Equal([(before.Single(r => r.Attr == "a" && r.Table == "value").Row, "2")], "a new value of one scalar is written in place");
        (await IdsAsync(q: "a==2")).Should().Equal(Id);
        (await IdsAsync(q: "a==1")).Should().BeEmpty();
    }

    // The tests above change a clone of the entity (every instance a new object); the decisions of the API change it in
    // place and replace only the instances they change, and say so: the store then fingerprints those alone after them
    // (SqliteIndexRows.CaptureAround).
    private Task<UpdateResult> UpdateAttributesAsync(string fragment) =>
        _store.WriteAsync(Id, EntityWrites.UpdateAttributes(Id, EntityParser.ParseFragment(JsonNode.Parse(fragment)!.AsObject(), ContextProcessor.Core, ParseMode.Update, Id)), default);

    private static Dictionary<string, string> InstancesBut(Entity entity, string attribute) =>
        entity.Attributes.Where(a => a.Key != ContextProcessor.Core.ExpandTerm(attribute))
            .ToDictionary(a => a.Key, a => string.Join(",", a.Value.Select(i => i.ToJsonString())));

    [Fact]
    public async Task Update_Entity_Attributes_of_one_attribute_leaves_the_other_attributes_rows_and_stored_instances_as_they_were()
    {
        await PutAsync(Entity);
        var rowsBefore = IndexRows();
        var stored = (await _store.GetEntityAsync(Id, default))!;

        (await UpdateAttributesAsync("""{"a":{"type":"Property","value":7}}""")).Updated.Should().Equal(ContextProcessor.Core.ExpandTerm("a"));

        var rowsAfter = IndexRows();
        rowsAfter.Where(r => r.Attr != "a" || r.Table != "value").Should().Equal(rowsBefore.Where(r => r.Attr != "a" || r.Table != "value"));
        rowsAfter.Where(r => r.Attr == "a" && r.Table == "value").Select(r => (r.Row, r.Value))
            .Should().Equal([(rowsBefore.Single(r => r.Attr == "a" && r.Table == "value").Row, "7")]);
        var now = (await _store.GetEntityAsync(Id, default))!;
        InstancesBut(now, "a").Should().Equal(InstancesBut(stored, "a"));
        now.Attributes[ContextProcessor.Core.ExpandTerm("a")].Single()["value"]!.GetValue<int>().Should().Be(7);
        (await IdsAsync(q: "a==7")).Should().Equal(Id);
        (await IdsAsync(q: "b==\"x\"")).Should().Equal([Id], "the value rows of b stay");
        (await IdsAsync(georel: "near;maxDistance==1000", coordinates: "[-3.7,40.4]")).Should().Equal([Id], "the geometry rows stay");
    }

    [Fact]
    public async Task A_type_added_by_an_update_counts_the_attributes_it_left_alone_in_the_statistics()
    {
        await PutAsync(Entity);

        await UpdateAttributesAsync("""{"type":"U","a":{"type":"Property","value":2}}""");

        (await _store.ListTypeAttributesAsync(default)).Where(s => s.Type.EndsWith("/U", StringComparison.Ordinal))
            .Select(s => (s.Attribute.Split('/')[^1], s.EntityCount, string.Join(",", s.AttributeKinds))).OrderBy(s => s.Item1)
            .Should().Equal(("a", 1L, "Property"), ("b", 1L, "Property"), ("location", 1L, "GeoProperty"));
    }

    [Fact]
    public async Task Deleting_an_attribute_in_place_removes_its_rows_only()
    {
        await PutAsync(Entity);
        var rowsBefore = IndexRows();

        await _store.WriteAsync(Id, EntityWrites.DeleteAttribute(Id, ContextProcessor.Core.ExpandTerm("b"), null, deleteAll: false), default);

        IndexRows().Should().Equal(rowsBefore.Where(r => r.Attr != "b"));
        (await IdsAsync(q: "b==\"x\"")).Should().BeEmpty();
        (await IdsAsync(q: "a==1")).Should().Equal(Id);
    }

    [Fact]
    public async Task A_decision_that_edits_an_instance_in_place_gets_its_rows_rewritten()
    {
        await PutAsync(Entity);

        await _store.WriteAsync(Id, current =>
        {
            current!.Attributes[ContextProcessor.Core.ExpandTerm("a")][0]["value"] = 5;
            return EntityWrite<bool>.Upsert(current, [], true);
        }, default);

        (await IdsAsync(q: "a==5")).Should().Equal(Id);
        (await IdsAsync(q: "a==1")).Should().BeEmpty();
    }

#if DEBUG
    [Fact]
    public async Task A_decision_that_says_it_replaces_instances_but_edits_one_fails_in_the_debug_build()
    {
        await PutAsync(Entity);

        var edit = () => _store.WriteAsync(Id, current =>
        {
            current!.Attributes[ContextProcessor.Core.ExpandTerm("a")][0]["value"] = 5;
            return EntityWrite<bool>.Upsert(current, [], true) with { ReplacesInstances = true };
        }, default);

        await edit.Should().ThrowAsync<InvalidOperationException>().WithMessage("*in place*");
        (await IdsAsync(q: "a==1")).Should().Equal([Id], "nothing was written");
    }
#endif

    [Fact]
    public async Task A_value_that_becomes_a_list_replaces_its_rows()
    {
        await PutAsync(Entity);
        await SetAsync("b", JsonNode.Parse("[\"y\", \"z\"]")!);

        IndexRows().Where(r => r.Attr == "b" && r.Table == "value").Select(r => r.Value).Should().BeEquivalentTo("y", "z");
        (await IdsAsync(q: "b==%22z%22".Replace("%22", "\""))).Should().Equal(Id);
        (await IdsAsync(q: "b==%22x%22".Replace("%22", "\""))).Should().BeEmpty();
    }

    [Fact]
    public async Task Moving_a_geoproperty_rewrites_its_box_and_queries_follow()
    {
        await PutAsync(Entity);
        await SetAsync("location", JsonNode.Parse("""{"type":"Point","coordinates":[2.17,41.38]}""")!);

        double.Parse(IndexRows().Single(r => r.Table == "box").Value, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeApproximately(2.17, 1e-5); // the R*Tree keeps 32-bit floats
        (await IdsAsync(georel: "near;maxDistance==1000", coordinates: "[2.17,41.38]")).Should().Equal(Id);
        (await IdsAsync(georel: "near;maxDistance==1000", coordinates: "[-3.7,40.4]")).Should().BeEmpty();
    }

    [Fact]
    public async Task Type_statistics_follow_a_change_of_kind_and_stay_for_a_new_value()
    {
        await PutAsync(Entity);
        async Task<List<(string, string, long)>> AttributesAsync() =>
            (await _store.ListTypeAttributesAsync(default)).Select(s => (s.Type.Split('/')[^1], s.Attribute.Split('/')[^1], s.EntityCount)).OrderBy(s => s).ToList();
        var before = await AttributesAsync();

        await SetAsync("a", 2);
        (await AttributesAsync()).Should().Equal(before, "a new value keeps the types, attributes and kinds");

        await _store.WriteAsync(Id, current =>
        {
            var after = current!.Clone();
            after.Attributes[ContextProcessor.Core.ExpandTerm("b")][0]["type"] = "Relationship";
            after.Attributes[ContextProcessor.Core.ExpandTerm("b")][0].Remove("value");
            after.Attributes[ContextProcessor.Core.ExpandTerm("b")][0]["object"] = "urn:ngsi-ld:X:1";
            return EntityWrite<bool>.Upsert(after, [], true);
        }, default);
        var kinds = await _store.ListTypeAttributesAsync(default);
        kinds.Single(s => s.Attribute.EndsWith("/b", StringComparison.Ordinal)).AttributeKinds.Should().BeEquivalentTo(["Relationship"]);
        (await AttributesAsync()).Should().Equal(before, "the entity still has the same attributes");
    }

    [Fact]
    public async Task Removing_an_attribute_and_a_type_removes_their_rows()
    {
        await PutAsync(Entity);
        await _store.WriteAsync(Id, current =>
        {
            var after = current!.Clone();
            after.Attributes.Remove(ContextProcessor.Core.ExpandTerm("b"));
            after.Types = [ContextProcessor.Core.ExpandTerm("U")];
            return EntityWrite<bool>.Upsert(after, [], true);
        }, default);

        IndexRows().Should().NotContain(r => r.Attr == "b");
        (await IdsAsync()).Should().BeEmpty("the entity is no longer of type T");
        var asU = EntityQuery.Parse(new EntityQueryParameters(Type: "U", Q: "a==1"), ContextProcessor.Core);
        (await _store.QueryAsync(new EntityPageRequest(asU, 0, 10, Count: true), default)).TotalCount.Should().Be(1);
    }

    [Fact]
    public async Task Writes_without_a_subscription_log_no_change_and_a_later_subscription_sees_the_current_state()
    {
        await PutAsync(Entity);
        await SetAsync("a", 2);
        (await _store.ReadChangesAsync(0, 10, default)).Should().BeEmpty("nobody follows the log");

        await _store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:late", _ => new SubscriptionWrite<bool>(true, "{}"), default);
        await SetAsync("a", 3);

        var change = (await _store.ReadChangesAsync(0, 10, default)).Should().ContainSingle().Subject;
        change.BeforeJson.Should().Contain("\"value\":2", "the change starts from the state the unlogged writes left");
        change.AfterJson.Should().Contain("\"value\":3");
    }

    [Fact]
    public async Task Deleting_the_last_subscription_stops_the_log()
    {
        await _store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:s", _ => new SubscriptionWrite<bool>(true, "{}"), default);
        await PutAsync(Entity);
        await _store.WriteSubscriptionAsync("urn:ngsi-ld:Subscription:s", _ => new SubscriptionWrite<bool>(true, null), default);
        await SetAsync("a", 2);

        (await _store.ReadChangesAsync(0, 10, default)).Select(c => c.Operation).Should().Equal("create");
    }

    [Fact]
    public async Task Writes_of_a_transient_entity_are_logged_for_the_expiry_reaper()
    {
        await PutAsync("""{"id":"urn:ngsi-ld:T:delta","type":"T","expiresAt":"2099-01-01T00:00:00Z","a":{"type":"Property","value":1}}""");
        await _store.WriteAsync(Id, _ => EntityWrite<bool>.Delete(true), default);

        (await _store.ReadChangesAsync(0, 10, default)).Select(c => c.Operation).Should().Equal("create", "delete");
    }
}
