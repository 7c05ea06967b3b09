using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The tenant's reader pool opens at most its cap of connections: renters beyond it wait for one to come back, a renter
/// that stops waiting takes nothing with it, and closing the pool (the open-tenant bound evicting it) strands no waiter.
/// </summary>
public sealed class SqliteReaderPoolTests : IDisposable
{
    /// <summary>Only a guard against a hang: a renter that should proceed does so at once.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly SqliteTestDirectory _directory = new("reader-pool");

    public void Dispose() => _directory.Dispose();

    private SqliteReaders Pool(int maxOpen) => new(SqliteDatabase.ConnectionString(_directory.DbPath, pooled: false), maxOpen);

    private static long SelectOne(SqliteReader reader) => (long)reader.Command("SELECT 1").ExecuteScalar()!;

    [Fact]
    public async Task Many_concurrent_renters_never_hold_more_connections_than_the_cap()
    {
        var pool = Pool(maxOpen: 3);
        var inUse = 0;
        var mostInUse = 0;

        await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            await using var reader = await pool.RentAsync(default);
            var now = Interlocked.Increment(ref inUse);
            InterlockedMax(ref mostInUse, now);
            SelectOne(reader).Should().Be(1);
            await Task.Yield();
            Interlocked.Decrement(ref inUse);
        }))).WaitAsync(Hang);

        mostInUse.Should().BeLessThanOrEqualTo(3);
        pool.PeakOpenCount.Should().BeInRange(1, 3);
        pool.OpenCount.Should().BeLessThanOrEqualTo(3, "the returned connections stay idle, within the cap");
        pool.Close();
        pool.OpenCount.Should().Be(0);
    }

    [Fact]
    public async Task Statements_past_the_connections_limit_run_once_and_go_with_the_lease_which_returns_the_connection()
    {
        var pool = Pool(maxOpen: 1);
        var oneOff = 0;
        var disposed = 0;
        await using (var reader = await pool.RentAsync(default))
        {
            for (var i = 0; i < SqliteReaders.StatementLimit + 3; i++)
            {
                var command = reader.Command($"SELECT {i}");
                ((long)command.ExecuteScalar()!).Should().Be(i);
                if (i < SqliteReaders.StatementLimit) continue;
                oneOff++;
                command.Disposed += (_, _) => disposed++;
            }
            SqliteDatabase.State(reader.Connection).Commands.Should().HaveCount(SqliteReaders.StatementLimit);
            disposed.Should().Be(0);
        }
        oneOff.Should().Be(3);
        disposed.Should().Be(3, "the one-off statements go with the lease");
        pool.OpenCount.Should().Be(1, "the connection went back to the pool");
        await using var again = await pool.RentAsync(default);
        SelectOne(again).Should().Be(1);
        pool.PeakOpenCount.Should().Be(1, "the same connection served both leases");
    }

    [Fact]
    public async Task Renters_at_the_cap_wait_and_proceed_as_readers_come_back()
    {
        var pool = Pool(maxOpen: 2);
        var first = await pool.RentAsync(default);
        var second = await pool.RentAsync(default);

        var waiting = Enumerable.Range(0, 5).Select(_ => Task.Run(async () =>
        {
            await using var reader = await pool.RentAsync(default);
            return SelectOne(reader);
        })).ToList();
        await Task.Delay(100);
        waiting.Should().OnlyContain(t => !t.IsCompleted, "both connections are rented");
        pool.OpenCount.Should().Be(2);

        await first.DisposeAsync();
        await second.DisposeAsync();

        (await Task.WhenAll(waiting).WaitAsync(Hang)).Should().OnlyContain(one => one == 1);
        pool.PeakOpenCount.Should().Be(2);
    }

    [Fact]
    public async Task A_renter_that_stops_waiting_frees_no_place_it_did_not_hold()
    {
        var pool = Pool(maxOpen: 1);
        var held = await pool.RentAsync(default);
        using var gaveUp = new CancellationTokenSource();

        var cancelled = pool.RentAsync(gaveUp.Token);
        await Task.Delay(50);
        cancelled.IsCompleted.Should().BeFalse();
        gaveUp.Cancel();
        await cancelled.Invoking(t => t.WaitAsync(Hang)).Should().ThrowAsync<OperationCanceledException>();

        // The cap still holds: the next renter waits for the one connection, and gets it when it comes back.
        var next = pool.RentAsync(default);
        await Task.Delay(50);
        next.IsCompleted.Should().BeFalse("the renter that gave up did not free the held connection's place");
        pool.OpenCount.Should().Be(1);

        await held.DisposeAsync();
        await using (var reader = await next.WaitAsync(Hang)) SelectOne(reader).Should().Be(1);
        pool.PeakOpenCount.Should().Be(1);
    }

    [Fact]
    public async Task Closing_the_pool_with_renters_waiting_strands_none_and_keeps_the_cap()
    {
        var pool = Pool(maxOpen: 1);
        var held = await pool.RentAsync(default);
        var waiter = Task.Run(async () =>
        {
            await using var reader = await pool.RentAsync(default);
            return SelectOne(reader);
        });
        await Task.Delay(50);

        pool.Close(); // what the open-tenant bound does to a least recently used store
        waiter.IsCompleted.Should().BeFalse("the rented connection is still in use");
        pool.OpenCount.Should().Be(1);

        // The connection rented before the close is not reused; its place goes to the waiter, which opens a new one.
        await held.DisposeAsync();
        (await waiter.WaitAsync(Hang)).Should().Be(1);
        pool.PeakOpenCount.Should().Be(1);
        pool.OpenCount.Should().Be(1);
        pool.Close();
        pool.OpenCount.Should().Be(0);
    }

    [Fact]
    public async Task A_reader_failing_to_open_gives_its_place_back()
    {
        // A directory is not a database: the open fails, and the place it took is free again for the next renter.
        var pool = new SqliteReaders(SqliteDatabase.ConnectionString(_directory.Path, pooled: false), maxOpen: 1);

        for (var i = 0; i < 3; i++)
            await pool.Invoking(p => p.RentAsync(default).WaitAsync(Hang)).Should().ThrowAsync<Microsoft.Data.Sqlite.SqliteException>();

        pool.OpenCount.Should().Be(0);
    }

    [Fact]
    public async Task A_snapshot_sees_one_state_and_ends_with_its_lease()
    {
        using var writer = new Microsoft.Data.Sqlite.SqliteConnection(SqliteDatabase.ConnectionString(_directory.DbPath, pooled: false));
        writer.Open();
        SqliteDatabase.Execute(writer, "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
        var pool = Pool(maxOpen: 1);
        static long Rows(SqliteReader reader) => (long)reader.Command("SELECT COUNT(*) FROM t").ExecuteScalar()!;

        await using (var reader = await pool.RentAsync(default))
        {
            reader.BeginSnapshot();
            Rows(reader).Should().Be(1);
            SqliteDatabase.Execute(writer, "INSERT INTO t VALUES (2)");
            Rows(reader).Should().Be(1, "the snapshot's statements all see the state of its first read");
        }
        await using (var again = await pool.RentAsync(default))
        {
            SQLitePCL.raw.sqlite3_get_autocommit(again.Connection.Handle).Should().Be(1, "the lease ended its snapshot");
            Rows(again).Should().Be(2);
            again.BeginSnapshot();
            Rows(again).Should().Be(2);
        }
        pool.PeakOpenCount.Should().Be(1, "the connection was reused");
    }

    [Fact]
    public async Task A_kept_statement_answers_each_bound_limit_with_a_plan_made_without_values()
    {
        using (var writer = new Microsoft.Data.Sqlite.SqliteConnection(SqliteDatabase.ConnectionString(_directory.DbPath, pooled: false)))
        {
            writer.Open();
            SqliteDatabase.Execute(writer, "CREATE TABLE t (x INTEGER); WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50) INSERT INTO t SELECT x FROM n");
        }
        var pool = Pool(maxOpen: 1);
        await using var reader = await pool.RentAsync(default);
        SQLitePCL.raw.sqlite3_db_config(reader.Connection.Handle, SQLitePCL.raw.SQLITE_DBCONFIG_ENABLE_QPSG, -1, out var stable);
        stable.Should().Be(1, "plans do not depend on bound values, so binding a LIMIT does not expire the statement");

        const string sql = "SELECT COUNT(*) FROM (SELECT x FROM t ORDER BY x LIMIT $limit OFFSET $offset)";
        foreach (var (limit, offset, expected) in new[] { (20, 0, 20L), (100, 0, 50L), (20, 40, 10L), (0, 0, 0L), (20, 0, 20L) })
            reader.Command(sql, ("$limit", limit), ("$offset", offset)).ExecuteScalar().Should().Be(expected);
        SqliteDatabase.State(reader.Connection).Commands.Should().ContainKey(sql);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}
