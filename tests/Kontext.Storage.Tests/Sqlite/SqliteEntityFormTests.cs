using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Schema step 10 (issue 12, storage size): entity documents in the compact form of <see cref="SqliteEntityForm"/> give
/// back exactly the entity stored; a file in the step-9 layout keeps its entities, deleted entities, change records and
/// buckets when migrated.
/// </summary>
public sealed class SqliteEntityFormTests : IDisposable
{
    private static readonly DateTimeOffset Created = new(2024, 2, 1, 10, 0, 0, 123, TimeSpan.Zero);
    private readonly SqliteTestDirectory _directory = new("entity-form");

    public void Dispose() => _directory.Dispose();

    private string DbPath => _directory.DbPath;

    /// <summary>Entities as the core makes them from request bodies: created, then some attributes updated later.</summary>
    public static TheoryData<string> Bodies() => new(BodyTexts);

    private static readonly string[] BodyTexts =
    [
        """{"id":"urn:ngsi-ld:AirQualityObserved:1","type":"AirQualityObserved","no2":{"type":"Property","value":89.44,"unitCode":"GQ","observedAt":"2025-01-08T05:39:02Z"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.72,40.45]}}}""",
        """{"id":"urn:ngsi-ld:T:2","type":["T","https://example.org/U"],"scope":["/a/b","/c"],"n":[{"type":"Property","value":1},{"type":"Property","value":2,"datasetId":"urn:ngsi-ld:D:1"}]}""",
        """{"id":"urn:ngsi-ld:T:3","type":"T","name":{"type":"LanguageProperty","languageMap":{"en":"Car","de":"Auto"}},"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:1","providedBy":{"type":"Relationship","object":"urn:ngsi-ld:P:2"}}}""",
        """{"id":"urn:ngsi-ld:T:4","type":"T","expiresAt":"2030-01-01T00:00:00Z","speed":{"type":"Property","value":{"a":[1,2.50,"x\"y é"]},"accuracy":{"type":"Property","value":0.1,"unitCode":"MTS"}}}""",
        """{"id":"urn:ngsi-ld:T:5","type":"T","category":{"type":"VocabProperty","vocab":"Sensor"},"list":{"type":"ListProperty","valueList":[1,"b",null]},"json":{"type":"JsonProperty","json":{"k":null}}}""",
    ];

    [Theory]
    [MemberData(nameof(Bodies))]
    public void An_entity_made_by_the_core_decodes_to_exactly_itself(string body)
    {
        var entity = Stamped(body);
        Check(entity);
        // An update an hour later: the attribute updated keeps its createdAt, gets the entity's new modifiedAt.
        var later = new EntityOperations(Created.AddHours(1));
        var name = entity.Attributes.Keys.First();
        later.Append(entity, new Entity(entity.Id) { Attributes = { [name] = [new JsonObject { ["type"] = "Property", ["value"] = 7 }] } }, noOverwrite: false);
        Check(entity);
    }

    /// <summary>
    /// An encode records where it wrote each instance (<see cref="EncodedInstances"/>), for the history rows: the bytes
    /// there, with the times it coded instead put back, are the instance's own text; found in any order, by the object.
    /// </summary>
    [Theory]
    [MemberData(nameof(Bodies))]
    public void An_encode_records_where_each_instance_it_wrote_stands_in_the_document(string body)
    {
        var entity = Stamped(body);
        var later = new EntityOperations(Created.AddHours(1)); // one instance updated: its createdAt is not its modifiedAt
        var name = entity.Attributes.Keys.First();
        later.Append(entity, new Entity(entity.Id) { Attributes = { [name] = [new JsonObject { ["type"] = "Property", ["value"] = 7 }] } }, noOverwrite: false);
        var written = new EncodedInstances();

        var doc = SqliteEntityForm.EncodeUtf8(entity, null, written);

        var instances = entity.Attributes.Values.SelectMany(list => list).Reverse().ToList();
        instances.Should().NotBeEmpty();
        foreach (var instance in instances)
        {
            var (start, end, created, modified) = written.Find(instance)!.Value;
            var text = Encoding.UTF8.GetString(doc, start, end - start);
            if (created is not null) text = text[..^1] + $$""","createdAt":"{{created}}","modifiedAt":"{{modified}}"}""";
            text.Should().Be(instance.ToJsonString());
        }
        written.Find(new JsonObject()).Should().BeNull();
    }

    [Fact]
    public void Times_names_and_orders_the_core_would_not_make_are_kept_as_they_are()
    {
        var entity = new Entity("urn:ngsi-ld:T:odd")
        {
            Types = ["=notPrefixed", "https://uri.etsi.org/ngsi-ld/default-context/T"],
            CreatedAt = new DateTimeOffset(2024, 2, 1, 10, 0, 0, TimeSpan.FromHours(2)).AddTicks(1234567),
            ModifiedAt = Created.AddTicks(9),
            ExpiresAt = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero),
        };
        entity.Attributes[":a"] = [Node("""{"type":"Property","value":1,"createdAt":"2020-01-01T00:00:00.000Z","modifiedAt":"2021-01-01T00:00:00.000Z"}""")];
        entity.Attributes["https://uri.etsi.org/ngsi-ld/b"] =
        [
            Node("""{"type":"Property","modifiedAt":"2021-01-01T00:00:00.000Z","createdAt":"2020-01-01T00:00:00.000Z","value":1}"""),
            Node("""{"type":"Property","value":2,"createdAt":5,"modifiedAt":"2021-01-01T00:00:00.000Z","datasetId":"urn:d"}"""),
            Node("""{"type":"Property","value":3,"datasetId":"urn:e","createdAt":"2019-01-01T00:00:00Z","modifiedAt":"2021-01-01T00:00:00.000Z"}"""),
            Node("""{"modifiedAt":"x"}"""),
        ];
        Check(entity);
        SqliteEntityForm.Encode(entity).Should().Contain("\"f\":1", "a name begins with a marker, so every name stays whole");
    }

    [Fact]
    public void The_compact_form_of_the_bench_shape_is_half_the_size_and_names_expiresAt_when_transient()
    {
        var entity = Stamped(BodyTexts[0]);
        var whole = EntityJson.Serialize(entity).Length;
        var compact = Encoding.UTF8.GetByteCount(SqliteEntityForm.Encode(entity));
        compact.Should().BeLessThan(whole / 2, $"{compact} bytes instead of {whole}");
        SqliteEntityForm.Encode(Stamped(BodyTexts[3])).Should().Contain("\"expiresAt\"",
            "the write path finds transient entities by this text");
    }

    /// <summary>
    /// Stored documents whose heads hold every member the form has (scopes, a time with an offset and one in ticks,
    /// expiresAt, listed instance times, short names, a name with an escape; and every name kept whole), spelt as this
    /// form writes them: a decode writes them again byte for byte, and the decode and the stored view read them alike.
    /// </summary>
    [Theory]
    [InlineData("""{"i":"urn:ngsi-ld:T:every","y":["=T","https://example.org/U","=caf\u00E9"],"s":["/a","/b/c"],"c":"2024-02-01T09:00:00.1234567+02:00","m":638423784001230000,"expiresAt":"2030-01-01T00:00:00+00:00","t":["2020-01-01T00:00:00.000Z","2021-01-01T00:00:00.000Z"],"a":{"=n":[1,{"type":"Property","value":1},[2,3],{"type":"Property","value":2,"datasetId":"urn:d"}],":name":[{"type":"Property","value":"x"}],"=\u00E9t\u00E9":[[0,1],{"type":"Property","value":3},[3,1],{"type":"Property","value":4,"datasetId":"urn:e"}]}}""",
        "https://uri.etsi.org/ngsi-ld/default-context/T|https://example.org/U|https://uri.etsi.org/ngsi-ld/default-context/café",
        "https://uri.etsi.org/ngsi-ld/default-context/n|https://uri.etsi.org/ngsi-ld/name|https://uri.etsi.org/ngsi-ld/default-context/été")]
    [InlineData("""{"i":"urn:ngsi-ld:T:kept","f":1,"y":["=T","https://uri.etsi.org/ngsi-ld/default-context/U"],"c":638423784001230000,"m":638423784001230000,"a":{":a":[{"type":"Property","value":1}],"https://uri.etsi.org/ngsi-ld/default-context/b":[0,{"type":"Property","value":2}]}}""",
        "=T|https://uri.etsi.org/ngsi-ld/default-context/U",
        ":a|https://uri.etsi.org/ngsi-ld/default-context/b")]
    public void A_document_with_every_head_member_is_written_again_as_it_was_and_read_alike_by_the_decode_and_the_view(string doc, string types, string attributes)
    {
        var utf8 = Encoding.UTF8.GetBytes(doc);
        var entity = SqliteEntityForm.Decode(utf8);
        var view = SqliteEntityForm.Read(utf8);

        SqliteEntityForm.Encode(entity).Should().Be(doc, "the stored form is as it was");
        entity.Types.Should().Equal(types.Split('|'));
        view.Types.Should().Equal(entity.Types);
        view.Id.Should().Be(entity.Id);
        view.Scopes.Should().Equal(entity.Scopes, "the scopes are read alike (null when there are none)");
        (view.CreatedAt.Ticks, view.CreatedAt.Offset, view.ModifiedAt.Ticks, view.ModifiedAt.Offset, view.ExpiresAt)
            .Should().Be((entity.CreatedAt.Ticks, entity.CreatedAt.Offset, entity.ModifiedAt.Ticks, entity.ModifiedAt.Offset, entity.ExpiresAt));
        view.Attributes.Select(a => a.Iri).Should().Equal(attributes.Split('|'));
        entity.Attributes.Keys.Should().Equal(attributes.Split('|'));
        foreach (var attribute in view.Attributes)
        {
            var instances = entity.Attributes[attribute.Iri];
            var stored = view.InstancesOf(attribute).ToArray();
            stored.Should().HaveCount(instances.Count);
            for (var i = 0; i < stored.Length; i++)
            {
                // The view's instance is its stored members; its time code names the times the decode appended.
                var text = Encoding.UTF8.GetString(stored[i].Members.Utf8);
                if (stored[i].HasTimes) text = text[..^1] + $$""","createdAt":"{{view.Time(stored[i].Created)}}","modifiedAt":"{{view.Time(stored[i].Modified)}}"}""";
                text.Should().Be(instances[i].ToJsonString());
            }
        }
    }

    [Fact]
    public async Task The_store_keeps_documents_compact_and_answers_with_the_same_entity()
    {
        await using var store = new SqliteTenantStore(null, DbPath);
        foreach (var body in BodyTexts)
        {
            var entity = Stamped(body);
            await store.WriteAsync(entity.Id, _ => EntityWrite<bool>.Upsert(entity.Clone(), [], true), default);
            var read = await store.GetEntityAsync(entity.Id, default);
            Encoding.UTF8.GetString(EntityJson.Serialize(read!)).Should().Be(Encoding.UTF8.GetString(EntityJson.Serialize(entity)));
        }
        SqliteConnection.ClearAllPools();
        Column("SELECT doc FROM entities").Should().AllSatisfy(d => ((string)d!).Should().StartWith("{\"i\":"));
    }

    [Fact]
    public async Task A_version_9_file_keeps_its_entities_deleted_entities_change_records_and_buckets_when_migrated()
    {
        SqliteBucketMigrationTests.WriteOldHistory(DbPath, 8);
        var entities = BodyTexts.Select(Stamped).ToList();
        var early = """{"id":"urn:ngsi-ld:T:early","type":["https://uri.etsi.org/ngsi-ld/default-context/T"]}""";
        using (var old = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            old.Open();
            SqliteMigrations.Apply(old, SqliteMigrations.Tenant.Take(9).ToList()).Should().Be(9);
            foreach (var entity in entities.Append(null))
            {
                using var insert = old.CreateCommand();
                insert.CommandText = "INSERT INTO entities(id, doc, created_at, modified_at) VALUES($id, $doc, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')";
                insert.Parameters.AddWithValue("$id", entity?.Id ?? "urn:ngsi-ld:T:early");
                insert.Parameters.AddWithValue("$doc", entity is null ? early : Encoding.UTF8.GetString(EntityJson.Serialize(entity)));
                insert.ExecuteNonQuery();
            }
            using var more = old.CreateCommand();
            more.CommandText = """
                DELETE FROM entities WHERE id = 'urn:ngsi-ld:T:5';
                INSERT INTO change_log(entity_id, operation, at, before_doc, after_doc) SELECT id, 'create', '2024-01-01T00:00:00.000Z', NULL, doc FROM entities WHERE id = 'urn:ngsi-ld:T:2';
                """;
            more.ExecuteNonQuery();
        }
        var buckets = Column("""
            SELECT h.id || ' ' || n.iri || ' ' || g || ' ' || ds || ' ' || start || ' ' || b.n || ' ' || total || ' ' || first_t || ' ' || last_t || ' ' || last_type
            FROM temporal_buckets b JOIN temporal_series s ON s.sk = b.sk JOIN history_entities h ON h.hk = s.hk JOIN names n ON n.nid = s.attr
            ORDER BY 1
            """);
        buckets.Should().HaveCount(4);
        var keys = Column("SELECT ek || ' ' || id FROM entities ORDER BY ek");
        SqliteConnection.ClearAllPools();

        await using (var store = new SqliteTenantStore(null, DbPath))
        {
            foreach (var entity in entities.Take(4))
                Encoding.UTF8.GetString(EntityJson.Serialize((await store.GetEntityAsync(entity.Id, default))!))
                    .Should().Be(Encoding.UTF8.GetString(EntityJson.Serialize(entity)), "every entity reads back as it was");
            var deleted = await store.History.GetDeletedEntityAsync("urn:ngsi-ld:T:5", default);
            Encoding.UTF8.GetString(EntityJson.Serialize(deleted!.Entity)).Should().Be(Encoding.UTF8.GetString(EntityJson.Serialize(entities[4])));
            var change = (await store.ReadChangesAsync(0, 10, default)).Single();
            change.AfterJson.Should().Be(Encoding.UTF8.GetString(EntityJson.Serialize(entities[1])), "change records hand out the whole form");
        }
        SqliteConnection.ClearAllPools();

        Column("SELECT doc FROM entities ORDER BY ek").Select(d => ((string)d!)[..5]).Should().Equal(["{\"i\":", "{\"i\":", "{\"i\":", "{\"i\":", "{\"id\""],
            "a document without times (an early release's) cannot be read whole and is left as it was");
        Column("SELECT ek || ' ' || id FROM entities ORDER BY ek").Should().Equal(keys, "the rebuilt entity table keeps every key the index tables name");
        Column("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'entities'").Single().Should().Be(2L, "its triggers are made again");
        Column("SELECT doc FROM deleted_entities").Single().Should().Match<object>(d => ((string)d).StartsWith("{\"i\":"));
        Column("SELECT after_doc FROM change_log").Single().Should().Match<object>(d => ((string)d).StartsWith("{\"i\":"));
        Column("""
            SELECT h.id || ' ' || n.iri || ' ' || g || ' ' || ds || ' ' || strftime('%Y-%m-%dT%H:%M:%fZ', start / 1000.0, 'unixepoch') || ' ' || b.n || ' ' || total
                   || ' ' || strftime('%Y-%m-%dT%H:%M:%fZ', first_t / 1000.0, 'unixepoch') || ' ' || strftime('%Y-%m-%dT%H:%M:%fZ', last_t / 1000.0, 'unixepoch')
                   || ' ' || COALESCE(last_type, 'Property')
            FROM temporal_buckets b JOIN temporal_series s ON s.sk = b.sk JOIN history_entities h ON h.hk = s.hk JOIN names n ON n.nid = s.attr
            ORDER BY 1
            """).Should().Equal(buckets, "the buckets hold the same figures and times");
        Column("SELECT DISTINCT typeof(start) || typeof(first_t) || typeof(last_t) FROM temporal_buckets").Should().Equal("integerintegerinteger");
        Column("SELECT COUNT(*) FROM temporal_buckets WHERE last_type IS NULL").Single().Should().Be(2L, "a Property's type is NULL (the hour and the day of urn:ngsi-ld:D:1)");
    }

    /// <summary>
    /// A decoded instance gets its members through one buffer per thread (issue 12): one with more members than the
    /// buffer first holds, then smaller ones after it, each decode in turn, all read back in their order and alone.
    /// </summary>
    [Fact]
    public void Instances_of_many_and_few_members_decode_in_turn_to_exactly_themselves()
    {
        var many = string.Join(",", Enumerable.Range(0, 20).Select(i => $"\"sub{i}\":{{\"type\":\"Property\",\"value\":{i}}}"));
        var body = """{"id":"urn:ngsi-ld:T:many","type":"T","wide":{"type":"Property","value":"w",""" + many
            + """},"narrow":{"type":"Property","value":1},"rel":{"type":"Relationship","object":"urn:ngsi-ld:P:1"}}""";
        var entity = Stamped(body);
        var whole = Encoding.UTF8.GetString(EntityJson.Serialize(entity));
        var stored = SqliteEntityForm.EncodeUtf8(entity);
        var first = SqliteEntityForm.DecodeForWrite(stored).Entity;
        var second = SqliteEntityForm.DecodeForWrite(stored).Entity;
        Encoding.UTF8.GetString(EntityJson.Serialize(first)).Should().Be(whole);
        Encoding.UTF8.GetString(EntityJson.Serialize(second)).Should().Be(whole);
        first.Attributes.Values.Select(list => list[0].Count).Should().Equal([24, 4, 4], whole); // the members, then createdAt and modifiedAt
        second.Attributes.Values.First()[0].Remove("sub0");
        Encoding.UTF8.GetString(EntityJson.Serialize(first)).Should().Be(whole, "each decode's instances are its own");
        Check(entity);
    }

    private static void Check(Entity entity)
    {
        var whole = Encoding.UTF8.GetString(EntityJson.Serialize(entity));
        var decoded = SqliteEntityForm.Decode(SqliteEntityForm.Encode(entity));
        Encoding.UTF8.GetString(EntityJson.Serialize(decoded)).Should().Be(whole);
        (decoded.CreatedAt.Ticks, decoded.CreatedAt.Offset, decoded.ModifiedAt.Ticks, decoded.ModifiedAt.Offset, decoded.ExpiresAt)
            .Should().Be((entity.CreatedAt.Ticks, entity.CreatedAt.Offset, entity.ModifiedAt.Ticks, entity.ModifiedAt.Offset, entity.ExpiresAt));
        SqliteEntityForm.Json(SqliteEntityForm.Encode(entity)).Should().Be(whole);
        SqliteEntityForm.Decode(whole).Should().BeEquivalentTo(entity, o => o.ComparingByMembers<Entity>().Excluding(e => e.Attributes),
            "a document in the whole form is read as before");
    }

    private static JsonObject Node(string json) => JsonNode.Parse(json)!.AsObject();

    private static Entity Stamped(string body)
    {
        var parsed = EntityParser.ParseEntity(Node(body), ContextProcessor.Core, ParseMode.Full);
        return new EntityOperations(Created.AddTicks(4567)).Create(parsed);
    }

    private List<object?> Column(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<object?>();
        while (reader.Read()) values.Add(reader.IsDBNull(0) ? null : reader.GetValue(0));
        return values;
    }
}
