using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The one writer connection of a tenant database (D7). Jobs queue up; the loop takes every job waiting,
/// runs each inside its own savepoint of one transaction and commits them as a group: one fsync for many writes,
/// while a failing job rolls back alone.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxGroup = 512;
    private readonly Channel<WriteJob> _queue = Channel.CreateUnbounded<WriteJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly Task _loop;

    private readonly Action? _committed;

    public SqliteWriter(string connectionString, Action? committed = null)
    {
        _committed = committed;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        SqliteDatabase.Execute(_connection, SqliteSchema.Pragmas);
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public Task<T> Enqueue<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        var job = new WriteJob<T>(work);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(SqliteWriter));
        // A caller that gives up does not cancel the write: once queued it commits or fails on its own.
        return cancellationToken.CanBeCanceled ? job.Task.WaitAsync(cancellationToken) : job.Task;
    }

    private async Task RunAsync()
    {
        var group = new List<WriteJob>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var job)) group.Add(job);
            CommitGroup(group);
        }
    }

    private void CommitGroup(List<WriteJob> group)
    {
        var succeeded = new List<WriteJob>(group.Count);
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            SqliteDatabase.UseTransaction(_connection, transaction);
            foreach (var job in group)
            {
                SqliteDatabase.Cached(_connection, "SAVEPOINT job").ExecuteNonQuery();
                try
                {
                    job.Run(_connection);
                    SqliteDatabase.Cached(_connection, "RELEASE job").ExecuteNonQuery();
                    succeeded.Add(job);
                }
                catch (Exception ex)
                {
                    SqliteDatabase.Cached(_connection, "ROLLBACK TO job").ExecuteNonQuery();
                    SqliteDatabase.Cached(_connection, "RELEASE job").ExecuteNonQuery();
                    job.Fail(ex);
                }
            }
            transaction.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of this group is durable: every job not failed on its own fails with the cause, none is left waiting.
            foreach (var job in group) job.Fail(ex);
            return;
        }
        finally
        {
            SqliteDatabase.UseTransaction(_connection, null);
        }
        foreach (var job in succeeded) job.Complete();
        if (succeeded.Count > 0) _committed?.Invoke();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        _connection.Dispose();
    }

    private abstract class WriteJob
    {
        public abstract void Run(SqliteConnection connection);
        public abstract void Complete();
        public abstract void Fail(Exception error);
    }

    private sealed class WriteJob<T>(Func<SqliteConnection, T> work) : WriteJob
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;
        public override void Run(SqliteConnection connection) => _result = work(connection);
        public override void Complete() => _completion.TrySetResult(_result!);
        public override void Fail(Exception error) => _completion.TrySetException(error);
    }
}
