using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Keeps the number of tenant databases holding files open bounded (each open tenant costs about five file
/// descriptors: the writer's database and WAL files, the shared-memory file, pooled readers). A tenant opens on use;
/// when more than <see cref="Max"/> are open, the least recently used ones are closed, and a sweep closes any left
/// idle for <see cref="IdleAfter"/>. Closing is safe at any time: a store reopens its files on the next use.
/// </summary>
internal sealed class SqliteOpenTenants : IDisposable
{
    private readonly object _lock = new();
    private readonly HashSet<SqliteTenantStore> _open = [];
    private readonly Timer _sweep;

    public SqliteOpenTenants(int max, TimeSpan idleAfter)
    {
        Max = Math.Max(1, max);
        IdleAfter = idleAfter;
        var period = idleAfter > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Max(idleAfter.Ticks / 2, TimeSpan.FromSeconds(1).Ticks)) : Timeout.InfiniteTimeSpan;
        _sweep = new Timer(_ => CloseIdle(), null, period, period);
    }

    public int Max { get; }
    public TimeSpan IdleAfter { get; }

    public int OpenCount
    {
        get { lock (_lock) return _open.Count; }
    }

    /// <summary>A store is about to use its files: counts it as open and closes the least recently used others beyond the bound.</summary>
    public void Using(SqliteTenantStore store)
    {
        // Every read and write comes here: a store counted already passes without the lock (issue 12). Its flag changes only
        // under the lock, with the set; an eviction just after this look closes files the caller then reopens, as it could
        // just after the lock too, and the store's next use counts it again.
        if (store.CountedOpen) return;
        List<SqliteTenantStore>? evict = null;
        lock (_lock)
        {
            if (!_open.Add(store)) return;
            store.CountedOpen = true;
            if (_open.Count <= Max) return;
            evict = _open.Where(s => s != store).OrderBy(s => s.LastUsed).Take(_open.Count - Max).ToList();
            foreach (var s in evict) Forget(s);
        }
        foreach (var s in evict) s.CloseFiles();
    }

    private void Forget(SqliteTenantStore store)
    {
        _open.Remove(store);
        store.CountedOpen = false;
    }

    private void CloseIdle()
    {
        if (IdleAfter <= TimeSpan.Zero) return;
        var before = Environment.TickCount64 - (long)IdleAfter.TotalMilliseconds;
        List<SqliteTenantStore> idle;
        lock (_lock)
        {
            idle = _open.Where(s => s.LastUsed < before).ToList();
            foreach (var s in idle) Forget(s);
        }
        foreach (var s in idle) s.CloseFiles();
    }

    public void Dispose() => _sweep.Dispose();
}

/// <summary>
/// Bounds the memory of the writers' page caches across tenants: a writer connection opens with its full cache
/// (<see cref="SqliteSchema.WriterPragmas"/>, 16 MiB) while fewer than <see cref="Large"/> other writers hold one, and with
/// SQLite's default 2 MiB beyond that. Without it only <see cref="SqliteOpenTenants.Max"/> bounded them (64 × 16 MiB). A place
/// is held from the connection's open to its close, both on the writer's loop, so at most <see cref="Large"/> are ever held.
/// A writer keeps the size it opened with until it closes (an idle tenant's after <see cref="SqliteOpenTenants.IdleAfter"/>).
/// </summary>
internal sealed class SqliteWriterCaches(int large)
{
    private readonly Lock _lock = new();
    private readonly HashSet<SqliteWriter> _holding = [];

    /// <summary>For a writer of its own (tests, stores opened outside <see cref="SqliteStorage"/>): every writer keeps its full cache.</summary>
    public static SqliteWriterCaches Unbounded() => new(int.MaxValue);

    public int Large { get; } = Math.Max(1, large);

    /// <summary>Writers holding a full cache now.</summary>
    public int Holding
    {
        get { lock (_lock) return _holding.Count; }
    }

    /// <summary>The writer's connection has just opened with the full cache: it keeps it if a place is free, else shrinks it.</summary>
    public void Opened(SqliteWriter writer, SqliteConnection connection)
    {
        lock (_lock)
        {
            if (_holding.Count < Large) { _holding.Add(writer); return; }
        }
        SqliteDatabase.Execute(connection, SqliteTenantStore.DefaultCacheSql);
    }

    public void Closed(SqliteWriter writer)
    {
        lock (_lock) _holding.Remove(writer);
    }
}
