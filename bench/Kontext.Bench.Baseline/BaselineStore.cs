using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kontext.Bench.Baseline;

/// <summary>
/// One SQLite file in WAL mode with synchronous=FULL. Writes queue to one writer connection that commits every job
/// waiting in one transaction (group commit: one fsync for many writes); reads use pooled connections, each with its
/// statements prepared once.
/// </summary>
internal sealed class BaselineStore : IDisposable
{
    private readonly string _connectionString;
    private readonly Channel<(Func<SqliteConnection, SqliteTransaction, bool> Work, TaskCompletionSource<bool> Done)> _writes =
        Channel.CreateUnbounded<(Func<SqliteConnection, SqliteTransaction, bool>, TaskCompletionSource<bool>)>();
    private readonly ConcurrentBag<Reader> _readers = [];
    private readonly Task _writer;

    public BaselineStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        using var setup = Open();
        Execute(setup, """
            CREATE TABLE IF NOT EXISTS entities(id TEXT PRIMARY KEY, type TEXT NOT NULL, doc TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_entities_type ON entities(type);
            """);
        _writer = Task.Factory.StartNew(WriteLoop, TaskCreationOptions.LongRunning);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public Task InsertAsync(IReadOnlyList<(string Id, string Type, string Doc)> rows) => Enqueue((connection, transaction) =>
    {
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR REPLACE INTO entities(id, type, doc) VALUES($id, $type, $doc)";
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var type = insert.Parameters.Add("$type", SqliteType.Text);
        var doc = insert.Parameters.Add("$doc", SqliteType.Text);
        foreach (var row in rows)
        {
            (id.Value, type.Value, doc.Value) = (row.Id, row.Type, row.Doc);
            insert.ExecuteNonQuery();
        }
        return true;
    });

    private SqliteCommand? _update;

    public Task<bool> PatchAsync(string id, string patch) => Enqueue((connection, transaction) =>
    {
        if (_update is null)
        {
            _update = connection.CreateCommand();
            _update.CommandText = "UPDATE entities SET doc = json_patch(doc, $patch) WHERE id = $id";
            _update.Parameters.Add("$id", SqliteType.Text);
            _update.Parameters.Add("$patch", SqliteType.Text);
            _update.Prepare();
        }
        _update.Transaction = transaction;
        _update.Parameters["$id"].Value = id;
        _update.Parameters["$patch"].Value = patch;
        return _update.ExecuteNonQuery() == 1;
    });

    private Task<bool> Enqueue(Func<SqliteConnection, SqliteTransaction, bool> work)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _writes.Writer.TryWrite((work, done));
        return done.Task;
    }

    private async Task WriteLoop()
    {
        using var connection = Open();
        var group = new List<(TaskCompletionSource<bool> Done, bool Result)>();
        while (await _writes.Reader.WaitToReadAsync())
        {
            group.Clear();
            using (var transaction = connection.BeginTransaction())
            {
                while (group.Count < 512 && _writes.Reader.TryRead(out var job))
                {
                    try { group.Add((job.Done, job.Work(connection, transaction))); }
                    catch (SqliteException ex) { job.Done.TrySetException(ex); } // a bad job fails alone (no savepoints: the bench sends none)
                }
                transaction.Commit();
            }
            foreach (var job in group) job.Done.TrySetResult(job.Result);
        }
        _update?.Dispose();
    }

    public string? Get(string id)
    {
        var reader = Rent();
        try
        {
            reader.Get.Parameters["$id"].Value = id;
            return reader.Get.ExecuteScalar() as string;
        }
        finally { _readers.Add(reader); }
    }

    public List<string> Query(string type, string attr, double greaterThan, int limit)
    {
        var reader = Rent();
        try
        {
            var query = reader.Query;
            query.Parameters["$type"].Value = type;
            query.Parameters["$path"].Value = "$." + attr + ".value";
            query.Parameters["$gt"].Value = greaterThan;
            query.Parameters["$limit"].Value = limit;
            using var rows = query.ExecuteReader();
            var docs = new List<string>(limit);
            while (rows.Read()) docs.Add(rows.GetString(0));
            return docs;
        }
        finally { _readers.Add(reader); }
    }

    private Reader Rent() => _readers.TryTake(out var reader) ? reader : new Reader(Open());

    private sealed class Reader(SqliteConnection connection)
    {
        public SqliteCommand Get { get; } = Prepare(connection, "SELECT doc FROM entities WHERE id = $id", "$id");
        public SqliteCommand Query { get; } = Prepare(connection,
            "SELECT doc FROM entities WHERE type = $type AND json_extract(doc, $path) > $gt ORDER BY rowid LIMIT $limit", "$type", "$path", "$gt", "$limit");

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.AddWithValue(name, DBNull.Value);
            command.Prepare();
            return command;
        }
    }

    public void Dispose() => _writes.Writer.TryComplete();
}
