using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>One file of a backup: its name in the data directory, the tenant it holds (null: not a tenant's), its size.</summary>
public sealed record BackupFile(string File, string? Tenant, long Bytes);

/// <summary>backup.json: what a backup holds and when it was taken.</summary>
public sealed record BackupManifest(string Format, DateTimeOffset CreatedAt, IReadOnlyList<BackupFile> Files)
{
    public const string CurrentFormat = "kontext-sqlite-backup/1";
}

/// <summary>
/// Backup and restore of the embedded store's data directory (docs/operations.md#backups).
/// <para>
/// Backup runs while the broker runs: each database is copied with SQLite's online backup API, which reads one
/// consistent snapshot of the file (with WAL, writers go on meanwhile). A tenant's entities, history, change log, cursor
/// and outbox are one file, so each tenant is consistent in itself (D4, D5); tenants are independent of each other.
/// system.db (the tenant registry and fetched @contexts) is copied first and the tenant files named in that copy
/// follow: a tenant created during the backup is not in it at all, rather than present without its registry row.
/// Other databases of the directory (adapters.db: dead letters, duplicate keys, validation modes) are copied as they are.
/// </para>
/// <para>
/// Restore needs the broker stopped: the broker holds kontext.lock in the data directory while it runs and restore
/// refuses while the lock is held. Files are copied under temporary names and renamed into place, stale -wal/-shm files
/// of the replaced databases are removed first (a WAL left beside a restored file would be replayed into it), and each
/// restored file passes SQLite's quick_check. Notifications pending in an outbox at backup time are sent again after a
/// restore (delivery is at-least-once).
/// </para>
/// </summary>
public static class SqliteBackup
{
    public const string LockFile = "kontext.lock";
    public const string ManifestFile = "backup.json";
    private const string SystemFile = "system.db";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>
    /// Takes the data directory's lock (an exclusive advisory lock on kontext.lock, released when the stream is disposed
    /// or the process ends, kill -9 included); null when another process or another broker in this process holds it.
    /// </summary>
    public static FileStream? TryLock(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        try
        {
            var stream = new FileStream(Path.Combine(dataDirectory, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            var note = System.Text.Encoding.UTF8.GetBytes($"pid {Environment.ProcessId} since {DateTimeOffset.UtcNow:O}\n");
            stream.Write(note);
            stream.Flush();
            return stream;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Copies every database of <paramref name="dataDirectory"/> into the empty or new directory <paramref name="target"/>.</summary>
    public static BackupManifest Backup(string dataDirectory, string target, Action<BackupFile>? copied = null, CancellationToken cancellationToken = default)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        target = Path.GetFullPath(target);
        if (!File.Exists(Path.Combine(dataDirectory, SystemFile)))
            throw new InvalidOperationException($"{dataDirectory} is not a Kontext data directory (it has no {SystemFile})");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new InvalidOperationException($"The backup directory {target} is not empty");
        Directory.CreateDirectory(target);

        var files = new List<BackupFile>();
        void Copy(string file, string? tenant)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = new BackupFile(file, tenant, CopyDatabase(Path.Combine(dataDirectory, file), Path.Combine(target, file)));
            files.Add(entry);
            copied?.Invoke(entry);
        }

        Copy(SystemFile, null);
        var tenants = RegisteredTenants(Path.Combine(target, SystemFile));
        var registeredFiles = tenants.Select(t => t.File).ToHashSet(StringComparer.Ordinal);
        if (File.Exists(Path.Combine(dataDirectory, "kontext.db"))) Copy("kontext.db", null);
        foreach (var (name, file) in tenants)
            if (File.Exists(Path.Combine(dataDirectory, file))) Copy(file, name);
        foreach (var path in Directory.EnumerateFiles(dataDirectory, "*.db").Order(StringComparer.Ordinal))
        {
            var file = Path.GetFileName(path);
            if (file is SystemFile or "kontext.db" || registeredFiles.Contains(file) || file.StartsWith("tenant-", StringComparison.Ordinal)) continue;
            Copy(file, null); // adapters.db and any other database the broker keeps beside the tenants
        }

        var manifest = new BackupManifest(BackupManifest.CurrentFormat, DateTimeOffset.UtcNow, files);
        File.WriteAllText(Path.Combine(target, ManifestFile), JsonSerializer.Serialize(manifest, Json));
        return manifest;
    }

    /// <summary>Puts a backup in place of <paramref name="dataDirectory"/>'s databases; the broker must be stopped.</summary>
    /// <param name="replace">Allow replacing a data directory that has databases (they are moved to a pre-restore-* folder first).</param>
    public static BackupManifest Restore(string backup, string dataDirectory, bool replace, Action<BackupFile>? restored = null)
    {
        backup = Path.GetFullPath(backup);
        dataDirectory = Path.GetFullPath(dataDirectory);
        var manifest = ReadManifest(backup);
        using var held = TryLock(dataDirectory)
            ?? throw new InvalidOperationException($"A broker is running on {dataDirectory} (it holds {LockFile}): stop it before restoring");
        var existing = Directory.EnumerateFiles(dataDirectory, "*.db").ToList();
        if (existing.Count > 0)
        {
            if (!replace)
                throw new InvalidOperationException($"{dataDirectory} already holds databases; restore into an empty directory, or pass --replace to set them aside first");
            var aside = Path.Combine(dataDirectory, $"pre-restore-{DateTimeOffset.UtcNow:yyyyMMddTHHmmssZ}");
            Directory.CreateDirectory(aside);
            foreach (var path in existing)
                foreach (var part in new[] { path, path + "-wal", path + "-shm" })
                    if (File.Exists(part)) File.Move(part, Path.Combine(aside, Path.GetFileName(part)));
        }
        foreach (var file in manifest.Files)
        {
            var source = Path.Combine(backup, file.File);
            var destination = Path.Combine(dataDirectory, file.File);
            foreach (var stale in new[] { destination + "-wal", destination + "-shm", destination + "-journal" })
                if (File.Exists(stale)) File.Delete(stale);
            var temporary = destination + ".restoring";
            File.Copy(source, temporary, overwrite: true);
            File.Move(temporary, destination, overwrite: true);
            Check(destination);
            restored?.Invoke(file);
        }
        return manifest;
    }

    public static BackupManifest ReadManifest(string backup)
    {
        var path = Path.Combine(backup, ManifestFile);
        if (!File.Exists(path)) throw new InvalidOperationException($"{backup} is not a Kontext backup (it has no {ManifestFile})");
        var manifest = JsonSerializer.Deserialize<BackupManifest>(File.ReadAllText(path), Json)
                       ?? throw new InvalidOperationException($"{path} is empty");
        if (manifest.Format != BackupManifest.CurrentFormat)
            throw new InvalidOperationException($"{path} has format '{manifest.Format}'; this version restores '{BackupManifest.CurrentFormat}'");
        foreach (var file in manifest.Files)
        {
            // The manifest names plain files of the backup directory; nothing else is read or written.
            if (file.File != Path.GetFileName(file.File) || !file.File.EndsWith(".db", StringComparison.Ordinal))
                throw new InvalidOperationException($"{path} names an unexpected file '{file.File}'");
            if (!File.Exists(Path.Combine(backup, file.File))) throw new InvalidOperationException($"The backup lacks {file.File}");
        }
        return manifest;
    }

    /// <summary>Online copy of one database (a consistent snapshot), left as a single self-contained file.</summary>
    private static long CopyDatabase(string source, string destination)
    {
        using (var from = new SqliteConnection(ConnectionString(source, SqliteOpenMode.ReadWrite)))
        using (var to = new SqliteConnection(ConnectionString(destination, SqliteOpenMode.ReadWriteCreate)))
        {
            from.Open();
            to.Open();
            from.BackupDatabase(to);
            SqliteDatabase.Execute(to, "PRAGMA journal_mode=DELETE;"); // one file, no -wal beside it; the broker turns WAL on again
        }
        return new FileInfo(destination).Length;
    }

    private static List<(string Name, string File)> RegisteredTenants(string systemDatabase)
    {
        using var connection = new SqliteConnection(ConnectionString(systemDatabase, SqliteOpenMode.ReadOnly));
        connection.Open();
        using var select = SqliteDatabase.Command(connection, "SELECT name, file FROM tenants ORDER BY name");
        using var reader = select.ExecuteReader();
        var tenants = new List<(string, string)>();
        while (reader.Read()) tenants.Add((reader.GetString(0), reader.GetString(1)));
        return tenants;
    }

    private static void Check(string database)
    {
        using var connection = new SqliteConnection(ConnectionString(database, SqliteOpenMode.ReadOnly));
        connection.Open();
        using var check = SqliteDatabase.Command(connection, "PRAGMA quick_check");
        var result = check.ExecuteScalar() as string;
        if (result != "ok") throw new InvalidOperationException($"{Path.GetFileName(database)} failed SQLite's quick_check after the restore: {result}");
    }

    private static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = false, // the files are released as soon as the copy is done
        DefaultTimeout = 30,
    }.ToString();
}
