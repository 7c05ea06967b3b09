using Kontext.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Hosting;

/// <summary>
/// While the broker runs on the embedded store it holds kontext.lock in the data directory, so `kontext restore` can tell
/// that files are in use and refuse (docs/operations.md#backups). A second broker on the same directory is not stopped
/// (it was never supported: neither would see the other's commits) but warned about.
/// </summary>
internal sealed class DataDirectoryLock(IOptions<KontextOptions> options, ILogger<DataDirectoryLock> logger) : IDisposable
{
    private FileStream? _lock;

    public void Acquire()
    {
        var storage = options.Value.Storage;
        if (!storage.Provider.Equals("sqlite", StringComparison.OrdinalIgnoreCase) || _lock is not null) return;
        _lock = SqliteBackup.TryLock(storage.DataDirectory);
        if (_lock is null)
            logger.LogWarning("Another process holds {Lock} in {Directory}: two brokers on one SQLite data directory do not see each other's changes",
                SqliteBackup.LockFile, Path.GetFullPath(storage.DataDirectory));
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
