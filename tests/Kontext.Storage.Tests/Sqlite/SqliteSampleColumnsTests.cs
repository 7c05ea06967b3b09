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
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kontext-tests", "samples-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_database_from_before_the_sample_columns_is_filled_in_on_open()
    {
        var request = new TemporalAggregateRequest(["urn:ngsi-ld:S:1"], null, TemporalTimeProperty.ObservedAt, null, true, null, TimeSpan.Zero);
        await using (var storage = new SqliteStorage(_directory))
        {
            var store = (await storage.GetTenantAsync(null, true, default))!;
            var entity = EntityParser.ParseEntity(JsonNode.Parse("""
                {"id":"urn:ngsi-ld:S:1","type":"S","n":{"type":"Property","value":4,"observedAt":"2024-01-01T00:00:00Z"},
                 "label":{"type":"Property","value":"b","observedAt":"2024-01-01T00:00:00Z"}}
                """)!.AsObject(), ContextProcessor.Core, ParseMode.Full);
            await store.WriteAsync(entity.Id, _ =>
            {
                var operations = new EntityOperations(DateTimeOffset.UtcNow);
                return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
            }, default);
            (await store.History!.AggregateAsync(request, default)).Should().HaveCount(2);
        }
        SqliteConnection.ClearAllPools();
        await using (var old = new SqliteConnection($"Data Source={Path.Combine(_directory, "kontext.db")}"))
        {
            await old.OpenAsync();
            await using (var unversioned = old.CreateCommand())
            {
                unversioned.CommandText = "PRAGMA user_version = 0"; // such a file is from before schema versions too
                await unversioned.ExecuteNonQueryAsync();
            }
            // Nor had it the buckets (schema step 8), whose triggers read the sample columns.
            await using (var buckets = old.CreateCommand())
            {
                buckets.CommandText = "DROP TRIGGER trg_buckets_insert; DROP TRIGGER trg_buckets_delete; DROP TRIGGER trg_buckets_update; DROP TABLE temporal_buckets";
                await buckets.ExecuteNonQueryAsync();
            }
            foreach (var column in new[] { "sample_type", "sample_num", "sample_str", "sample_key" })
            {
                await using var drop = old.CreateCommand();
                drop.CommandText = $"ALTER TABLE attribute_instances DROP COLUMN {column}";
                await drop.ExecuteNonQueryAsync();
            }
        }
        SqliteConnection.ClearAllPools();

        await using var reopened = new SqliteStorage(_directory);
        var rows = await (await reopened.GetTenantAsync(null, false, default))!.History!.AggregateAsync(request, default);

        rows.Should().HaveCount(2);
        var label = rows.Single(r => r.Attribute.EndsWith("label"));
        (label.AttributeType, label.Figures.Count, label.Figures.MinText, label.Figures.Numbers).Should().Be(("Property", 1L, "b", 0L));
        var n = rows.Single(r => r.Attribute.EndsWith("/n"));
        (n.Figures.Numbers, n.Figures.Sum, n.Figures.Distinct).Should().Be((1L, 4.0, 1L));
    }
}
