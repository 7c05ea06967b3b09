using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// When a tenant's WAL is checkpointed (its frames copied into the database file and the file synced).
/// <para>
/// <paramref name="Threshold"/>: past it the background checkpointer is asked to run. 10,000 pages (~40 MB; SQLite's
/// default is 1,000): a checkpoint copies each page once however often the WAL holds it, so the hot pages (value
/// indexes, the tails of append-only tables) are copied once per 10,000 frames, and the file is synced rarely.
/// </para>
/// <para>
/// <paramref name="HardLimit"/>: past it the writer checkpoints in its own commit path, as SQLite's automatic
/// checkpoint did: a reader holding an old snapshot keeps a passive checkpoint from finishing, and the WAL must not grow
/// without bound meanwhile (nor when the background checkpointer falls behind).
/// </para>
/// <para>
/// <paramref name="Tail"/>: the frames a background run may leave behind for the writer to copy itself. Under sustained
/// writes the WAL keeps growing while a run copies it, and SQLite starts a WAL over only when a write begins with every
/// frame copied; so after a run the writer copies the few frames committed meanwhile (and syncs the file) in its own
/// path, and the WAL starts over instead of growing to the hard limit. Past it, another background run is asked instead.
/// </para>
/// </summary>
internal sealed record SqliteWalLimits(int Threshold = 10_000, int HardLimit = 40_000, int Tail = 1_250)
{
    public static readonly SqliteWalLimits Default = new();
}

/// <summary>
/// Checkpoints a tenant's WAL beside its writer instead of inside the commit of whichever write crosses the threshold
/// (SQLite's automatic checkpoint): the copy of up to <see cref="SqliteWalLimits.Threshold"/> pages and the database
/// file's fsync no longer hold up the one writer thread. The writer asks (<see cref="Request"/>) after a commit that
/// leaves the WAL past the threshold; a request while one is pending is one request.
/// <para>
/// Durability is unchanged: with synchronous=FULL every commit is durable once the WAL is synced at that commit; a
/// checkpoint only copies committed frames into the database file (syncing it before the WAL may be reused), so when or
/// on which connection it runs decides how large the WAL gets, never whether a committed transaction survives.
/// </para>
/// <para>
/// Each run opens its own short-lived connection (SQLite connections are not shared between threads, and an idle tenant
/// must hold no file open) and runs a PASSIVE checkpoint: it never waits for readers or the writer, it copies what no
/// reader still needs. A failure is traced and counted, and the next request tries again.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    // The latest request wins: it carries the WAL generation the writer saw (see Request).
    private readonly Channel<long> _requests = Channel.CreateBounded<long>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly Lock _lastRunLock = new();
    private (long Generation, long Backfilled)? _lastRun;
    private readonly string _connectionString;
    private readonly Task _loop;
    private volatile bool _stopping;
    private long _runs;
    private long _failures;
    private long _framesCheckpointed;

    public SqliteCheckpointer(string connectionString)
    {
        _connectionString = connectionString;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Checkpoints run (whatever they managed to copy).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Checkpoints that failed (traced, then the next request tries again).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>WAL frames the runs found copied to the database file, summed over runs.</summary>
    public long FramesCheckpointed => Interlocked.Read(ref _framesCheckpointed);

    /// <summary>
    /// Asks for a checkpoint; returns at once (the writer calls it after its commits). <paramref name="generation"/>
    /// counts the times the writer saw the WAL start over: a run's result is only of use to the writer in the same one.
    /// </summary>
    public void Request(long generation = 0) => _requests.Writer.TryWrite(generation);

    /// <summary>
    /// The frames the last run, asked in WAL <paramref name="generation"/>, left copied to the database file, once (later
    /// calls see nothing until the next run); null when no run finished since, or it was asked in another generation.
    /// </summary>
    public long? TakeLastRun(long generation)
    {
        lock (_lastRunLock)
        {
            var last = _lastRun;
            _lastRun = null;
            return last is { } run && run.Generation == generation ? run.Backfilled : null;
        }
    }

    private async Task RunAsync()
    {
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var generation = 0L;
            while (_requests.Reader.TryRead(out var asked)) generation = asked;
            if (_stopping) continue;
            try
            {
                using var connection = new SqliteConnection(_connectionString);
                connection.Open();
                var (_, _, checkpointed) = Checkpoint(connection);
                Interlocked.Add(ref _framesCheckpointed, Math.Max(0, checkpointed));
                Interlocked.Increment(ref _runs);
                lock (_lastRunLock) _lastRun = (generation, checkpointed);
            }
            catch (Exception ex)
            {
                // Never out of the loop: the WAL stays bounded by the writer's own fallback meanwhile.
                Interlocked.Increment(ref _failures);
                Trace.TraceWarning($"Kontext: background WAL checkpoint of {_connectionString} failed: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// A PASSIVE checkpoint on <paramref name="connection"/>: whether it was blocked, the frames in the WAL, the frames
    /// copied to the database file (SQLite's <c>PRAGMA wal_checkpoint</c> row).
    /// </summary>
    public static (long Busy, long Frames, long Checkpointed) Checkpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var row = command.ExecuteReader();
        row.Read();
        return (row.GetInt64(0), row.GetInt64(1), row.GetInt64(2));
    }

    /// <summary>Stops after the run in progress; a pending request is dropped (the writer's close checkpoints, as before).</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}

/// <summary>
/// The WAL's size after each commit of the writer connection, from SQLite's WAL hook (sqlite3_wal_hook, which
/// SQLitePCLRaw does not wrap: called here in the e_sqlite3 library Microsoft.Data.Sqlite loads). Installing the hook
/// replaces SQLite's automatic checkpoint, which is itself a WAL hook.
/// </summary>
internal static class SqliteWalHook
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int WalHook(IntPtr argument, IntPtr db, IntPtr schema, int pages);

    private static readonly WalHook Hook = OnCommit; // kept alive for the process: native code holds its pointer
    private static readonly IntPtr HookPointer = Marshal.GetFunctionPointerForDelegate(Hook);

    // The hook runs inside the COMMIT statement, on the thread that steps it: the writer reads the count right after
    // its commit on the same thread, so a thread-static field carries it without a handle per connection.
    [ThreadStatic] private static int _pages;

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr sqlite3_wal_hook(IntPtr db, IntPtr callback, IntPtr argument);

    private static int OnCommit(IntPtr argument, IntPtr db, IntPtr schema, int pages)
    {
        _pages = pages;
        return 0; // SQLITE_OK
    }

    /// <summary>
    /// Turns the automatic checkpoint of <paramref name="connection"/> off and reports the WAL's size after its commits
    /// instead; false (automatic checkpoint left on at <paramref name="fallbackThreshold"/>) where the hook is not available.
    /// </summary>
    public static bool TryInstall(SqliteConnection connection, int fallbackThreshold)
    {
        // In this order: setting wal_autocheckpoint installs SQLite's own hook in place of any other.
        SqliteDatabase.Execute(connection, "PRAGMA wal_autocheckpoint=0");
        try
        {
            sqlite3_wal_hook(connection.Handle!.DangerousGetHandle(), HookPointer, IntPtr.Zero);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            SqliteDatabase.Execute(connection, $"PRAGMA wal_autocheckpoint={fallbackThreshold}");
            return false;
        }
    }

    /// <summary>Frames in the WAL after the last commit on this thread (0 before any).</summary>
    public static int PagesAfterCommit => _pages;

    /// <summary>Forgets the last count before a commit, so a commit that wrote nothing is not read as the previous one's.</summary>
    public static void Reset() => _pages = 0;
}
