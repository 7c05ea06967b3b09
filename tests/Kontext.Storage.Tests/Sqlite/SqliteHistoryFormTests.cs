using System.Text;
using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Schema step 9 (issue 12, storage size): history rows keyed by integer series, instance ids as 16 bytes, documents
/// without the times their columns hold. What the store answers is what it answered before, byte for byte.
/// </summary>
public sealed class SqliteHistoryFormTests : IDisposable
{
    private const string Id = "urn:ngsi-ld:S:1";
    private const string N = "https://uri.etsi.org/ngsi-ld/default-context/n";
    private readonly SqliteTestDirectory _directory = new("history");

    public void Dispose() => _directory.Dispose();

    private string DbPath => _directory.DbPath;

    private List<object?[]> Rows(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static string Show(object?[] row) => string.Join(" | ", row.Select(v => v is byte[] b ? Convert.ToHexString(b) : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public async Task A_version_8_file_keeps_its_instances_ids_documents_and_buckets_when_migrated_to_series_keys()
    {
        SqliteBucketMigrationTests.WriteOldHistory(DbPath, 8);
        var before = Rows("SELECT entity_id, attr, dataset_id, instance_id, kind, observed_at, modified_at, doc FROM attribute_instances ORDER BY seq");
        var bucketsBefore = Rows("""
            SELECT entity_id, attr, g, ds, start, n, nn, total, squares, min_num, max_num, min_str, max_str, first_t, last_t, last_type
            FROM temporal_buckets ORDER BY entity_id, attr, g, ds, start
            """).Select(Show).ToList();
        bucketsBefore.Should().HaveCount(4, "the old triggers made an hour and a day bucket per dataset");
        SqliteConnection.ClearAllPools();

        await using (var store = new SqliteTenantStore(null, DbPath))
        {
            var records = await store.ReadHistoryAsync(Id, null, default);
            records.Select(r => Show([r.EntityId, r.Attribute, r.DatasetId, r.InstanceId, r.Kind.ToString(),
                    r.ObservedAt is { } o ? Validate.Format(o) : null, Validate.Format(r.ModifiedAt), r.InstanceJson]))
                .Should().Equal(before.Select(Show), "every instance reads back as it was stored, documents to the byte");
        }
        SqliteConnection.ClearAllPools();

        Rows("SELECT group_concat(trimmed) FROM (SELECT trimmed FROM attribute_instances ORDER BY seq)").Single()[0].Should().Be("22,4,5,6,0",
            "documents lost the members at their end that their columns give again");
        Rows("SELECT typeof(instance_id), length(instance_id) FROM attribute_instances ORDER BY seq").Select(Show).Should().Equal(
            "blob | 16", "text | 34", "text | 63", "blob | 16", "blob | 16");
        // Step 10 then holds the times as milliseconds and a Property's type as NULL: shown here as step 8 held them.
        Rows("""
            SELECT h.id, n.iri, g, ds, strftime('%Y-%m-%dT%H:%M:%fZ', start / 1000.0, 'unixepoch'), b.n, nn, total, squares, min_num, max_num, min_str, max_str,
                   strftime('%Y-%m-%dT%H:%M:%fZ', first_t / 1000.0, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%fZ', last_t / 1000.0, 'unixepoch'), COALESCE(last_type, 'Property')
            FROM temporal_buckets b JOIN temporal_series s ON s.sk = b.sk JOIN history_entities h ON h.hk = s.hk JOIN names n ON n.nid = s.attr
            ORDER BY h.id, n.iri, g, ds, start
            """).Select(Show).Should().Equal(bucketsBefore, "the buckets were rebuilt by series with the same figures");
        Rows("SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('temporal_attributes', 'trg_instances_pair')").Single()[0].Should().Be(0L);
    }

    [Fact]
    public async Task Migrated_instances_are_found_by_their_old_ids_for_modify_and_delete()
    {
        SqliteBucketMigrationTests.WriteOldHistory(DbPath, 8);
        SqliteConnection.ClearAllPools();
        await using var store = new SqliteTenantStore(null, DbPath);
        var history = (ITemporalStore)store;

        (await history.DeleteInstanceAsync(Id, N, "urn:ngsi-ld:attribute:instance:0123456789abcdef0123456789abcdef", default)).Should().BeTrue();
        (await history.DeleteInstanceAsync(Id, N, "urn:ngsi-ld:attribute:instance:0123456789ABCDEF0123456789ABCDEF", default)).Should().BeTrue(
            "an id that is not in the broker's own form stays text and is found as text");
        (await history.DeleteInstanceAsync(Id, N, "urn:ngsi-ld:attribute:instance:fedcba9876543210FEDCBA9876543210", default)).Should().BeFalse(
            "ids compare as text: another spelling is another id");
        var replaced = JsonNode.Parse("""{"type":"Property","value":7,"observedAt":"2024-01-01T00:25:00.000Z"}""")!.AsObject();
        (await history.ReplaceInstanceAsync(Id, N, "urn:ngsi-ld:attribute:instance:i-2", replaced, DateTimeOffset.Parse("2024-03-01T00:00:00Z"), default)).Should().BeTrue();

        var left = await store.ReadHistoryAsync(Id, N, default);
        left.Select(r => (r.InstanceId, r.InstanceJson)).Should().Equal(
            ("urn:ngsi-ld:attribute:instance:i-2", """{"type":"Property","value":7,"observedAt":"2024-01-01T00:25:00.000Z"}"""),
            ("urn:ngsi-ld:attribute:instance:fedcba9876543210fedcba9876543210",
             """{"type":"Property","value":2.5,"observedAt":"2024-01-01T05:00:00.000Z","datasetId":"urn:ngsi-ld:D:1","createdAt":"2024-02-01T00:00:03.000Z","modifiedAt":"2024-02-01T00:00:03.000Z"}"""));
        var hour = await history.ReadBucketsAsync(new TemporalBucketRequest([Id], new HashSet<string> { N }, Kontext.Ngsi.Temporal.BucketGranularity.Hour,
            DateTimeOffset.Parse("2024-01-01T00:00:00Z"), null, new HashSet<string?> { null }), default);
        hour!.Select(b => (b.Figures.Count, b.Figures.Sum)).Should().Equal([(1L, 7.0)], "the buckets follow the modify and the deletes");
    }

    [Fact]
    public async Task A_new_instance_is_stored_compact_and_read_back_whole()
    {
        await using var store = new SqliteTenantStore(null, DbPath);
        var entity = EntityParser.ParseEntity(JsonNode.Parse("""
            {"id":"urn:ngsi-ld:S:1","type":"S","n":{"type":"Property","value":4,"observedAt":"2024-01-01T00:10:00.000Z","unitCode":"CEL"},
             "m":{"type":"Property","value":5,"observedAt":"2024-01-01T00:10:00Z"}}
            """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
        var now = DateTimeOffset.Parse("2024-02-01T00:00:00Z");
        await store.WriteAsync(Id, _ =>
        {
            var operations = new EntityOperations(now);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);

        var records = await store.ReadHistoryAsync(Id, null, default);
        records.Select(r => r.InstanceJson).Should().Equal(
            """{"value":4,"observedAt":"2024-01-01T00:10:00.000Z","unitCode":"CEL","type":"Property","createdAt":"2024-02-01T00:00:00.000Z","modifiedAt":"2024-02-01T00:00:00.000Z"}""",
            """{"value":5,"observedAt":"2024-01-01T00:10:00Z","type":"Property","createdAt":"2024-02-01T00:00:00.000Z","modifiedAt":"2024-02-01T00:00:00.000Z"}""");
        records.Should().AllSatisfy(r => r.InstanceId.Should().MatchRegex("^urn:ngsi-ld:attribute:instance:[0-9a-f]{32}$"));
        SqliteConnection.ClearAllPools();

        Rows("SELECT doc, trimmed, typeof(instance_id), length(instance_id), sample_type, sample_key, sample_num FROM attribute_instances ORDER BY seq").Select(Show).Should().Equal(
            """{"value":4,"observedAt":"2024-01-01T00:10:00.000Z","unitCode":"CEL"} | 14 | blob | 16 |  |  | 4""",
            """{"value":5} | 30 | blob | 16 |  |  | 5""");
        Rows("SELECT typeof(sk) FROM attribute_instances").Should().AllSatisfy(r => r[0].Should().Be("integer"));
    }

    [Theory]
    [InlineData("""{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00.000Z","createdAt":"2024-01-02T00:00:00.000Z","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 7)]
    [InlineData("""{"value":55.23,"unitCode":"GQ","observedAt":"2024-01-01T00:00:00Z","type":"Property","createdAt":"2024-01-02T00:00:00.000Z","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 30)]
    [InlineData("""{"value":1,"type":"Relationship","createdAt":"2024-01-02T00:00:00.000Z","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 6)]
    [InlineData("""{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00.000Z","createdAt":"2023-01-02T00:00:00.000Z","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 4)]
    [InlineData("""{"type":"Property","value":1,"createdAt":"2024-01-02T00:00:00.000Z","modifiedAt":"2024-01-02T00:00:00.000Z","observedAt":"2024-01-01T00:00:00.000Z"}""", 1)]
    [InlineData("""{"type":"Property","value":{"modifiedAt":"2024-01-02T00:00:00.000Z"}}""", 0)]
    [InlineData("""{"type":"Property","value":"a\"b","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 4)]
    [InlineData("""{"modifiedAt":"2024-01-02T00:00:00.000Z"}""", 0)]
    [InlineData("""{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00Z","modifiedAt":"2024-01-02T00:00:00.000Z"}""", 20)]
    public void A_document_is_trimmed_only_of_what_puts_back_exactly(string doc, int expected)
    {
        var form = SqliteInstanceForm.OfWhole(Encoding.UTF8.GetBytes(doc), "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z");
        var (stored, trimmed) = (form.Text, form.Trimmed);

        trimmed.Should().Be(expected);
        SqliteInstanceForm.Restore(stored, trimmed, "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z").Should().Be(doc);
        if (trimmed != 0) stored!.Length.Should().BeLessThan(doc.Length);
    }

    /// <summary>
    /// A created instance's members as the entity's document holds them (without its createdAt and modifiedAt, both the
    /// row's modifiedAt) trim to what its whole document trims to, kept bytes and bits alike (found where they stand).
    /// </summary>
    [Theory]
    [InlineData("""{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00.000Z"}""")]
    [InlineData("""{"value":55.23,"unitCode":"GQ","observedAt":"2024-01-01T00:00:00Z","type":"Property"}""")]
    [InlineData("""{"value":55.23,"observedAt":"2024-01-01T00:00:00.5Z","type":"Property"}""")]
    [InlineData("""{"object":"urn:x","type":"Relationship"}""")]
    [InlineData("""{"value":"Z\u00FCrich","type":"Property"}""")]
    [InlineData("""{"type":"Property","value":{"observedAt":"2024-01-01T00:00:00.000Z"}}""")]
    [InlineData("""{"x":1}""")]
    public void A_created_instance_without_its_times_trims_as_its_whole_document(string members)
    {
        const string observed = "2024-01-01T00:00:00.000Z", modified = "2024-01-02T00:00:00.000Z";
        var whole = Encoding.UTF8.GetBytes(members[..^1] + $$""","createdAt":"{{modified}}","modifiedAt":"{{modified}}"}""");
        var (wholeEnd, wholeTrimmed) = SqliteInstanceForm.TrimmedEnd(whole, observed, modified);

        var stored = SqliteInstanceForm.OfMembers(Encoding.UTF8.GetBytes("[" + members), 1, members.Length + 1, modified, modified, observed, modified)!.Value;

        stored.Trimmed.Should().Be(wholeTrimmed).And.NotBe(0);
        stored.ToString().Should().Be(Encoding.UTF8.GetString(whole, 0, wholeEnd) + "}");
    }

    /// <summary>
    /// Members with times that are not both the row's: an updated instance keeps its createdAt as its last member; what the
    /// members cannot say (no member before the times, another modifiedAt, a createdAt a writer escapes) is left to the
    /// whole document. Each answer given is what the whole document trims to.
    /// </summary>
    [Theory]
    [InlineData("""{"type":"Property","value":1,"observedAt":"2024-01-01T00:00:00.000Z"}""", "2023-05-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", true)]
    [InlineData("""{"object":"urn:x","type":"Relationship"}""", "2023-05-01T00:00:00Z", "2024-01-02T00:00:00.000Z", true)]
    [InlineData("""{}""", "2024-01-02T00:00:00.000Z", "2024-01-02T00:00:00.000Z", false)]
    [InlineData("""{}""", "2023-05-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z", false)]
    [InlineData("""{"value":1}""", "2024-01-02T00:00:00.000Z", "2024-01-03T00:00:00.000Z", false)]
    [InlineData("""{"value":1}""", "2023-05-01T00:00:00+01:00", "2024-01-02T00:00:00.000Z", false)]
    [InlineData("""{"value":1}""", "a\"b", "2024-01-02T00:00:00.000Z", false)]
    public void Members_with_other_times_are_stored_as_their_whole_document_or_left_to_it(string members, string created, string modified, bool said)
    {
        const string observed = "2024-01-01T00:00:00.000Z", rowModified = "2024-01-02T00:00:00.000Z";
        var instance = JsonNode.Parse(members)!.AsObject();
        instance["createdAt"] = created;
        instance["modifiedAt"] = modified;
        var whole = SqliteInstanceForm.OfWhole(Encoding.UTF8.GetBytes(instance.ToJsonString()), observed, rowModified);
        var (expected, expectedTrimmed) = (whole.Text, whole.Trimmed);

        var stored = SqliteInstanceForm.OfMembers(Encoding.UTF8.GetBytes(members), 0, Encoding.UTF8.GetByteCount(members), created, modified, observed, rowModified);

        stored.HasValue.Should().Be(said);
        if (stored is { } document) (document.ToString(), document.Trimmed).Should().Be((expected, expectedTrimmed));
        SqliteInstanceForm.OfInstance(instance, observed, rowModified).Text.Should().Be(expected, "an instance written out on its own is its text");
    }

    [Theory]
    [InlineData("urn:ngsi-ld:attribute:instance:0123456789abcdef0123456789abcdef", true)]
    [InlineData("urn:ngsi-ld:attribute:instance:0123456789ABCDEF0123456789abcdef", false)]
    [InlineData("urn:ngsi-ld:attribute:instance:0123456789abcdef0123456789abcde", false)]
    [InlineData("urn:ngsi-ld:attribute:instance:0123456789abcdef0123456789abcdeg", false)]
    [InlineData("urn:other:0123456789abcdef0123456789abcdef0123456789abcdef012", false)]
    public void An_instance_id_is_stored_as_bytes_only_in_the_brokers_own_form_and_reads_back_the_same(string id, bool bytes)
    {
        var stored = SqliteInstanceForm.Stored(id);

        (stored is byte[] { Length: 16 }).Should().Be(bytes);
        SqliteInstanceForm.Text(stored).Should().Be(id);
        SqliteInstanceForm.Text(SqliteInstanceForm.NewId()).Should().MatchRegex("^urn:ngsi-ld:attribute:instance:[0-9a-f]{32}$");
    }

    [Fact]
    public void New_instance_ids_are_distinct_version_4_uuids_across_refills_of_their_random_buffer()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => SqliteInstanceForm.NewId()).ToList();

        ids.Select(Convert.ToHexString).Should().OnlyHaveUniqueItems();
        ids.Should().OnlyContain(id => id.Length == 16 && (id[6] & 0xF0) == 0x40 && (id[8] & 0xC0) == 0x80);
        ids.Select(id => new Guid(id, bigEndian: true).Version).Should().OnlyContain(v => v == 4);
    }
}
