using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// A tenant's open reader connections, kept between requests with their SQL functions registered and their statements
/// prepared (issue 12: opening a connection, registering the functions and preparing statements per request cost more
/// than a GET's own look-up). A connection serves one request at a time; <see cref="Close"/> releases the files.
/// </summary>
internal sealed class SqliteReaders(string connectionString)
{
    /// <summary>Idle connections kept; more may be open while requests run, and go when they return.</summary>
    private const int MaxIdle = 8;
    /// <summary>Statements kept per connection: queries whose SQL differs per request (id lists) must not grow it without bound.</summary>
    private const int MaxStatements = 64;

    private readonly ConcurrentStack<SqliteConnection> _idle = new();
    private int _generation;

    public async Task<SqliteReader> RentAsync(CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        if (_idle.TryPop(out var connection)) return new SqliteReader(this, connection, generation);
        connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        RegisterFunctions(connection);
        return new SqliteReader(this, connection, generation);
    }

    /// <summary>The functions a reader's SQL may call (<see cref="SqliteQueryCompiler"/>).</summary>
    internal static void RegisterFunctions(SqliteConnection connection)
    {
        connection.CreateFunction<string, string, bool>(SqliteQueryCompiler.RegexFunction,
            (pattern, value) => Kontext.Ngsi.Query.SafeRegex.IsMatch(pattern, value), isDeterministic: true);
        connection.CreateFunction<double, double, double, double, double, double, double>(SqliteQueryCompiler.BoxDistanceFunction,
            SqliteQueryCompiler.BoxDistanceMetres, isDeterministic: true);
    }

    internal void Return(SqliteConnection connection, int generation)
    {
        // A connection left in a transaction (an exception mid-read) or rented before Close is not reused.
        if (generation == Volatile.Read(ref _generation) && connection.State == System.Data.ConnectionState.Open && _idle.Count < MaxIdle
            && SqliteDatabase.State(connection).Transaction is null)
        {
            _idle.Push(connection);
            return;
        }
        Dispose(connection);
    }

    /// <summary>Closes the idle connections now; those in use close when they return.</summary>
    public void Close()
    {
        Interlocked.Increment(ref _generation);
        while (_idle.TryPop(out var connection)) Dispose(connection);
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
        foreach (var command in _uncached) await command.DisposeAsync();
        if (_snapshot is not null)
        {
            SqliteDatabase.UseTransaction(connection, null);
            await _snapshot.DisposeAsync();
        }
        pool.Return(connection, generation);
    }
}
