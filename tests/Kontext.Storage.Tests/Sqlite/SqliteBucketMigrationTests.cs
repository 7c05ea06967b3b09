using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>Schema step 8 builds the buckets of the history a file already holds, then the triggers keep them.</summary>
public sealed class SqliteBucketMigrationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kontext-tests", "buckets-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_file_at_schema_version_7_gets_the_buckets_of_its_history_when_opened()
    {
        const string id = "urn:ngsi-ld:S:1";
        await using (var storage = new SqliteStorage(_directory))
        {
            var store = (await storage.GetTenantAsync(null, true, default))!;
            var input = TemporalEntityInput.Parse(JsonNode.Parse("""
                {"id":"urn:ngsi-ld:S:1","type":"S","n":[
                  {"type":"Property","value":4,"observedAt":"2024-01-01T00:10:00Z"},
                  {"type":"Property","value":"text","observedAt":"2024-01-01T00:20:00Z"},
                  {"type":"Relationship","object":"urn:ngsi-ld:T:1","observedAt":"2024-01-01T00:30:00Z"},
                  {"type":"Property","value":2.5,"observedAt":"2024-01-01T05:00:00Z","datasetId":"urn:ngsi-ld:D:1"}]}
                """)!.AsObject(), ContextProcessor.Core, null);
            await store.WriteAsync(id, EntityWrites.AddTemporalInstances(input, mustExist: false), default);
        }
        SqliteConnection.ClearAllPools();
        await using (var old = new SqliteConnection($"Data Source={Path.Combine(_directory, "kontext.db")}"))
        {
            await old.OpenAsync();
            await using var downgrade = old.CreateCommand();
            downgrade.CommandText = """
                DROP TRIGGER trg_buckets_insert; DROP TRIGGER trg_buckets_delete; DROP TRIGGER trg_buckets_update; DROP TABLE temporal_buckets;
                PRAGMA user_version = 7;
                """;
            await downgrade.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        await using var reopened = new SqliteStorage(_directory);
        var history = (await reopened.GetTenantAsync(null, false, default))!.History!;
        var from = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var days = (await history.ReadBucketsAsync(new TemporalBucketRequest([id], null, BucketGranularity.Day, from, null), default))!;
        var hours = (await history.ReadBucketsAsync(new TemporalBucketRequest([id], null, BucketGranularity.Hour, from, null), default))!;

        days.Select(b => (b.DatasetId, b.Start, b.Figures.Count, b.Figures.Numbers, b.Figures.Sum, b.Figures.MinText, b.LastType)).Should().Equal(
            (null, from, 3L, 1L, 4.0, "text", "Relationship"), ("urn:ngsi-ld:D:1", from, 1L, 1L, 2.5, null, "Property"));
        hours.Select(b => (b.DatasetId, b.Start, b.Figures.Count)).Should().Equal((null, from, 3L), ("urn:ngsi-ld:D:1", from.AddHours(5), 1L));
    }
}
