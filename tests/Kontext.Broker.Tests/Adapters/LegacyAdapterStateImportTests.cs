using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>An upgrade loses nothing: the adapters.db of an earlier broker is imported into the tenants' stores on start.</summary>
public sealed class LegacyAdapterStateImportTests
{
    /// <summary>adapters.db as brokers before the move wrote it (tenant '' is the default tenant).</summary>
    private static void WriteLegacyFile(string path, DateTimeOffset now)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $$"""
            CREATE TABLE uplinks (tenant TEXT NOT NULL, device TEXT NOT NULL, fcnt INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (tenant, device, fcnt));
            CREATE TABLE dead_letters (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL,
                device TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL,
                attempts INTEGER NOT NULL, last_attempt_at TEXT NOT NULL, status TEXT NOT NULL, seq INTEGER NOT NULL);
            CREATE TABLE validation_modes (tenant TEXT NOT NULL, type TEXT NOT NULL, mode TEXT NOT NULL, PRIMARY KEY (tenant, type));
            INSERT INTO uplinks VALUES ('city', 'DEV1', 5, {{now.ToUnixTimeMilliseconds()}});
            INSERT INTO dead_letters VALUES ('old-1', 'city', 'ttn', 'tts', 'DEV1', 'unmapped', 'no mapping', '{"a":1}', '{{now:O}}', 2, '{{now:O}}', 'pending', 1);
            INSERT INTO dead_letters VALUES ('old-2', '', 'vendor', 'json', NULL, 'mapping', 'bad', 'not json', '{{now:O}}', 1, '{{now:O}}', 'replayed', 2);
            INSERT INTO validation_modes VALUES ('city', 'FloodMonitoring', 'enforce');
            """;
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Dead_letters_claims_and_modes_of_an_adapters_db_move_into_the_tenants_stores_once()
    {
        var data = Path.Combine(Path.GetTempPath(), "kontext-tests", "legacy-adapters-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var now = DateTimeOffset.UtcNow;
        WriteLegacyFile(Path.Combine(data, "adapters.db"), now);
        try
        {
            await using (var broker = new BrokerFactory(data))
            {
                var storage = broker.Services.GetRequiredService<IEntityStorage>();
                var city = (await storage.GetTenantAsync("city", false, default))!.Adapters!;
                var letter = (await city.GetDeadLetterAsync("old-1", default))!;
                letter.Attempts.Should().Be(2);
                letter.Payload.Should().Be("""{"a":1}""");
                (await city.GetValidationModeAsync("FloodMonitoring", default)).Should().Be(ValidationMode.Enforce);
                (await city.TryClaimUplinkAsync("DEV1", 5, now.AddMinutes(1), TimeSpan.FromDays(2), default)).Should().BeFalse("the claim came along");
                var fallback = (await storage.GetTenantAsync(null, false, default))!.Adapters!;
                (await fallback.GetDeadLetterAsync("old-2", default))!.Status.Should().Be("replayed");

                await city.DeleteDeadLetterAsync("old-1", default);
            }
            File.Exists(Path.Combine(data, "adapters.db")).Should().BeFalse();
            File.Exists(Path.Combine(data, "adapters.db.imported")).Should().BeTrue();

            await using (var restarted = new BrokerFactory(data))
            {
                var city = (await restarted.Services.GetRequiredService<IEntityStorage>().GetTenantAsync("city", false, default))!.Adapters!;
                (await city.GetDeadLetterAsync("old-1", default)).Should().BeNull("the import ran once; a deleted letter stays deleted");
            }
        }
        finally
        {
            try { Directory.Delete(data, true); } catch (IOException) { }
        }
    }
}
