using System.Threading.Channels;
using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The one writer connection of a tenant database (D7). Jobs queue up; the loop takes every job waiting,
/// runs each inside its own savepoint of one transaction and commits them as a group: one fsync for many writes,
/// while a failing job rolls back alone. Entity writes stage their rows instead of writing them
/// (<see cref="SqliteGroupRows"/>); the loop writes the staged rows set-based before the group commits, and before any
/// job that may read them. The connection is opened on the first job and closed again on request
/// (<see cref="RequestClose"/>), between groups, so an idle tenant holds no file open.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxGroup = 512;
    private readonly Channel<WriteJob> _queue = Channel.CreateUnbounded<WriteJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _connectionString;
    private readonly Action? _opening;
    private readonly Task _loop;
    private readonly Action? _committed;
    private readonly SqliteWriterCaches _caches;
    private SqliteConnection? _connection;

    /// <param name="opening">Called on the loop before the connection is (re)opened: the store counts its open files.</param>
    /// <param name="caches">The bound on the writers' page caches across tenants (none: this writer always keeps its full cache).</param>
    public SqliteWriter(string connectionString, Action? committed = null, Action? opening = null, SqliteWriterCaches? caches = null)
    {
        _connectionString = connectionString;
        _committed = committed;
        _opening = opening;
        _caches = caches ?? SqliteWriterCaches.Unbounded();
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <param name="stagingFor">
    /// The entity id of a job that stages its rows in <see cref="SqliteGroupRows"/> (an entity write); null for any other
    /// job, which may read anything and therefore runs after the staged rows are written.
    /// </param>
    public Task<T> Enqueue<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken, string? stagingFor = null)
    {
        var job = new WriteJob<T>(work, stagingFor);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(SqliteWriter));
        // A caller that gives up does not cancel the write: once queued it commits or fails on its own.
        return cancellationToken.CanBeCanceled ? job.Task.WaitAsync(cancellationToken) : job.Task;
    }

    /// <summary>
    /// Several entity writes as one job (a batch's chunk): each runs as a job of its own would (the staged rows written
    /// before it when it names a staged entity, its own savepoint, a failure rolls back that write alone), in list order,
    /// but with one queue entry and one task for all. The task completes after the group commits, with each write's
    /// result or error; when the group fails, every write not failed on its own fails with its cause.
    /// </summary>
    public Task<WriteOutcome<T>[]> EnqueueMany<T>(IReadOnlyList<(string EntityId, Func<SqliteConnection, T> Work)> writes, CancellationToken cancellationToken)
    {
        var job = new ManyJob<T>(writes);
        if (!_queue.Writer.TryWrite(job)) throw new ObjectDisposedException(nameof(SqliteWriter));
        return cancellationToken.CanBeCanceled ? job.Task.WaitAsync(cancellationToken) : job.Task;
    }

    /// <summary>Closes the connection once the jobs queued before this call are done; the next job opens it again.</summary>
    public void RequestClose() => _queue.Writer.TryWrite(CloseJob.Instance);

    private async Task RunAsync()
    {
        var group = new List<WriteJob>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            group.Clear();
            var close = false;
            var steps = 0;
            while (steps < MaxGroup && _queue.Reader.TryRead(out var job))
            {
                if (job is CloseJob) { close = true; break; }
                group.Add(job);
                steps += job.Steps;
            }
            try
            {
                if (group.Count > 0) CommitGroup(group);
                if (close) Close();
            }
            catch (Exception ex)
            {
                // Not a job's own failure (those are answered inside CommitGroup): nobody is left waiting and the loop goes on.
                foreach (var job in group) job.Fail(ex);
            }
        }
        Close();
    }

    private SqliteConnection Connection()
    {
        if (_connection is not null) return _connection;
        _opening?.Invoke();
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        SqliteDatabase.Execute(connection, SqliteSchema.Pragmas);
        SqliteDatabase.Execute(connection, SqliteSchema.WriterPragmas);
        _caches.Opened(this, connection);
        return _connection = connection;
    }

    private void Close()
    {
        // The prepared statements cached for this connection go with it (they are keyed by the connection object).
        if (_connection is null) return;
        SqliteDatabase.Release(_connection);
        _connection.Dispose();
        _connection = null;
        _caches.Closed(this);
    }

    private void CommitGroup(List<WriteJob> group)
    {
        var succeeded = new List<WriteJob>(group.Count);
        SqliteConnection connection;
        try
        {
            connection = Connection();
        }
        catch (Exception ex)
        {
            foreach (var job in group) job.Fail(ex);
            return;
        }
        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            SqliteDatabase.UseTransaction(connection, transaction);
            var state = SqliteDatabase.State(connection);
            foreach (var job in group)
            {
                var anyReleased = false;
                for (var step = 0; step < job.Steps; step++)
                {
                    // Outside any job's savepoint: a job rolled back must not take the staged rows of released ones with it.
                    if (job.StagingFor(step) is not { } id || state.GroupRows.HasEntity(id)) state.GroupRows.Write(connection);
                    SqliteGroupRows.Run(connection, "SAVEPOINT job");
                    try
                    {
                        job.Run(step, connection);
                        SqliteGroupRows.Run(connection, "RELEASE job");
                        state.JobReleased();
                        anyReleased = true;
                    }
                    catch (Exception ex)
                    {
                        SqliteGroupRows.Run(connection, "ROLLBACK TO job");
                        SqliteGroupRows.Run(connection, "RELEASE job");
                        state.JobRolledBack();
                        job.Fail(step, ex);
                    }
                }
                if (anyReleased || job.Many) succeeded.Add(job); // a job of several steps answers for all of them at once
            }
            state.GroupRows.Write(connection);
            SqliteIndexRows.WriteStatistics(connection);
            transaction.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of this group is durable: every job not failed on its own fails with the cause, none is left waiting.
            foreach (var job in group) job.Fail(ex);
            Close(); // a connection in an unknown state is not reused
            return;
        }
        finally
        {
            if (_connection is not null) SqliteDatabase.UseTransaction(_connection, null);
        }
        // Signalled before any writer is answered: whoever reads after an answer must find the commit counted
        // (derived results such as collection extents are reused until the next signal).
        try
        {
            if (succeeded.Count > 0) _committed?.Invoke();
        }
        finally
        {
            foreach (var job in succeeded) job.Complete(); // committed: answered even if a listener throws
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    /// <summary>A queue entry: one write (a step) or several, each run in its own savepoint.</summary>
    private abstract class WriteJob
    {
        public virtual int Steps => 1;
        public virtual bool Many => false;
        /// <summary>The entity id of a step that stages its rows; null for a step that may read anything.</summary>
        public virtual string? StagingFor(int step) => null;
        public abstract void Run(int step, SqliteConnection connection);
        /// <summary>The step failed and was rolled back alone.</summary>
        public abstract void Fail(int step, Exception error);
        /// <summary>The group committed: the steps not failed on their own succeeded.</summary>
        public abstract void Complete();
        /// <summary>The group failed: every step not failed on its own fails with <paramref name="error"/>.</summary>
        public abstract void Fail(Exception error);
    }

    private sealed class CloseJob : WriteJob
    {
        public static readonly CloseJob Instance = new();
        public override void Run(int step, SqliteConnection connection) { }
        public override void Fail(int step, Exception error) { }
        public override void Complete() { }
        public override void Fail(Exception error) { }
    }

    private sealed class WriteJob<T>(Func<SqliteConnection, T> work, string? stagingFor) : WriteJob
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public override string? StagingFor(int step) => stagingFor;
        public Task<T> Task => _completion.Task;
        public override void Run(int step, SqliteConnection connection) => _result = work(connection);
        public override void Fail(int step, Exception error) => _completion.TrySetException(error);
        public override void Complete() => _completion.TrySetResult(_result!);
        public override void Fail(Exception error) => _completion.TrySetException(error);
    }

    private sealed class ManyJob<T>(IReadOnlyList<(string EntityId, Func<SqliteConnection, T> Work)> writes) : WriteJob
    {
        private readonly TaskCompletionSource<WriteOutcome<T>[]> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly WriteOutcome<T>[] _outcomes = new WriteOutcome<T>[writes.Count];

        public Task<WriteOutcome<T>[]> Task => _completion.Task;
        public override int Steps => writes.Count;
        public override bool Many => true;
        public override string? StagingFor(int step) => writes[step].EntityId;
        public override void Run(int step, SqliteConnection connection) => _outcomes[step] = WriteOutcome<T>.Done(writes[step].Work(connection));
        public override void Fail(int step, Exception error) => _outcomes[step] = WriteOutcome<T>.Failed(error);
        public override void Complete() => _completion.TrySetResult(_outcomes);

        public override void Fail(Exception error)
        {
            if (_completion.Task.IsCompleted) return;
            for (var i = 0; i < _outcomes.Length; i++)
                if (_outcomes[i].Error is null) _outcomes[i] = WriteOutcome<T>.Failed(error);
            _completion.TrySetResult(_outcomes);
        }
    }
}
