using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// A tenant's open reader connections, kept between requests with their SQL functions registered and their statements
/// prepared (issue 12: opening a connection, registering the functions and preparing statements per request cost more
/// than a GET's own look-up). A connection serves one request at a time; <see cref="Close"/> releases the files.
/// At most <see cref="MaxOpen"/> are open at once (each holds its own page cache and file handles), and across tenants at
/// most the process's budget (<see cref="SqliteReaderBudget"/>): a read that finds none idle opens one below both caps, or
/// takes over the place of another tenant's idle connection, or waits for one to come back, at most the budget's wait
/// (then 503). No caller holds a reader while renting another, so the caps cannot starve a holder.
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
    private readonly SqliteReaderPlaces _places;
    private readonly SqliteReaderBudget _budget;
    private int _generation;

    /// <param name="budget">The process-wide bound this pool shares with the other tenants' (none: a budget of its own, unbounded).</param>
    public SqliteReaders(string connectionString, int maxOpen, SqliteReaderBudget? budget = null)
    {
        _connectionString = connectionString;
        _places = new SqliteReaderPlaces(maxOpen);
        _maxIdle = Math.Min(MaxIdle, MaxOpen);
        _budget = budget ?? SqliteReaderBudget.Unbounded();
        _budget.Register(this);
    }

    public int MaxOpen => _places.Max;

    /// <summary>Reader connections open now, and the most open at once since the store was created (for tests).</summary>
    internal int OpenCount => _places.Taken;
    internal int PeakOpenCount => _places.Peak;

    public async Task<SqliteReader> RentAsync(CancellationToken cancellationToken)
    {
        if (TryTakeIdle(out var idle)) return idle;
        // Slow path: below the caps a connection opens; at one, the renter waits, the tenant's cap first, then the process's.
        var startedAt = Stopwatch.GetTimestamp();
        if (await WaitForPlaceAsync(_places, process: false, startedAt, cancellationToken) is { } tenantIdle) return tenantIdle;
        SqliteReader? processIdle;
        try
        {
            processIdle = await WaitForPlaceAsync(_budget.Places, process: true, startedAt, cancellationToken);
        }
        catch
        {
            _places.Give();
            throw;
        }
        if (processIdle is not null)
        {
            _places.Give(); // one of the tenant's own connections came back: the place taken for a new one is not needed
            return processIdle;
        }
        var generation = Volatile.Read(ref _generation);
        SqliteConnection? connection = null;
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

    /// <summary>An idle connection, with the generation read before it was taken (one rented before a <see cref="Close"/> is not kept).</summary>
    private bool TryTakeIdle([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SqliteReader? reader)
    {
        var generation = Volatile.Read(ref _generation);
        reader = _idle.TryPop(out var connection) ? new SqliteReader(this, connection, generation) : null;
        return reader is not null;
    }

    /// <summary>A place among <paramref name="places"/> (the tenant's, or the process's, where another tenant's idle connection may give up its own).</summary>
    private bool TryTakePlace(SqliteReaderPlaces places, bool process) =>
        places.TryTake() || process && _budget.TryReclaimIdle(this);

    /// <summary>
    /// Takes a place among <paramref name="places"/> (null), or an idle connection that came back meanwhile, waiting at the
    /// cap until the wait begun at <paramref name="startedAt"/> runs out (503). Counted as waiting before looking again, so a
    /// return between the first look and the wait either is seen here or signals (<see cref="SqliteReaderPlaces.Wake"/>).
    /// </summary>
    private async Task<SqliteReader?> WaitForPlaceAsync(SqliteReaderPlaces places, bool process, long startedAt, CancellationToken cancellationToken)
    {
        while (!TryTakePlace(places, process))
        {
            places.Enter();
            try
            {
                if (TryTakeIdle(out var reader)) return reader;
                if (TryTakePlace(places, process)) return null;
                if (!await places.WaitAsync(_budget.Remaining(startedAt), cancellationToken))
                    throw _budget.WaitedTooLong(process ? "of this broker" : "of this tenant");
            }
            finally
            {
                places.Leave();
            }
            if (TryTakeIdle(out var returned)) return returned;
        }
        return null;
    }

    /// <summary>
    /// Closes one idle connection for a renter of another tenant at the process's bound (<see cref="SqliteReaderBudget.TryReclaimIdle"/>):
    /// its place in this pool is free again, its process-wide place passes to that renter.
    /// </summary>
    internal bool TryCloseIdle()
    {
        if (!_idle.TryPop(out var connection)) return false;
        Dispose(connection);
        _places.Give();
        return true;
    }

    /// <summary>A connection was closed (or failed to open): its places are free for waiting renters.</summary>
    private void Closed()
    {
        _places.Give();
        _budget.Places.Give();
    }

    /// <summary>
    /// The functions a reader's SQL may call (<see cref="SqliteQueryCompiler"/>), and plans that do not depend on bound
    /// values: SQLite re-plans a statement with the values bound to a <c>LIMIT $n</c> (and to a LIKE pattern), and marks
    /// it so that binding that parameter again, even to the same value, re-prepares it on its next step; the query pages
    /// bind <c>$limit</c>, <c>$offset</c> and <c>$bound</c> on every run, so two of a page's three statements were compiled
    /// anew per query. With the planner's stability guarantee (QPSG) a statement stays prepared, with the plan made
    /// without values: the one <c>EXPLAIN QUERY PLAN</c> shows, which the plan tests check.
    /// </summary>
    internal static void RegisterFunctions(SqliteConnection connection)
    {
        var failed = SQLitePCL.raw.sqlite3_db_config(connection.Handle, SQLitePCL.raw.SQLITE_DBCONFIG_ENABLE_QPSG, 1, out _);
        if (failed != SQLitePCL.raw.SQLITE_OK) throw new InvalidOperationException($"SQLite refused the query planner's stability guarantee ({failed})");
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
            && _idle.Count < _maxIdle && SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0)
        {
            _idle.Push(connection);
            _places.Wake();
            _budget.Places.Wake(); // a renter at the process's bound may take over its place
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

    /// <summary>The store is gone: its idle connections close and the process's budget forgets the pool.</summary>
    public void Dispose()
    {
        Close();
        _budget.Unregister(this);
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
    private List<SqliteCommand>? _uncached; // made only past the statement limit: most leases run kept statements only
    private bool _snapshot;

    public SqliteConnection Connection => connection;

    /// <summary>
    /// One read transaction for the commands that follow: every statement sees the same snapshot. Begun and ended by
    /// the connection's prepared statements, not as a <see cref="SqliteTransaction"/> (which compiles its BEGIN and its
    /// ROLLBACK anew each time); the commands run outside Microsoft.Data.Sqlite's idea of a transaction, as SQLite allows.
    /// </summary>
    public void BeginSnapshot()
    {
        Command(BeginSql).ExecuteNonQuery();
        _snapshot = true;
    }

    private const string BeginSql = "BEGIN DEFERRED", RollbackSql = "ROLLBACK";

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
        (_uncached ??= []).Add(command);
        return command;
    }

    public SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters) => Command(sql, (IEnumerable<(string, object?)>)parameters);

    public async ValueTask DisposeAsync()
    {
        var ended = false;
        try
        {
            // SQLite may have ended the transaction itself (an error that rolls back): then there is nothing to end.
            if (_snapshot && SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0) await Command(RollbackSql).ExecuteNonQueryAsync();
            if (_uncached is not null)
                foreach (var command in _uncached) await command.DisposeAsync();
            ended = true;
        }
        finally
        {
            // Given back whatever happened: a lease lost here would take one of the pool's places for good.
            pool.Return(connection, generation, reusable: ended);
        }
    }
}
