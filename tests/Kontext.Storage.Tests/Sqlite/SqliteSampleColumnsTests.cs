using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// Aggregation reads sample columns written with each instance. A database written before those columns existed
/// gets them added and filled in from the stored documents when it is opened, so its history aggregates correctly.
/// </summary>
public sealed class SqliteSampleColumnsTests : IDisposable
{
    private readonly SqliteTestDirectory _directory = new("samples");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_database_from_before_the_sample_columns_is_filled_in_on_open()
    {
        var request = new TemporalAggregateRequest(["urn:ngsi-ld:S:1"], null, TemporalTimeProperty.ObservedAt, null, true, null, TimeSpan.Zero);
        // The history as the first releases wrote it: no sample columns, no schema version.
        await using (var old = new SqliteConnection($"Data Source={_directory.DbPath};Pooling=False"))
        {
            await old.OpenAsync();
            SqliteDatabase.Execute(old, SqliteSchema.Tables);
            SqliteDatabase.Execute(old, """
                INSERT INTO attribute_instances(entity_id, attr, instance_id, kind, observed_at, modified_at, doc) VALUES
                ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/n', 'urn:ngsi-ld:attribute:instance:1', 'Created',
                 '2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '{"type":"Property","value":4,"observedAt":"2024-01-01T00:00:00Z"}'),
                ('urn:ngsi-ld:S:1', 'https://uri.etsi.org/ngsi-ld/default-context/label', 'urn:ngsi-ld:attribute:instance:2', 'Created',
                 '2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '{"type":"Property","value":"b","observedAt":"2024-01-01T00:00:00Z"}');
                """);
            SqliteMigrations.VersionOf(old).Should().Be(0);
        }
        SqliteConnection.ClearAllPools();

        await using var reopened = new SqliteStorage(_directory.Path);
        var rows = await (await reopened.GetTenantAsync(null, false, default))!.History!.AggregateAsync(request, default);

        rows.Should().HaveCount(2);
        var label = rows.Single(r => r.Attribute.EndsWith("label"));
        (label.AttributeType, label.Figures.Count, label.Figures.MinText, label.Figures.Numbers).Should().Be(("Property", 1L, "b", 0L));
        var n = rows.Single(r => r.Attribute.EndsWith("/n"));
        (n.Figures.Numbers, n.Figures.Sum, n.Figures.Distinct).Should().Be((1L, 4.0, 1L));
    }
}
