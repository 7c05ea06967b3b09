using System.Diagnostics;
using Kontext.Ngsi.Errors;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// A capped count of reader connections and the renters waiting at its cap: one per tenant pool (<see cref="SqliteReaders"/>),
/// one for the process (<see cref="SqliteReaderBudget"/>). A place is taken by compare-and-swap before a connection opens and
/// given back when it closes; only renters at the cap wait, on a semaphore released as places or connections come back.
/// </summary>
internal sealed class SqliteReaderPlaces(int max)
{
    /// <summary>Released when a place or a connection comes back while renters wait; only renters at the cap ever wait on it.</summary>
    private readonly SemaphoreSlim _returned = new(0);
    /// <summary>Places taken (connections idle, rented or being opened): counted before one opens, so never above the cap.</summary>
    private int _taken;
    private int _peak;
    private int _waiting;

    public int Max { get; } = Math.Max(1, max);
    public int Taken => Volatile.Read(ref _taken);
    public int Peak => Volatile.Read(ref _peak);

    /// <summary>Renters counted as waiting at this cap now (for tests: a renter is counted before it waits).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Takes a place, if the cap allows.</summary>
    public bool TryTake()
    {
        var taken = Volatile.Read(ref _taken);
        while (taken < Max)
        {
            var seen = Interlocked.CompareExchange(ref _taken, taken + 1, taken);
            if (seen == taken)
            {
                RaisePeak(taken + 1);
                return true;
            }
            taken = seen;
        }
        return false;
    }

    private void RaisePeak(int taken)
    {
        var peak = Volatile.Read(ref _peak);
        while (taken > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peak, taken, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    /// <summary>A place is free again (its connection closed, failed to open, or was never opened): a waiting renter may take it.</summary>
    public void Give()
    {
        Interlocked.Decrement(ref _taken);
        Wake();
    }

    /// <summary>
    /// Wakes one waiting renter after a place or a connection came back. Called after the decrement or the push (both full
    /// fences), so a renter not counted as waiting yet finds it when it looks again (<see cref="Enter"/>). Releases stop once
    /// every waiter has one coming, so releases no waiter took cannot pile up into a spin. Without waiters: one read.
    /// </summary>
    public void Wake()
    {
        var waiting = Volatile.Read(ref _waiting);
        if (waiting > 0 && waiting > _returned.CurrentCount) _returned.Release();
    }

    /// <summary>Counts the caller as waiting: it must look for a place or a connection once more before <see cref="WaitAsync"/>.</summary>
    public void Enter() => Interlocked.Increment(ref _waiting);

    public void Leave() => Interlocked.Decrement(ref _waiting);

    /// <summary>False when <paramref name="timeout"/> passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _returned.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// The process-wide bound on reader connections, across every tenant's pool (issue 12): each open reader holds its own page
/// cache (up to 2 MiB, 8 MiB while counting) and file handles, so the per-tenant cap alone bounds memory only by open tenants
/// × cap. A pool takes a place here before it opens a connection and gives it back when one closes; renting an idle
/// connection or giving one back touches nothing here but one read (whether anyone waits). At the bound, a renter closes an
/// idle connection of another tenant and takes over its place (idle connections of quiet tenants never starve a busy one), or
/// waits for one, at most <see cref="Wait"/> in all (then 503, <see cref="WaitedTooLong"/>).
/// </summary>
internal sealed class SqliteReaderBudget(int maxOpen, TimeSpan wait)
{
    private readonly Lock _registering = new();
    /// <summary>The pools whose idle connections may be reclaimed; replaced whole (read without a lock).</summary>
    private SqliteReaders[] _pools = [];
    private int _nextVictim;

    /// <summary>For a pool of its own (tests, stores opened outside <see cref="SqliteStorage"/>): no process bound, no time limit.</summary>
    public static SqliteReaderBudget Unbounded() => new(int.MaxValue, Timeout.InfiniteTimeSpan);

    public SqliteReaderPlaces Places { get; } = new(maxOpen);

    /// <summary>How long a read waits at a cap (its tenant's or the process's) in all; <see cref="Timeout.InfiniteTimeSpan"/>: no limit.</summary>
    public TimeSpan Wait { get; } = wait;

    /// <summary>How long a client should wait before it tries a refused read again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    internal void Register(SqliteReaders pool)
    {
        lock (_registering) _pools = [.. _pools, pool];
    }

    internal void Unregister(SqliteReaders pool)
    {
        lock (_registering) _pools = _pools.Where(p => p != pool).ToArray();
    }

    /// <summary>
    /// Closes one idle connection of a pool other than <paramref name="requester"/>, whose process-wide place passes to the
    /// caller; false when no other pool has one. The pools are tried from a rotating start, so reclaims spread over tenants.
    /// </summary>
    internal bool TryReclaimIdle(SqliteReaders requester)
    {
        var pools = Volatile.Read(ref _pools);
        if (pools.Length == 0) return false;
        var start = (uint)Interlocked.Increment(ref _nextVictim);
        for (var i = 0; i < pools.Length; i++)
        {
            var pool = pools[(start + (uint)i) % (uint)pools.Length];
            if (pool != requester && pool.TryCloseIdle()) return true;
        }
        return false;
    }

    /// <summary>The time left of a wait begun at <paramref name="startedAt"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal TimeSpan Remaining(long startedAt)
    {
        if (Wait == Timeout.InfiniteTimeSpan) return Timeout.InfiniteTimeSpan;
        var left = Wait - Stopwatch.GetElapsedTime(startedAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>A read that found no reader connection within <see cref="Wait"/>: 503 with Retry-After, never a 500 or a hang.</summary>
    internal NgsiException WaitedTooLong(string cap) => new(NgsiError.ServiceUnavailable(
        $"Every reader connection {cap} stayed busy for {Wait.TotalSeconds:0.###} s; retry later", RetryAfter));
}
