using System.Globalization;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The adapters' facet in the tenant's own file: writes go through the tenant's single writer (a claim is one
/// conditional insert there, so two ingests of one uplink cannot both win), reads through the pooled readers.
/// </summary>
internal sealed partial class SqliteTenantStore : IAdapterStore
{
    public IAdapterStore Adapters => this;

    private const string DeadLetterColumns = "id, source, kind, device, reason, detail, payload, received_at, attempts, last_attempt_at, status";

    public Task<bool> TryClaimUplinkAsync(string device, long frameCounter, DateTimeOffset now, TimeSpan window, CancellationToken cancellationToken) =>
        Enqueue(connection =>
        {
            SqliteDatabase.Cached(connection, "DELETE FROM adapter_uplinks WHERE device = $d AND fcnt = $f AND at < $c",
                ("$d", device), ("$f", frameCounter), ("$c", (now - window).ToUnixTimeMilliseconds())).ExecuteNonQuery();
            return SqliteDatabase.Cached(connection, "INSERT OR IGNORE INTO adapter_uplinks(device, fcnt, at) VALUES($d, $f, $a)",
                ("$d", device), ("$f", frameCounter), ("$a", now.ToUnixTimeMilliseconds())).ExecuteNonQuery() == 1;
        }, cancellationToken);

    public Task ReleaseUplinkAsync(string device, long frameCounter, CancellationToken cancellationToken) =>
        Enqueue(connection => SqliteDatabase.Cached(connection, "DELETE FROM adapter_uplinks WHERE device = $d AND fcnt = $f",
            ("$d", device), ("$f", frameCounter)).ExecuteNonQuery(), cancellationToken);

    public Task AddDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        Enqueue(connection => SqliteDatabase.Cached(connection, $"INSERT INTO adapter_dead_letters({DeadLetterColumns}) VALUES($id, $s, $k, $d, $r, $det, $p, $ra, $a, $la, $st)",
            DeadLetterParameters(letter)).ExecuteNonQuery(), cancellationToken);

    public Task UpdateDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken) =>
        Enqueue(connection => SqliteDatabase.Cached(connection, """
            UPDATE adapter_dead_letters SET source = $s, kind = $k, device = $d, reason = $r, detail = $det, payload = $p, received_at = $ra,
                attempts = $a, last_attempt_at = $la, status = $st WHERE id = $id
            """, DeadLetterParameters(letter)).ExecuteNonQuery(), cancellationToken);

    private static (string, object?)[] DeadLetterParameters(DeadLetter l) =>
    [
        ("$id", l.Id), ("$s", l.Source), ("$k", l.Kind), ("$d", l.Device), ("$r", l.Reason), ("$det", l.Detail), ("$p", l.Payload),
        ("$ra", l.ReceivedAt.ToString("O", CultureInfo.InvariantCulture)), ("$a", l.Attempts),
        ("$la", l.LastAttemptAt.ToString("O", CultureInfo.InvariantCulture)), ("$st", l.Status),
    ];

    private DeadLetter ReadDeadLetter(SqliteDataReader r) => new()
    {
        Id = r.GetString(0), Tenant = Name, Source = r.GetString(1), Kind = r.GetString(2), Device = r.IsDBNull(3) ? null : r.GetString(3),
        Reason = r.GetString(4), Detail = r.GetString(5), Payload = r.GetString(6),
        ReceivedAt = DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture), Attempts = r.GetInt32(8),
        LastAttemptAt = DateTimeOffset.Parse(r.GetString(9), CultureInfo.InvariantCulture), Status = r.GetString(10),
    };

    public async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, $"SELECT {DeadLetterColumns} FROM adapter_dead_letters WHERE id = $id", ("$id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDeadLetter(reader) : null;
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? status, int limit, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection,
            $"SELECT {DeadLetterColumns} FROM adapter_dead_letters WHERE $st IS NULL OR status = $st ORDER BY seq DESC LIMIT $l",
            ("$st", status), ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var letters = new List<DeadLetter>();
        while (await reader.ReadAsync(cancellationToken)) letters.Add(ReadDeadLetter(reader));
        return letters;
    }

    public Task<bool> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken) =>
        Enqueue(connection => SqliteDatabase.Cached(connection, "DELETE FROM adapter_dead_letters WHERE id = $id", ("$id", id)).ExecuteNonQuery() == 1,
            cancellationToken);

    public async Task<ValidationMode?> GetValidationModeAsync(string type, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT mode FROM adapter_validation_modes WHERE type = $t", ("$t", type));
        return await command.ExecuteScalarAsync(cancellationToken) is string mode ? Enum.Parse<ValidationMode>(mode, ignoreCase: true) : null;
    }

    public Task SetValidationModeAsync(string type, ValidationMode? mode, CancellationToken cancellationToken) =>
        Enqueue(connection => (mode is null
                ? SqliteDatabase.Cached(connection, "DELETE FROM adapter_validation_modes WHERE type = $t", ("$t", type))
                : SqliteDatabase.Cached(connection, "INSERT OR REPLACE INTO adapter_validation_modes(type, mode) VALUES($t, $m)",
                    ("$t", type), ("$m", mode.Value.ToString().ToLowerInvariant())))
            .ExecuteNonQuery(), cancellationToken);

    public async Task<IReadOnlyDictionary<string, ValidationMode>> ListValidationModesAsync(CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, "SELECT type, mode FROM adapter_validation_modes ORDER BY type");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var modes = new Dictionary<string, ValidationMode>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken)) modes[reader.GetString(0)] = Enum.Parse<ValidationMode>(reader.GetString(1), ignoreCase: true);
        return modes;
    }
}
