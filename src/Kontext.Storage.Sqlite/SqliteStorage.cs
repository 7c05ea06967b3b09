using System.Collections.Concurrent;
using System.Text;
using System.Security.Cryptography;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Bounds of the embedded store: how many tenants may exist, how many hold files open, when an idle one closes, how many
/// reader connections one tenant and the whole process hold open at once, how long a read waits for one.
/// </summary>
public sealed record SqliteStorageLimits(int MaxTenants = 1000, int MaxOpenTenants = 64, TimeSpan? CloseIdleAfter = null, int? MaxReadersPerTenant = null,
    int? MaxReaders = null, TimeSpan? ReaderWait = null, int MaxLargeWriterCaches = SqliteStorageLimits.DefaultLargeWriterCaches)
{
    /// <summary>
    /// Writers keeping their full 16 MiB page cache at once (<see cref="SqliteWriterCaches"/>); the others open with 2 MiB. With
    /// the default 64 open tenants, the writers' caches hold at most 16 × 16 + 48 × 2 = 352 MiB instead of 1 GiB.
    /// </summary>
    public const int DefaultLargeWriterCaches = 16;

    public static SqliteStorageLimits Default { get; } = new();
    public TimeSpan IdleAfter => CloseIdleAfter ?? TimeSpan.FromMinutes(1);
    public int ReadersPerTenant => MaxReadersPerTenant ?? DefaultReadersPerTenant;
    public int Readers => MaxReaders ?? DefaultReaders;
    public TimeSpan ReaderWaitLimit => ReaderWait ?? DefaultReaderWait;

    /// <summary>
    /// Sixteen per processor, at least 64: four tenants at their default cap per processor, so a few busy tenants never meet
    /// it, while 64 open tenants on two cores hold at most 64 page caches (128 MiB) instead of 64 × 8.
    /// </summary>
    public static int DefaultReaders { get; } = Math.Max(64, 16 * Environment.ProcessorCount);

    /// <summary>A read waits this long at most for a reader connection at a cap, then the request answers 503 with Retry-After.</summary>
    public static TimeSpan DefaultReaderWait { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Four per processor, at least eight (the idle connections a tenant keeps): a read holds its connection while it runs
    /// on a thread, so more than a few per core only add page caches and file handles. Each reader's page cache is SQLite's
    /// default 2,000 KiB (8 MiB while it counts a query's matches), filled only as pages are read: a tenant's readers hold
    /// at most the cap times that, beside the writer's 16 MiB, and the store at most <see cref="MaxOpenTenants"/> tenants' worth.
    /// </summary>
    public static int DefaultReadersPerTenant { get; } = Math.Max(8, 4 * Environment.ProcessorCount);
}

/// <summary>
/// The embedded store (D7): one SQLite file per tenant under the data directory (D6). The tenants and their file
/// names are registered in system.db, so any accepted tenant name maps to a short file name (a hash where the
/// readable form would be too long) and the list of tenants never needs a directory scan.
/// </summary>
public sealed class SqliteStorage : IEntityStorage
{
    private const string DefaultTenantFile = "kontext.db";
    private const int MaxReadableFileName = 96; // well under the 255 bytes of common file systems, with room for -wal/-shm
    private readonly string _directory;
    private readonly SqliteStorageLimits _limits;
    private readonly SqliteOpenTenants _openTenants;
    private readonly SqliteReaderBudget _readerBudget;
    private readonly SqliteWriterCaches _writerCaches;
    private readonly ConcurrentDictionary<string, Lazy<SqliteTenantStore>> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _files = new(StringComparer.Ordinal); // tenant → file name
    private readonly SemaphoreSlim _registering = new(1, 1);
    private readonly SqliteContextDocumentStore _contexts;
    private readonly string _systemConnectionString;

    public SqliteStorage(string dataDirectory, SqliteStorageLimits? limits = null)
    {
        _directory = Path.GetFullPath(dataDirectory);
        _limits = limits ?? SqliteStorageLimits.Default;
        _openTenants = new SqliteOpenTenants(_limits.MaxOpenTenants, _limits.IdleAfter);
        _readerBudget = new SqliteReaderBudget(_limits.Readers, _limits.ReaderWaitLimit);
        _writerCaches = new SqliteWriterCaches(_limits.MaxLargeWriterCaches);
        Directory.CreateDirectory(_directory);
        var systemPath = Path.Combine(_directory, "system.db");
        _contexts = new SqliteContextDocumentStore(systemPath);
        _systemConnectionString = SqliteDatabase.ConnectionString(systemPath);
        LoadTenantRegistry();
    }

    public IContextDocumentStore Contexts => _contexts;

    /// <summary>Tenants whose databases hold files open now (bounded by <see cref="SqliteStorageLimits.MaxOpenTenants"/>).</summary>
    public int OpenTenantCount => _openTenants.OpenCount;

    public event Action<string?>? Committed;

    /// <summary>The process-wide bound on reader connections, for tests of it.</summary>
    internal SqliteReaderBudget ReaderBudget => _readerBudget;

    /// <summary>The process-wide bound on the writers' page caches, for tests of it.</summary>
    internal SqliteWriterCaches WriterCaches => _writerCaches;

    /// <summary>The reader pool of a tenant opened already (null: not opened), for tests of its cap.</summary>
    internal SqliteReaders? Readers(string? tenant) =>
        _tenants.TryGetValue(tenant ?? "", out var store) && store.IsValueCreated ? store.Value.Readers : null;

    /// <summary>
    /// The tenants: those registered in system.db. Only this process creates tenants, so the notifier, which asks
    /// after every commit, never has to read the registry again.
    /// </summary>
    public Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string?>>([null, .. _files.Keys]);

    public async ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken)
    {
        var key = tenant ?? "";
        if (_tenants.TryGetValue(key, out var open)) return open.Value;
        string file;
        if (tenant is null) file = DefaultTenantFile;
        else if (_files.TryGetValue(tenant, out var known)) file = known;
        else if (!create) return null; // a named tenant exists once something was written to it
        else file = await RegisterAsync(tenant, cancellationToken);
        var path = Path.Combine(_directory, file);
        var store = _tenants.GetOrAdd(key, _ => new Lazy<SqliteTenantStore>(() => new SqliteTenantStore(tenant, path, t => Committed?.Invoke(t), _openTenants, _limits.ReadersPerTenant, _readerBudget, _writerCaches)));
        return store.Value;
    }

    /// <summary>Records a new tenant and its file name, within the tenant cap.</summary>
    private async Task<string> RegisterAsync(string tenant, CancellationToken cancellationToken)
    {
        await _registering.WaitAsync(cancellationToken);
        try
        {
            if (_files.TryGetValue(tenant, out var known)) return known;
            if (_limits.MaxTenants > 0 && _files.Count >= _limits.MaxTenants)
                throw new NgsiException(NgsiError.LimitExceeded($"This broker holds its maximum of {_limits.MaxTenants} tenants; '{tenant}' cannot be created"));
            var file = FileName(tenant);
            await using var connection = new SqliteConnection(_systemConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var insert = SqliteDatabase.Command(connection,
                "INSERT OR IGNORE INTO tenants(name, file, created_at) VALUES($name, $file, $at)",
                ("$name", tenant), ("$file", file), ("$at", DateTimeOffset.UtcNow.ToString("O")));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            _files[tenant] = file;
            return file;
        }
        finally
        {
            _registering.Release();
        }
    }

    /// <summary>Reads the registry; tenant files of older versions (named by <see cref="LegacyTenantName"/>, no registry) are registered once.</summary>
    private void LoadTenantRegistry()
    {
        using var connection = new SqliteConnection(_systemConnectionString);
        connection.Open();
        using (var select = SqliteDatabase.Command(connection, "SELECT name, file FROM tenants"))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read()) _files[reader.GetString(0)] = reader.GetString(1);
        }
        var registered = _files.Values.ToHashSet(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(_directory, "tenant-*.db"))
        {
            var file = Path.GetFileName(path);
            if (registered.Contains(file)) continue;
            var name = LegacyTenantName(Path.GetFileNameWithoutExtension(file)["tenant-".Length..]);
            using var insert = SqliteDatabase.Command(connection, "INSERT OR IGNORE INTO tenants(name, file, created_at) VALUES($name, $file, $at)",
                ("$name", name), ("$file", file), ("$at", DateTimeOffset.UtcNow.ToString("O")));
            insert.ExecuteNonQuery();
            _files[name] = file;
        }
    }

    /// <summary>The tenant name an older version encoded in a file name (the inverse of the readable part of <see cref="FileName"/>).</summary>
    internal static string LegacyTenantName(string encoded)
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

    /// <summary>
    /// A file-system-safe name: letters, digits and '-' kept, every other byte as _XX; a name that would grow past
    /// <see cref="MaxReadableFileName"/> keeps a readable prefix and ends in a hash of the whole tenant name.
    /// </summary>
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
        if (name.Length > MaxReadableFileName)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tenant)))[..24];
            name.Length = MaxReadableFileName - hash.Length - 2;
            // The prefix is only for people reading the directory; drop an _XX escape cut in half.
            if (name[^1] == '_') name.Length--;
            else if (name.Length > 1 && name[^2] == '_') name.Length -= 2;
            name.Append("~h").Append(hash);
        }
        return name.Append(".db").ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _openTenants.Dispose();
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
        SqliteMigrations.Apply(connection, SqliteMigrations.System);
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
