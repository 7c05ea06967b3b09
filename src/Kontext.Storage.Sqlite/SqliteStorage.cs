using System.Collections.Concurrent;
using System.Text;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>The embedded store (D7): one SQLite file per tenant under the data directory (D6).</summary>
public sealed class SqliteStorage : IEntityStorage
{
    private const string DefaultTenantFile = "kontext.db";
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, Lazy<SqliteTenantStore>> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _named = new(StringComparer.Ordinal);
    private readonly SqliteContextDocumentStore _contexts;

    public SqliteStorage(string dataDirectory)
    {
        _directory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(_directory);
        _contexts = new SqliteContextDocumentStore(Path.Combine(_directory, "system.db"));
        foreach (var file in Directory.EnumerateFiles(_directory, "tenant-*.db"))
            _named.TryAdd(TenantName(Path.GetFileNameWithoutExtension(file)["tenant-".Length..]), 0);
    }

    public IContextDocumentStore Contexts => _contexts;

    public event Action<string?>? Committed;

    /// <summary>
    /// The tenants: the files found at start plus those created since. Only this process creates tenant files, so the
    /// notifier, which asks after every commit, never has to scan the directory.
    /// </summary>
    public Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string?>>([null, .. _named.Keys]);

    /// <summary>The inverse of <see cref="FileName"/>.</summary>
    internal static string TenantName(string encoded)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '_' && i + 2 < encoded.Length)
            {
                bytes.Add(Convert.ToByte(encoded.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.Add((byte)encoded[i]);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken)
    {
        var key = tenant ?? "";
        if (_tenants.TryGetValue(key, out var open)) return ValueTask.FromResult<ITenantStore?>(open.Value);
        var path = Path.Combine(_directory, FileName(tenant));
        // The default tenant always exists; a named one exists once something was written to it.
        if (tenant is not null && !create && !File.Exists(path)) return ValueTask.FromResult<ITenantStore?>(null);
        var store = _tenants.GetOrAdd(key, _ => new Lazy<SqliteTenantStore>(() => new SqliteTenantStore(tenant, path, t => Committed?.Invoke(t))));
        var opened = store.Value;
        if (tenant is not null) _named.TryAdd(tenant, 0);
        return ValueTask.FromResult<ITenantStore?>(opened);
    }

    /// <summary>A reversible, file-system-safe name: letters, digits, '-' kept, everything else as _XX hex bytes.</summary>
    internal static string FileName(string? tenant)
    {
        if (tenant is null) return DefaultTenantFile;
        var name = new StringBuilder("tenant-");
        foreach (var b in Encoding.UTF8.GetBytes(tenant))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c == '-') name.Append(c);
            else name.Append('_').Append(b.ToString("x2"));
        }
        return name.Append(".db").ToString();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var tenant in _tenants.Values)
            if (tenant.IsValueCreated) await tenant.Value.DisposeAsync();
        _tenants.Clear();
        SqliteConnection.ClearAllPools();
    }
}

internal sealed class SqliteContextDocumentStore : IContextDocumentStore
{
    private readonly string _connectionString;

    public SqliteContextDocumentStore(string path)
    {
        _connectionString = SqliteDatabase.ConnectionString(path);
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        SqliteDatabase.Execute(connection, SqliteSchema.Pragmas);
        SqliteDatabase.Execute(connection, SqliteSchema.SystemTables);
    }

    public async Task<string?> GetAsync(string url, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "SELECT document FROM context_documents WHERE url = $url", ("$url", url));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<IReadOnlyList<StoredContextDocument>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection,
            "SELECT url, stored_at, length(CAST(document AS BLOB)) FROM context_documents ORDER BY stored_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredContextDocument>();
        while (await reader.ReadAsync(cancellationToken))
            list.Add(new(reader.GetString(0), DateTimeOffset.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture), reader.GetInt64(2)));
        return list;
    }

    public async Task<bool> DeleteAsync(string url, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, "DELETE FROM context_documents WHERE url = $url", ("$url", url));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task PutAsync(string url, string document, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(connection, """
            INSERT INTO context_documents(url, document, stored_at) VALUES($url, $doc, $at)
            ON CONFLICT(url) DO UPDATE SET document = excluded.document, stored_at = excluded.stored_at
            """, ("$url", url), ("$doc", document), ("$at", DateTimeOffset.UtcNow.ToString("O")));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
