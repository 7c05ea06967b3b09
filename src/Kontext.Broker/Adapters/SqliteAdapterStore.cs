using Microsoft.Data.Sqlite;

namespace Kontext.Broker.Adapters;

/// <summary><see cref="IAdapterStore"/> on its own SQLite file, &lt;data dir&gt;/adapters.db (WAL).</summary>
public sealed class SqliteAdapterStore : IAdapterStore
{
    private readonly string _connectionString;

    public SqliteAdapterStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dataDirectory, "adapters.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS uplinks (tenant TEXT NOT NULL, device TEXT NOT NULL, fcnt INTEGER NOT NULL, at INTEGER NOT NULL,
                PRIMARY KEY (tenant, device, fcnt));
            CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL,
                device TEXT, reason TEXT NOT NULL, detail TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL,
                attempts INTEGER NOT NULL, last_attempt_at TEXT NOT NULL, status TEXT NOT NULL, seq INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS dead_letters_by_tenant ON dead_letters (tenant, status, seq);
            CREATE TABLE IF NOT EXISTS validation_modes (tenant TEXT NOT NULL, type TEXT NOT NULL, mode TEXT NOT NULL, PRIMARY KEY (tenant, type));
            """);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private static string Key(string? tenant) => tenant ?? "";

    public async Task<bool> TryClaimUplinkAsync(string? tenant, string device, long frameCounter, DateTimeOffset now, TimeSpan window, CancellationToken ct)
    {
        await using var connection = Open();
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        var cutoff = (now - window).ToUnixTimeMilliseconds();
        await using (var stale = Command(connection, "DELETE FROM uplinks WHERE tenant=$t AND device=$d AND fcnt=$f AND at < $c",
                         ("$t", Key(tenant)), ("$d", device), ("$f", frameCounter), ("$c", cutoff)))
            await stale.ExecuteNonQueryAsync(ct);
        await using var insert = Command(connection, "INSERT OR IGNORE INTO uplinks (tenant, device, fcnt, at) VALUES ($t, $d, $f, $a)",
            ("$t", Key(tenant)), ("$d", device), ("$f", frameCounter), ("$a", now.ToUnixTimeMilliseconds()));
        var inserted = await insert.ExecuteNonQueryAsync(ct) == 1;
        await tx.CommitAsync(ct);
        return inserted;
    }

    public async Task ReleaseUplinkAsync(string? tenant, string device, long frameCounter, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, "DELETE FROM uplinks WHERE tenant=$t AND device=$d AND fcnt=$f",
            ("$t", Key(tenant)), ("$d", device), ("$f", frameCounter));
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task AddDeadLetterAsync(DeadLetter letter, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, """
            INSERT INTO dead_letters (id, tenant, source, kind, device, reason, detail, payload, received_at, attempts, last_attempt_at, status, seq)
            VALUES ($id, $t, $s, $k, $d, $r, $det, $p, $ra, $a, $la, $st, (SELECT COALESCE(MAX(seq), 0) + 1 FROM dead_letters))
            """, Parameters(letter));
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task UpdateDeadLetterAsync(DeadLetter letter, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, """
            UPDATE dead_letters SET tenant=$t, source=$s, kind=$k, device=$d, reason=$r, detail=$det, payload=$p, received_at=$ra,
                attempts=$a, last_attempt_at=$la, status=$st WHERE id=$id
            """, Parameters(letter));
        await command.ExecuteNonQueryAsync(ct);
    }

    private static (string, object?)[] Parameters(DeadLetter l) =>
    [
        ("$id", l.Id), ("$t", Key(l.Tenant)), ("$s", l.Source), ("$k", l.Kind), ("$d", l.Device), ("$r", l.Reason), ("$det", l.Detail),
        ("$p", l.Payload), ("$ra", l.ReceivedAt.ToString("O")), ("$a", l.Attempts), ("$la", l.LastAttemptAt.ToString("O")), ("$st", l.Status),
    ];

    private const string Columns = "id, tenant, source, kind, device, reason, detail, payload, received_at, attempts, last_attempt_at, status";

    private static DeadLetter Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Tenant = r.GetString(1) is { Length: > 0 } t ? t : null,
        Source = r.GetString(2),
        Kind = r.GetString(3),
        Device = r.IsDBNull(4) ? null : r.GetString(4),
        Reason = r.GetString(5),
        Detail = r.GetString(6),
        Payload = r.GetString(7),
        ReceivedAt = DateTimeOffset.Parse(r.GetString(8), System.Globalization.CultureInfo.InvariantCulture),
        Attempts = r.GetInt32(9),
        LastAttemptAt = DateTimeOffset.Parse(r.GetString(10), System.Globalization.CultureInfo.InvariantCulture),
        Status = r.GetString(11),
    };

    public async Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, $"SELECT {Columns} FROM dead_letters WHERE id=$id", ("$id", id));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? tenant, string? status, int limit, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection,
            $"SELECT {Columns} FROM dead_letters WHERE tenant=$t AND ($st IS NULL OR status=$st) ORDER BY seq DESC LIMIT $l",
            ("$t", Key(tenant)), ("$st", status), ("$l", limit));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<DeadLetter>();
        while (await reader.ReadAsync(ct)) list.Add(Read(reader));
        return list;
    }

    public async Task<bool> DeleteDeadLetterAsync(string id, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, "DELETE FROM dead_letters WHERE id=$id", ("$id", id));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<ValidationMode?> GetValidationModeAsync(string? tenant, string type, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, "SELECT mode FROM validation_modes WHERE tenant=$t AND type=$ty", ("$t", Key(tenant)), ("$ty", type));
        return await command.ExecuteScalarAsync(ct) is string mode ? Enum.Parse<ValidationMode>(mode, ignoreCase: true) : null;
    }

    public async Task SetValidationModeAsync(string? tenant, string type, ValidationMode? mode, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = mode is null
            ? Command(connection, "DELETE FROM validation_modes WHERE tenant=$t AND type=$ty", ("$t", Key(tenant)), ("$ty", type))
            : Command(connection, "INSERT OR REPLACE INTO validation_modes (tenant, type, mode) VALUES ($t, $ty, $m)",
                ("$t", Key(tenant)), ("$ty", type), ("$m", mode.Value.ToString().ToLowerInvariant()));
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyDictionary<string, ValidationMode>> ListValidationModesAsync(string? tenant, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = Command(connection, "SELECT type, mode FROM validation_modes WHERE tenant=$t ORDER BY type", ("$t", Key(tenant)));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var modes = new Dictionary<string, ValidationMode>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct)) modes[reader.GetString(0)] = Enum.Parse<ValidationMode>(reader.GetString(1), ignoreCase: true);
        return modes;
    }

    public ValueTask DisposeAsync()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }
}
