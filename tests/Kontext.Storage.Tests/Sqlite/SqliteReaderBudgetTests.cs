using Kontext.Ngsi.Errors;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The process-wide bound on reader connections across tenants' pools: never more open than it allows, an idle connection of
/// another tenant gives up its place to a renter at the bound, and a read waits at a cap at most the configured time, then
/// fails with 503 (Retry-After) holding no place. Whether a renter waits is read from the waiter count it raises before it
/// waits, never from elapsed time.
/// </summary>
public sealed class SqliteReaderBudgetTests : IDisposable
{
    /// <summary>Only a guard against a hang: a renter that should proceed does so at once.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private readonly SqliteTestDirectory _directory = new("reader-budget");

    public void Dispose() => _directory.Dispose();

    private SqliteReaders Pool(string tenant, int maxOpen, SqliteReaderBudget budget) =>
        new(SqliteDatabase.ConnectionString(_directory.File(tenant + ".db"), pooled: false), maxOpen, budget);

    private static long SelectOne(SqliteReader reader) => (long)reader.Command("SELECT 1").ExecuteScalar()!;

    [Fact]
    public async Task Many_renters_of_several_tenants_never_hold_more_connections_than_the_process_allows()
    {
        var budget = new SqliteReaderBudget(3, Timeout.InfiniteTimeSpan);
        var pools = Enumerable.Range(0, 4).Select(i => Pool("t" + i, maxOpen: 3, budget)).ToList();

        var answers = await Task.WhenAll(Enumerable.Range(0, 96).Select(i => Task.Run(async () =>
        {
            await using var reader = await pools[i % pools.Count].RentAsync(default);
            await Task.Yield();
            return SelectOne(reader);
        }))).WaitAsync(Hang);

        answers.Should().OnlyContain(one => one == 1);
        budget.Places.Peak.Should().BeInRange(1, 3);
        pools.Sum(p => p.OpenCount).Should().Be(budget.Places.Taken, "every open connection holds one place of the process's");
        foreach (var pool in pools) pool.Close();
        budget.Places.Taken.Should().Be(0);
    }

    [Fact]
    public async Task A_renter_at_the_process_bound_takes_over_the_place_of_another_tenant_s_idle_connection()
    {
        // No waiting allowed at all: had the renter waited, it would have failed.
        var budget = new SqliteReaderBudget(1, TimeSpan.Zero);
        var quiet = Pool("quiet", maxOpen: 4, budget);
        var busy = Pool("busy", maxOpen: 4, budget);
        await using (var reader = await quiet.RentAsync(default)) SelectOne(reader);
        quiet.OpenCount.Should().Be(1, "the connection stays idle in its pool");

        await using (var reader = await busy.RentAsync(default)) SelectOne(reader).Should().Be(1);

        quiet.OpenCount.Should().Be(0, "its idle connection was closed for the busy tenant");
        busy.OpenCount.Should().Be(1);
        budget.Places.Taken.Should().Be(1);
        budget.Places.Peak.Should().Be(1);
    }

    [Fact]
    public async Task A_renter_at_the_process_bound_waits_and_takes_over_a_connection_another_tenant_gives_back()
    {
        var budget = new SqliteReaderBudget(1, Timeout.InfiniteTimeSpan);
        var first = Pool("first", maxOpen: 4, budget);
        var second = Pool("second", maxOpen: 4, budget);
        var held = await first.RentAsync(default);

        var waiting = second.RentAsync(default);
        waiting.IsCompleted.Should().BeFalse();
        budget.Places.Waiting.Should().Be(1, "the renter waits at the process's bound, not at its tenant's");
        second.OpenCount.Should().Be(1, "it holds its tenant's place while it waits for the process's");

        await held.DisposeAsync(); // back to the first tenant's idle connections: the waiter closes it and takes its place
        await using (var reader = await waiting.WaitAsync(Hang)) SelectOne(reader).Should().Be(1);
        first.OpenCount.Should().Be(0);
        second.OpenCount.Should().Be(1);
        budget.Places.Peak.Should().Be(1);
        budget.Places.Waiting.Should().Be(0);
    }

    [Fact]
    public async Task A_read_waiting_at_the_process_bound_beyond_the_limit_fails_with_503_and_keeps_no_place()
    {
        var budget = new SqliteReaderBudget(1, TimeSpan.Zero);
        var first = Pool("first", maxOpen: 4, budget);
        var second = Pool("second", maxOpen: 4, budget);
        var held = await first.RentAsync(default);

        var refused = await second.Invoking(p => p.RentAsync(default).WaitAsync(Hang)).Should().ThrowAsync<NgsiException>();
        refused.Which.Error.Status.Should().Be(503);
        refused.Which.Error.Type.Should().Be(NgsiError.TypeBase + "ServiceUnavailable");
        refused.Which.Error.RetryAfter.Should().BePositive();

        second.OpenCount.Should().Be(0, "the tenant's place taken for the refused read is given back");
        budget.Places.Taken.Should().Be(1);
        budget.Places.Waiting.Should().Be(0);
        await held.DisposeAsync();
        await using (var reader = await second.RentAsync(default).WaitAsync(Hang)) SelectOne(reader).Should().Be(1);
    }

    [Fact]
    public async Task A_read_waiting_at_its_tenant_s_cap_beyond_the_limit_fails_with_503()
    {
        var budget = new SqliteReaderBudget(8, TimeSpan.Zero);
        var pool = Pool("one", maxOpen: 1, budget);
        var held = await pool.RentAsync(default);

        (await pool.Invoking(p => p.RentAsync(default).WaitAsync(Hang)).Should().ThrowAsync<NgsiException>()).Which.Error.Status.Should().Be(503);

        pool.OpenCount.Should().Be(1);
        budget.Places.Taken.Should().Be(1);
        await held.DisposeAsync();
        await using (var reader = await pool.RentAsync(default).WaitAsync(Hang)) SelectOne(reader).Should().Be(1);
    }

    [Fact]
    public async Task A_renter_that_stops_waiting_at_the_process_bound_gives_its_tenant_s_place_back()
    {
        var budget = new SqliteReaderBudget(1, Timeout.InfiniteTimeSpan);
        var first = Pool("first", maxOpen: 4, budget);
        var second = Pool("second", maxOpen: 1, budget);
        var held = await first.RentAsync(default);
        using var gaveUp = new CancellationTokenSource();

        var cancelled = second.RentAsync(gaveUp.Token);
        budget.Places.Waiting.Should().Be(1);
        gaveUp.Cancel();
        await cancelled.Invoking(t => t.WaitAsync(Hang)).Should().ThrowAsync<OperationCanceledException>();

        second.OpenCount.Should().Be(0);
        budget.Places.Taken.Should().Be(1);
        await held.DisposeAsync();
        await using (var reader = await second.RentAsync(default).WaitAsync(Hang)) SelectOne(reader).Should().Be(1);
        budget.Places.Peak.Should().Be(1);
    }

    [Fact]
    public async Task A_disposed_pool_s_idle_connections_close_and_no_renter_reclaims_from_it()
    {
        var budget = new SqliteReaderBudget(2, TimeSpan.Zero);
        var gone = Pool("gone", maxOpen: 2, budget);
        var staying = Pool("staying", maxOpen: 2, budget);
        await using (var reader = await gone.RentAsync(default)) SelectOne(reader);

        gone.Dispose();

        gone.OpenCount.Should().Be(0);
        budget.Places.Taken.Should().Be(0);
        await using var a = await staying.RentAsync(default);
        await using var b = await staying.RentAsync(default);
        budget.Places.Taken.Should().Be(2);
    }
}
