using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

internal static class SqliteDatabase
{
    public static string ConnectionString(string path, bool pooled = true) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = pooled,
        DefaultTimeout = 30,
    }.ToString();

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>What the writer keeps for the life of its connection: prepared statements and facts it need not ask again.</summary>
    internal sealed class ConnectionState
    {
        public Dictionary<string, SqliteCommand> Commands { get; } = new(StringComparer.Ordinal);
        public SqliteTransaction? Transaction { get; set; }

        /// <summary>Whether the tenant has a subscription; null: not known (ask the database).</summary>
        public bool? HasSubscriptions { get; set; }

        /// <summary>Name ids read or added on this connection (<see cref="SqliteNameSchema"/>); forgotten on any rollback.</summary>
        public Dictionary<string, long> NameIds { get; } = new(StringComparer.Ordinal);

        /// <summary>Type statistics changes of the running job, and of the group's released jobs (written once, at commit).</summary>
        public Dictionary<(string Type, string Attr, string Kind), int> JobStatistics { get; } = [];
        public Dictionary<(string Type, string Attr, string Kind), int> GroupStatistics { get; } = [];

        /// <summary>The rows the group's entity writes staged, written set-based before the group commits.</summary>
        public SqliteGroupRows GroupRows { get; } = new();

        /// <summary>The positional statements of <see cref="SqliteGroupRows"/>, finalized with the connection (<see cref="Release"/>).</summary>
        public Dictionary<string, SQLitePCL.sqlite3_stmt> RowStatements { get; } = new(StringComparer.Ordinal);

        /// <summary>The multi-row statements among <see cref="RowStatements"/>, by their text's format, row width and row count.</summary>
        public Dictionary<(string Format, int Width, int Rows), SQLitePCL.sqlite3_stmt> MultiRowStatements { get; } = [];

        /// <summary>The running job's savepoint was released: what it deferred joins the group's.</summary>
        public void JobReleased()
        {
            GroupRows.JobReleased();
            foreach (var (key, delta) in JobStatistics) CollectionsMarshal.GetValueRefOrAddDefault(GroupStatistics, key, out _) += delta;
            JobStatistics.Clear();
        }

        /// <summary>The running job was rolled back: what it deferred is dropped, and names it may have added are unknown again.</summary>
        public void JobRolledBack()
        {
            GroupRows.JobRolledBack();
            JobStatistics.Clear();
            NameIds.Clear();
        }
    }

    /// <summary>
    /// Finalizes the statements kept outside Microsoft.Data.Sqlite for <paramref name="connection"/>, before it closes:
    /// a statement left open would keep the file open after the close.
    /// </summary>
    public static void Release(SqliteConnection connection)
    {
        if (!Prepared.TryGetValue(connection, out var state)) return;
        foreach (var statement in state.RowStatements.Values) statement.Dispose();
        state.RowStatements.Clear();
        state.MultiRowStatements.Clear();
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, ConnectionState> Prepared = new();

    /// <summary>The state kept with <paramref name="connection"/>; gone with it (a reopened writer starts afresh).</summary>
    public static ConnectionState State(SqliteConnection connection) => Prepared.GetOrCreateValue(connection);

    /// <summary>Tells the cached commands of <paramref name="connection"/> which transaction they now run in.</summary>
    public static void UseTransaction(SqliteConnection connection, SqliteTransaction? transaction) =>
        Prepared.GetOrCreateValue(connection).Transaction = transaction;

    /// <summary>
    /// A prepared command kept for the life of the (writer) connection, with the given parameter values set. Statements
    /// are compiled once instead of per write; callers must not dispose it, nor use it from two threads (the writer is one).
    /// </summary>
    public static SqliteCommand Cached(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var prepared = Prepared.GetOrCreateValue(connection);
        if (!prepared.Commands.TryGetValue(sql, out var command))
        {
            command = Command(connection, sql, parameters);
            command.Transaction = prepared.Transaction;
            command.Prepare();
            prepared.Commands[sql] = command;
            return command;
        }
        command.Transaction = prepared.Transaction;
        foreach (var (name, value) in parameters) command.Parameters[name].Value = value ?? DBNull.Value;
        return command;
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
