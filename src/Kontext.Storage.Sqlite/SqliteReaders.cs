using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// A tenant's open reader connections, kept between requests with their SQL functions registered and their statements
/// prepared (issue 12: opening a connection, registering the functions and preparing statements per request cost more
/// than a GET's own look-up). A connection serves one request at a time; <see cref="Close"/> releases the files.
/// At most <see cref="MaxOpen"/> are open at once (each holds its own page cache and file handles): a read that finds
/// none idle opens one below the cap, or waits for one to come back. No caller holds a reader while renting another,
/// so the cap cannot starve a holder.
/// </summary>
internal sealed class SqliteReaders
{
    /// <summary>Idle connections kept (never more than the cap); more may be open while requests run, and go when they return.</summary>
    private const int MaxIdle = 8;
    /// <summary>Statements kept per connection: queries whose SQL differs per request (id lists) must not grow it without bound.</summary>
    private const int MaxStatements = 64;

    private readonly string _connectionString;
    private readonly int _maxIdle;
    private readonly ConcurrentStack<SqliteConnection> _idle = new();
    /// <summary>Released when a connection comes back while renters wait; only renters at the cap ever wait on it.</summary>
    private readonly SemaphoreSlim _returned = new(0);
    private int _generation;
    /// <summary>Connections that exist (idle, rented, or being opened): counted before one opens, so never above the cap.</summary>
    private int _open;
    private int _peakOpen;
    private int _waiting;

    public SqliteReaders(string connectionString, int maxOpen)
    {
        _connectionString = connectionString;
        MaxOpen = Math.Max(1, maxOpen);
        _maxIdle = Math.Min(MaxIdle, MaxOpen);
    }

    public int MaxOpen { get; }

    /// <summary>Reader connections open now, and the most open at once since the store was created (for tests).</summary>
    internal int OpenCount => Volatile.Read(ref _open);
    internal int PeakOpenCount => Volatile.Read(ref _peakOpen);

    public async Task<SqliteReader> RentAsync(CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        if (_idle.TryPop(out var connection)) return new SqliteReader(this, connection, generation);
        while (!TryReserve())
        {
            // At the cap: wait for a connection to come back. Counted as waiting before looking again, so a return
            // between the first look and the wait either is seen here or signals (see WakeWaiter).
            Interlocked.Increment(ref _waiting);
            try
            {
                generation = Volatile.Read(ref _generation);
                if (_idle.TryPop(out connection)) return new SqliteReader(this, connection, generation);
                if (TryReserve()) break;
                await _returned.WaitAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            generation = Volatile.Read(ref _generation);
            if (_idle.TryPop(out connection)) return new SqliteReader(this, connection, generation);
        }
        generation = Volatile.Read(ref _generation);
        try
        {
            connection = new SqliteConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            RegisterFunctions(connection);
            return new SqliteReader(this, connection, generation);
        }
        catch
        {
            connection?.Dispose();
            Closed();
            throw;
        }
    }

    /// <summary>Takes a place for one more connection, if the cap allows.</summary>
    private bool TryReserve()
    {
        var open = Volatile.Read(ref _open);
        while (open < MaxOpen)
        {
            var seen = Interlocked.CompareExchange(ref _open, open + 1, open);
            if (seen == open)
            {
                RaisePeak(open + 1);
                return true;
            }
            open = seen;
        }
        return false;
    }

    private void RaisePeak(int open)
    {
        var peak = Volatile.Read(ref _peakOpen);
        while (open > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakOpen, open, peak);
            if (seen == peak) return;
            peak = seen;
        }
    }

    /// <summary>A connection was closed (or failed to open): its place is free for a waiting renter.</summary>
    private void Closed()
    {
        Interlocked.Decrement(ref _open);
        WakeWaiter();
    }

    /// <summary>
    /// Wakes one waiting renter after a connection came back or closed. Called after the push or decrement (both full
    /// fences), so a renter not counted as waiting yet finds the connection when it looks again. Releases stop once every
    /// waiter has one coming, so releases no waiter took cannot pile up into a spin.
    /// </summary>
    private void WakeWaiter()
    {
        if (Volatile.Read(ref _waiting) > _returned.CurrentCount) _returned.Release();
    }

    /// <summary>The functions a reader's SQL may call (<see cref="SqliteQueryCompiler"/>).</summary>
    internal static void RegisterFunctions(SqliteConnection connection)
    {
        connection.CreateFunction<string, string, bool>(SqliteQueryCompiler.RegexFunction,
            (pattern, value) => Kontext.Ngsi.Query.SafeRegex.IsMatch(pattern, value), isDeterministic: true);
        connection.CreateFunction<double, double, double, double, double, double, double>(SqliteQueryCompiler.BoxDistanceFunction,
            SqliteQueryCompiler.BoxDistanceMetres, isDeterministic: true);
    }

    /// <param name="reusable">False when ending the lease failed: the connection's state is unknown, so it closes.</param>
    internal void Return(SqliteConnection connection, int generation, bool reusable)
    {
        // A connection left in a transaction (an exception mid-read) or rented before Close is not reused.
        if (reusable && generation == Volatile.Read(ref _generation) && connection.State == System.Data.ConnectionState.Open
            && _idle.Count < _maxIdle && SqliteDatabase.State(connection).Transaction is null)
        {
            _idle.Push(connection);
            WakeWaiter();
            return;
        }
        Dispose(connection);
        Closed();
    }

    /// <summary>Closes the idle connections now; those in use close when they return.</summary>
    public void Close()
    {
        Interlocked.Increment(ref _generation);
        while (_idle.TryPop(out var connection))
        {
            Dispose(connection);
            Closed();
        }
    }

    private static void Dispose(SqliteConnection connection)
    {
        foreach (var command in SqliteDatabase.State(connection).Commands.Values) command.Dispose();
        connection.Dispose();
    }

    internal static int StatementLimit => MaxStatements;
}

/// <summary>
/// One rented reader connection. Its commands are prepared once per connection and must not be disposed by callers;
/// disposing the lease ends its snapshot and gives the connection back.
/// </summary>
internal sealed class SqliteReader(SqliteReaders pool, SqliteConnection connection, int generation) : IAsyncDisposable
{
    private readonly List<SqliteCommand> _uncached = [];
    private SqliteTransaction? _snapshot;

    public SqliteConnection Connection => connection;

    /// <summary>One read transaction for the commands that follow: every statement sees the same snapshot.</summary>
    public void BeginSnapshot()
    {
        _snapshot = connection.BeginTransaction(deferred: true);
        SqliteDatabase.UseTransaction(connection, _snapshot);
    }

    /// <summary>
    /// The connection's prepared command for <paramref name="sql"/>, with these parameter values (every call for the same
    /// SQL must name the same parameters). Past the connection's statement limit, a one-off command disposed with the lease.
    /// </summary>
    public SqliteCommand Command(string sql, IEnumerable<(string Name, object? Value)> parameters)
    {
        var state = SqliteDatabase.State(connection);
        if (state.Commands.Count < SqliteReaders.StatementLimit || state.Commands.ContainsKey(sql))
            return SqliteDatabase.Cached(connection, sql, parameters as (string, object?)[] ?? parameters.ToArray());
        var command = SqliteDatabase.Command(connection, sql, parameters as (string, object?)[] ?? parameters.ToArray());
        command.Transaction = _snapshot;
        _uncached.Add(command);
        return command;
    }

    public SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters) => Command(sql, (IEnumerable<(string, object?)>)parameters);

    public async ValueTask DisposeAsync()
    {
        var ended = false;
        try
        {
            foreach (var command in _uncached) await command.DisposeAsync();
            if (_snapshot is not null)
            {
                SqliteDatabase.UseTransaction(connection, null);
                await _snapshot.DisposeAsync();
            }
            ended = true;
        }
        finally
        {
            // Given back whatever happened: a lease lost here would take one of the pool's places for good.
            pool.Return(connection, generation, reusable: ended);
        }
    }
}
