using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>Schema step 8 builds the buckets of the history a file already holds, then the triggers keep them (step 9 rebuilds them by series).</summary>
public sealed class SqliteBucketMigrationTests : IDisposable
{
    private readonly SqliteTestDirectory _directory = new("buckets");

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// A file at <paramref name="version"/> holding the history of urn:ngsi-ld:S:1 as the releases up to step 8 wrote it
    /// (rows keyed by entity id and attribute IRI, text instance ids, whole documents; at version 8 its triggers keep the
    /// buckets as the rows go in).
    /// </summary>
    internal static void WriteOldHistory(string path, int version)
    {
        using var old = new SqliteConnection($"Data Source={path};Pooling=False");
        old.Open();
        SqliteMigrations.Apply(old, SqliteMigrations.Tenant.Take(version).ToList()).Should().Be(version);
        SqliteDatabase.Execute(old, """
            INSERT INTO attribute_instances(entity_id, attr, dataset_id, instance_id, kind, observed_at, modified_at, doc, sample_type, sample_num, sample_str, sample_key) VALUES
            ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', NULL, 'urn:ngsi-ld:attribute:instance:0123456789abcdef0123456789abcdef', 'Created',
             '2024-01-01T00:10:00.000Z', '2024-02-01T00:00:00.000Z', '{"type":"Property","value":4,"observedAt":"2024-01-01T00:10:00Z","createdAt":"2024-02-01T00:00:00.000Z","modifiedAt":"2024-02-01T00:00:00.000Z"}', 'Property', 4, NULL, 4),
            ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', NULL, 'urn:ngsi-ld:attribute:instance:i-2', 'Updated',
             '2024-01-01T00:20:00.000Z', '2024-02-01T00:00:01.000Z', '{"type":"Property","value":"text","observedAt":"2024-01-01T00:20:00.000Z","createdAt":"2024-02-01T00:00:00.000Z","modifiedAt":"2024-02-01T00:00:01.000Z"}', 'Property', NULL, 'text', 'text'),
            ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', NULL, 'urn:ngsi-ld:attribute:instance:0123456789ABCDEF0123456789ABCDEF', 'Updated',
             '2024-01-01T00:30:00.000Z', '2024-02-01T00:00:02.000Z', '{"type":"Relationship","object":"urn:ngsi-ld:T:1","observedAt":"2024-01-01T00:30:00.000Z","modifiedAt":"2024-02-01T00:00:02.000Z"}', 'Relationship', NULL, 'urn:ngsi-ld:T:1', 'urn:ngsi-ld:T:1'),
            ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:D:1', 'urn:ngsi-ld:attribute:instance:fedcba9876543210fedcba9876543210', 'Created',
             '2024-01-01T05:00:00.000Z', '2024-02-01T00:00:03.000Z', '{"type":"Property","value":2.5,"observedAt":"2024-01-01T05:00:00.000Z","datasetId":"urn:ngsi-ld:D:1","createdAt":"2024-02-01T00:00:03.000Z","modifiedAt":"2024-02-01T00:00:03.000Z"}', 'Property', 2.5, NULL, 2.5),
            ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/label', NULL, 'urn:ngsi-ld:attribute:instance:00000000000000000000000000000001', 'Deleted',
             NULL, '2024-02-01T00:00:04.000Z', '{"type":"Property"}', NULL, NULL, NULL, NULL);
            """);
    }

    [Fact]
    public async Task A_file_at_schema_version_7_gets_the_buckets_of_its_history_when_opened()
    {
        const string id = "urn:ngsi-ld:S:1";
        WriteOldHistory(_directory.DbPath, 7);
        SqliteConnection.ClearAllPools();

        await using var reopened = new SqliteStorage(_directory.Path);
        var history = (await reopened.GetTenantAsync(null, false, default))!.History!;
        var from = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var days = (await history.ReadBucketsAsync(new TemporalBucketRequest([id], null, BucketGranularity.Day, from, null), default))!;
        var hours = (await history.ReadBucketsAsync(new TemporalBucketRequest([id], null, BucketGranularity.Hour, from, null), default))!;

        days.Select(b => (b.DatasetId, b.Start, b.Figures.Count, b.Figures.Numbers, b.Figures.Sum, b.Figures.MinText, b.LastType)).Should().Equal(
            (null, from, 3L, 1L, 4.0, "text", "Relationship"), ("urn:ngsi-ld:D:1", from, 1L, 1L, 2.5, null, "Property"));
        hours.Select(b => (b.DatasetId, b.Start, b.Figures.Count)).Should().Equal((null, from, 3L), ("urn:ngsi-ld:D:1", from.AddHours(5), 1L));
    }
}
