using System.Globalization;
using Kontext.Adapters;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Adapters;

/// <summary>
/// Upgrade path: brokers before the adapter state moved into the configured store kept it in &lt;data dir&gt;/adapters.db.
/// On start, before requests are served, that file's dead letters, duplicate-uplink claims and validation modes are copied
/// into each tenant's store (what a tenant already has wins: nothing newer is overwritten, a repeated import adds nothing)
/// and the file is renamed adapters.db.imported, so the copy runs once and the original stays for inspection.
/// </summary>
internal sealed class LegacyAdapterStateImport(IOptions<KontextOptions> options, IOptions<AdapterOptions> adapterOptions, AdapterStores stores,
    ILogger<LegacyAdapterStateImport> logger) : IHostedService
{
    public const string FileName = "adapters.db";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.Value.Storage.DataDirectory, FileName);
        if (!File.Exists(path)) return;
        var counts = await ImportAsync(path, stores, adapterOptions.Value.DedupeWindow, cancellationToken);
        File.Move(path, path + ".imported", overwrite: true);
        foreach (var suffix in new[] { "-wal", "-shm" })
            if (File.Exists(path + suffix)) File.Move(path + suffix, path + ".imported" + suffix, overwrite: true);
        logger.LogInformation("Imported {DeadLetters} dead letters, {Claims} uplink claims and {Modes} validation modes from {File} into the tenants' stores",
            counts.DeadLetters, counts.Claims, counts.Modes, path);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static async Task<(int DeadLetters, int Claims, int Modes)> ImportAsync(string path, AdapterStores stores, TimeSpan window, CancellationToken ct)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        var tables = new HashSet<string>(StringComparer.Ordinal);
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            await using var reader = await list.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) tables.Add(reader.GetString(0));
        }
        static string? Tenant(string key) => key.Length == 0 ? null : key;
        int letters = 0, claims = 0, modes = 0;

        if (tables.Contains("dead_letters"))
        {
            await foreach (var r in RowsAsync(connection, "SELECT tenant, id, source, kind, device, reason, detail, payload, received_at, attempts, last_attempt_at, status FROM dead_letters ORDER BY seq", ct))
            {
                var store = await stores.CreateAsync(Tenant(r.GetString(0)), ct);
                if (await store.GetDeadLetterAsync(r.GetString(1), ct) is not null) continue;
                await store.AddDeadLetterAsync(new DeadLetter
                {
                    Id = r.GetString(1), Tenant = Tenant(r.GetString(0)), Source = r.GetString(2), Kind = r.GetString(3), Device = r.IsDBNull(4) ? null : r.GetString(4),
                    Reason = r.GetString(5), Detail = r.GetString(6), Payload = r.GetString(7),
                    ReceivedAt = DateTimeOffset.Parse(r.GetString(8), CultureInfo.InvariantCulture), Attempts = r.GetInt32(9),
                    LastAttemptAt = DateTimeOffset.Parse(r.GetString(10), CultureInfo.InvariantCulture), Status = r.GetString(11),
                }, ct);
                letters++;
            }
        }
        if (tables.Contains("uplinks"))
        {
            var cutoff = DateTimeOffset.UtcNow - window;
            await foreach (var r in RowsAsync(connection, "SELECT tenant, device, fcnt, at FROM uplinks", ct))
            {
                var at = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3));
                if (at < cutoff) continue; // expired claims protect nothing
                var store = await stores.CreateAsync(Tenant(r.GetString(0)), ct);
                if (await store.TryClaimUplinkAsync(r.GetString(1), r.GetInt64(2), at, window, ct)) claims++;
            }
        }
        if (tables.Contains("validation_modes"))
        {
            await foreach (var r in RowsAsync(connection, "SELECT tenant, type, mode FROM validation_modes", ct))
            {
                var store = await stores.CreateAsync(Tenant(r.GetString(0)), ct);
                if (await store.GetValidationModeAsync(r.GetString(1), ct) is not null
                    || !Enum.TryParse<ValidationMode>(r.GetString(2), ignoreCase: true, out var mode)) continue;
                await store.SetValidationModeAsync(r.GetString(1), mode, ct);
                modes++;
            }
        }
        return (letters, claims, modes);
    }

    private static async IAsyncEnumerable<SqliteDataReader> RowsAsync(SqliteConnection connection, string sql,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) yield return reader;
    }
}
