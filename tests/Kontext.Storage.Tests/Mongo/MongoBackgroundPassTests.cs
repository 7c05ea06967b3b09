using Kontext.Storage.Mongo;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>The one shape of the store's background work (history maintenance, change-log prune): one pass at a time, disposal cancels and waits.</summary>
public sealed class MongoBackgroundPassTests
{
    /// <summary>A pass that counts its runs and waits for <see cref="Release"/> (or its cancellation).</summary>
    private sealed class GatedPass
    {
        private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Runs, Finished;
        public readonly TaskCompletionSource Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Cancelled;

        public async Task RunAsync(CancellationToken ct)
        {
            var release = _release.Task;
            Interlocked.Increment(ref Runs);
            Started.TrySetResult();
            try { await release.WaitAsync(ct); }
            catch (OperationCanceledException) { Cancelled = true; throw; }
            Interlocked.Increment(ref Finished);
        }

        public async Task FinishedAsync(int count)
        {
            while (Volatile.Read(ref Finished) < count) await Task.Delay(1);
        }

        public void Release()
        {
            var release = _release;
            _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
            release.TrySetResult();
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public async Task A_request_while_a_pass_runs_is_dropped_or_makes_one_more_pass_follow(bool repeatWhenBusy, int runs)
    {
        var pass = new GatedPass();
        var background = new MongoBackgroundPass(enabled: true, repeatWhenBusy);
        background.Request(pass.RunAsync);
        await pass.Started.Task;

        background.Request(pass.RunAsync);
        background.Request(pass.RunAsync);
        pass.Release();
        await pass.FinishedAsync(1);
        if (runs == 2)
        {
            while (Volatile.Read(ref pass.Runs) < 2) await Task.Delay(1);
            pass.Release();
            await pass.FinishedAsync(2);
        }
        await background.DisposeAsync();

        pass.Runs.Should().Be(runs, "two requests during a pass make at most one more");
        pass.Cancelled.Should().BeFalse();
    }

    [Fact]
    public async Task Disposal_cancels_the_running_pass_waits_for_it_and_starts_none_after()
    {
        var pass = new GatedPass();
        var background = new MongoBackgroundPass(enabled: true, repeatWhenBusy: true);
        background.Request(pass.RunAsync);
        await pass.Started.Task;

        await background.DisposeAsync();
        pass.Cancelled.Should().BeTrue("disposal returns once the running pass has stopped");

        background.Request(pass.RunAsync);
        pass.Runs.Should().Be(1);
    }

    [Fact]
    public async Task A_pass_that_fails_on_the_server_leaves_the_work_to_the_next_request()
    {
        var runs = 0;
        var background = new MongoBackgroundPass(enabled: true, repeatWhenBusy: false);
        Task Failing(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            throw new MongoClientException("the server is away");
        }

        // Requests made while the failed pass is still winding down are dropped; a later one runs.
        while (Volatile.Read(ref runs) < 2)
        {
            background.Request(Failing);
            await Task.Delay(1);
        }
        await background.DisposeAsync();

        runs.Should().BeGreaterThanOrEqualTo(2, "the failure did not stop the background work");
    }

    [Fact]
    public async Task Nothing_runs_when_disabled_or_not_admitted()
    {
        var pass = new GatedPass();
        await using (var disabled = new MongoBackgroundPass(enabled: false, repeatWhenBusy: true)) disabled.Request(pass.RunAsync);
        await using (var refused = new MongoBackgroundPass(enabled: true, repeatWhenBusy: true)) refused.Request(pass.RunAsync, () => false);

        pass.Runs.Should().Be(0);
    }
}
