using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// A tenant store's background work (the history maintenance, the change log's prune): at most one pass at a time in this
/// process, started by <see cref="Request"/>, none after disposal, which cancels the running pass and waits for it. A pass
/// that fails on the server is left to the next request: every pass is idempotent and reads stay right meanwhile.
/// </summary>
/// <param name="enabled">False when tests run the passes themselves.</param>
/// <param name="repeatWhenBusy">Whether a request made while a pass runs makes one more pass follow it (else it is dropped).</param>
internal sealed class MongoBackgroundPass(bool enabled, bool repeatWhenBusy) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task _running = Task.CompletedTask;
    private bool _again;

    /// <summary>
    /// Starts <paramref name="pass"/> in the background unless one runs, unless disabled or disposed, and unless
    /// <paramref name="admit"/> (asked under the gate, only when no pass runs) says no.
    /// </summary>
    public void Request(Func<CancellationToken, Task> pass, Func<bool>? admit = null)
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested || !enabled) return;
            if (!_running.IsCompleted)
            {
                _again |= repeatWhenBusy;
                return;
            }
            if (admit is not null && !admit()) return;
            _running = Task.Run(() => RunAsync(pass));
        }
    }

    /// <summary>The pass running now, or the last one (completed); for tests that wait for a pass they caused.</summary>
    internal Task Running
    {
        get { lock (_gate) return _running; }
    }

    private async Task RunAsync(Func<CancellationToken, Task> pass)
    {
        while (true)
        {
            try { await pass(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is MongoException or TimeoutException) { } // the next request tries again
            lock (_gate)
            {
                if (!_again || _stop.IsCancellationRequested) return;
                _again = false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task running;
        lock (_gate)
        {
            _stop.Cancel();
            running = _running;
        }
        try { await running; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
