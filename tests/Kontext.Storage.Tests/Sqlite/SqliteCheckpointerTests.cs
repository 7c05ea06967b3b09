using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The WAL is checkpointed beside the writer, not in its commit: past the threshold a background checkpointer copies the
/// frames; past the hard limit (a reader pinning an old snapshot) the writer checkpoints itself so the WAL stays bounded;
/// what was written survives close and reopen. Small limits (tens of pages) stand for the real ones (10,000 / 40,000).
/// </summary>
public sealed class SqliteCheckpointerTests : IDisposable
{
    /// <summary>Only a guard against a hang: the background work the tests wait for happens within moments.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly SqliteTestDirectory _directory = new("checkpointer");

    public SqliteCheckpointerTests()
    {
        using var setup = new SqliteConnection(ConnectionString);
        setup.Open();
        SqliteDatabase.Execute(setup, SqliteSchema.Pragmas);
        SqliteMigrations.Apply(setup, SqliteMigrations.Tenant);
        SqliteDatabase.Execute(setup, "CREATE TABLE blobs(b BLOB NOT NULL)");
    }

    public void Dispose() => _directory.Dispose();

    private string ConnectionString => SqliteDatabase.ConnectionString(_directory.DbPath, pooled: false);

    private SqliteWriter Writer(int threshold, int hardLimit, int? tail = null) =>
        new(ConnectionString, walLimits: new SqliteWalLimits(threshold, hardLimit, tail ?? threshold / 8));

    /// <summary>Commits one row of most of a page at a time: each commit adds at least one WAL frame.</summary>
    private static async Task WriteRowsAsync(SqliteWriter writer, int rows)
    {
        for (var i = 0; i < rows; i++)
            await writer.Enqueue(connection => SqliteDatabase.Command(connection, "INSERT INTO blobs VALUES(randomblob(3000))").ExecuteNonQuery(), default);
    }

    private static Task<long> ScalarAsync(SqliteWriter writer, string sql) =>
        writer.Enqueue(connection => (long)SqliteDatabase.Command(connection, sql).ExecuteScalar()!, default);

    /// <summary>The frames in the WAL now, as a passive checkpoint from a connection of the test's own reports them.</summary>
    private (long Frames, long Checkpointed) WalFrames()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        var (_, frames, checkpointed) = SqliteCheckpointer.Checkpoint(connection);
        return (frames, checkpointed);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Hang;
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(10);
    }

    [Fact]
    public async Task The_writer_connection_runs_no_automatic_checkpoint()
    {
        await using var writer = new SqliteWriter(ConnectionString);
        (await ScalarAsync(writer, "PRAGMA wal_autocheckpoint")).Should().Be(0);
    }

    [Fact]
    public async Task Writes_past_the_threshold_are_checkpointed_by_the_background_checkpointer()
    {
        await using var writer = Writer(threshold: 20, hardLimit: 100_000);
        await WriteRowsAsync(writer, 60);

        await WaitUntilAsync(() => writer.Checkpointer.FramesCheckpointed > 0);

        writer.Checkpointer.Runs.Should().BeGreaterThan(0);
        writer.Checkpointer.FramesCheckpointed.Should().BeGreaterThan(0, "the checkpointer copied WAL frames into the database file");
        writer.Checkpointer.Failures.Should().Be(0);
        writer.OwnCheckpoints.Should().Be(0, "below the hard limit the writer leaves checkpoints to the checkpointer");
    }

    [Fact]
    public async Task Under_sustained_writes_the_writer_copies_the_tail_a_run_left_and_the_wal_starts_over()
    {
        const int threshold = 20;
        await using var writer = Writer(threshold, hardLimit: 100_000, tail: 4 * threshold);
        await WriteRowsAsync(writer, 300); // several hundred frames: without starting over the WAL would hold them all

        writer.TailCheckpoints.Should().BeGreaterThan(0, "after a background run the writer copied what was committed meanwhile");
        writer.OwnCheckpoints.Should().Be(0);
        WalFrames().Frames.Should().BeLessThan(10 * threshold, "the WAL started over after the copied tail");
    }

    [Fact]
    public async Task A_reader_pinning_an_old_snapshot_makes_the_writer_checkpoint_itself_and_the_wal_is_bounded_once_it_lets_go()
    {
        const int hardLimit = 80;
        await using var writer = Writer(threshold: 20, hardLimit);
        await WriteRowsAsync(writer, 5);
        using (var reader = new SqliteConnection(ConnectionString))
        {
            reader.Open();
            using var snapshot = reader.BeginTransaction(deferred: true);
            SqliteDatabase.Command(reader, "SELECT count(*) FROM blobs").ExecuteScalar(); // the read transaction starts here
            await WriteRowsAsync(writer, 3 * hardLimit);

            WalFrames().Frames.Should().BeGreaterThan(hardLimit, "no checkpoint can copy frames a reader's snapshot still needs");
            writer.OwnCheckpoints.Should().BeGreaterThan(0, "past the hard limit the writer checkpoints in its own commit path");
        }

        // Released: the writer's next commit past the limit copies everything, and the commit after it starts the WAL over.
        await WriteRowsAsync(writer, 2);
        await WaitUntilAsync(() => WalFrames().Frames < hardLimit);
        WalFrames().Frames.Should().BeLessThan(hardLimit);
    }

    [Fact]
    public async Task What_was_written_past_the_limits_is_read_back_after_close_and_reopen_and_the_close_checkpoints_as_before()
    {
        await using (var writer = Writer(threshold: 10, hardLimit: 40))
            await WriteRowsAsync(writer, 150);

        File.Exists(_directory.DbPath + "-wal").Should().BeFalse("the last connection to close checkpoints the WAL into the file and removes it");
        await using var reopened = Writer(threshold: 10, hardLimit: 40);
        (await ScalarAsync(reopened, "SELECT count(*) FROM blobs")).Should().Be(150);
    }

    [Fact]
    public async Task A_failing_checkpoint_is_counted_and_the_checkpointer_goes_on()
    {
        var missing = SqliteDatabase.ConnectionString(Path.Combine(_directory.Path, "no-such-directory", "x.db"), pooled: false);
        await using var checkpointer = new SqliteCheckpointer(missing);

        checkpointer.Request();
        await WaitUntilAsync(() => checkpointer.Failures >= 1);
        checkpointer.Request();
        await WaitUntilAsync(() => checkpointer.Failures >= 2);

        checkpointer.Failures.Should().Be(2, "each request ran and failed without ending the loop");
        checkpointer.Runs.Should().Be(0);
    }

    [Fact]
    public async Task Disposing_the_checkpointer_stops_it_and_drops_a_pending_request()
    {
        var checkpointer = new SqliteCheckpointer(ConnectionString);
        await checkpointer.DisposeAsync().AsTask().WaitAsync(Hang);
        checkpointer.Request(); // after dispose: ignored, nothing runs
        checkpointer.Runs.Should().Be(0);
        checkpointer.Failures.Should().Be(0);
    }
}
