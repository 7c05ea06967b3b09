using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// What the writer keeps between the statements of a group (name ids, type statistics written at commit) follows the
/// jobs' savepoints: a rolled-back job leaves nothing behind, in the file or in memory.
/// </summary>
public sealed class SqliteWriterGroupStateTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "kontext-tests", "writer-" + Guid.NewGuid().ToString("N") + ".db");
    private SqliteWriter _writer = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using (var connection = new SqliteConnection(SqliteDatabase.ConnectionString(_path, pooled: false)))
        {
            connection.Open();
            SqliteMigrations.Apply(connection, SqliteMigrations.Tenant);
        }
        _writer = new SqliteWriter(SqliteDatabase.ConnectionString(_path, pooled: false));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    private Task<T> Run<T>(Func<SqliteConnection, T> work) => _writer.Enqueue(work, default);

    [Fact]
    public async Task A_name_added_by_a_rolled_back_write_is_not_remembered_for_the_name_that_gets_its_id()
    {
        var failed = () => Run<long>(c => { SqliteNameSchema.Id(c, "https://example.org/x"); throw new InvalidOperationException("the write fails"); });
        await failed.Should().ThrowAsync<InvalidOperationException>();

        var y = await Run(c => SqliteNameSchema.Id(c, "https://example.org/y"));
        var x = await Run(c => SqliteNameSchema.Id(c, "https://example.org/x"));

        x.Should().NotBe(y, "the id x had in the rolled-back write now belongs to y");
        (await Run(c => SqliteDatabase.Cached(c, "SELECT iri FROM names WHERE nid = $n", ("$n", x)).ExecuteScalar())).Should().Be("https://example.org/x");
    }

    [Fact]
    public async Task Type_statistics_of_a_group_are_written_at_commit_without_those_of_its_rolled_back_jobs()
    {
        HashSet<(string, string, string)> Keys(string type) => [(type, "", ""), (type, "https://example.org/n", "*")];
        // Queued back to back, so usually committed as one group (the outcome must not depend on it).
        var kept = Run(c => { SqliteIndexRows.UpdateStatistics(c, [], Keys("https://example.org/T")); return true; });
        var rolledBack = Run<bool>(c => { SqliteIndexRows.UpdateStatistics(c, [], Keys("https://example.org/U")); throw new InvalidOperationException("fails"); });
        var keptAgain = Run(c => { SqliteIndexRows.UpdateStatistics(c, [], Keys("https://example.org/T")); return true; });
        await kept;
        await keptAgain;
        await rolledBack.Invoking(t => t).Should().ThrowAsync<InvalidOperationException>();

        var rows = await Run(c =>
        {
            using var reader = SqliteDatabase.Cached(c, "SELECT type, attr, entities FROM type_statistics ORDER BY type, attr").ExecuteReader();
            var found = new List<(string, string, long)>();
            while (reader.Read()) found.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            return found;
        });
        rows.Should().Equal(("https://example.org/T", "", 2L), ("https://example.org/T", "https://example.org/n", 2L));

        await Run(c => { SqliteIndexRows.UpdateStatistics(c, Keys("https://example.org/T"), []); return true; });
        await Run(c => { SqliteIndexRows.UpdateStatistics(c, Keys("https://example.org/T"), []); return true; });
        (await Run(c => SqliteDatabase.Cached(c, "SELECT COUNT(*) FROM type_statistics").ExecuteScalar())).Should().Be(0L, "a counter that reaches zero is removed");
    }

    [Fact]
    public async Task The_commit_is_signalled_before_its_writers_are_answered()
    {
        var answeredWhenSignalled = new List<bool>();
        Task<bool>? write = null;
        var signalled = new TaskCompletionSource();
        await using var writer = new SqliteWriter(SqliteDatabase.ConnectionString(_path, pooled: false), committed: () =>
        {
            lock (answeredWhenSignalled) answeredWhenSignalled.Add(Volatile.Read(ref write)?.IsCompleted ?? false);
            signalled.TrySetResult();
        });
        // The job waits until the task is published, so the signal can only see it answered if it comes after the answer.
        var published = new TaskCompletionSource();
        Volatile.Write(ref write, writer.Enqueue(c => { published.Task.Wait(); SqliteNameSchema.Id(c, "https://example.org/s"); return true; }, default));
        published.SetResult();
        (await write).Should().BeTrue();
        await signalled.Task;
        lock (answeredWhenSignalled) answeredWhenSignalled.Should().Equal(false);
    }

    [Fact]
    public async Task A_commit_listener_that_throws_leaves_the_committed_writers_answered_and_the_loop_running()
    {
        await using var writer = new SqliteWriter(SqliteDatabase.ConnectionString(_path, pooled: false), committed: () => throw new InvalidOperationException("listener"));
        // Bounded waits: a writer left unanswered would otherwise hang the run instead of failing it.
        var first = await writer.Enqueue(c => SqliteNameSchema.Id(c, "https://example.org/l1"), default).WaitAsync(TimeSpan.FromSeconds(30));
        var second = await writer.Enqueue(c => SqliteNameSchema.Id(c, "https://example.org/l2"), default).WaitAsync(TimeSpan.FromSeconds(30));
        second.Should().NotBe(first);
        (await writer.Enqueue(c => SqliteDatabase.Cached(c, "SELECT COUNT(*) FROM names WHERE iri LIKE 'https://example.org/l_'").ExecuteScalar(), default))
            .Should().Be(2L, "both writes committed although the listener threw after each");
    }
}
