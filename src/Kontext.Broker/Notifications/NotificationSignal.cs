namespace Kontext.Broker.Notifications;

/// <summary>Wakes the matcher (after writes and subscription changes) and the dispatcher (after new notifications).</summary>
internal sealed class NotificationSignal
{
    private readonly SemaphoreSlim _matcher = new(0, 1);
    private readonly SemaphoreSlim _dispatcher = new(0, 1);

    public void Wake(string? tenant) => Release(_matcher);

    public void WakeDispatcher() => Release(_dispatcher);

    public Task<bool> WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) => _matcher.WaitAsync(timeout, cancellationToken);

    public Task<bool> WaitForNotificationsAsync(TimeSpan timeout, CancellationToken cancellationToken) => _dispatcher.WaitAsync(timeout, cancellationToken);

    private static void Release(SemaphoreSlim semaphore)
    {
        try { semaphore.Release(); } catch (SemaphoreFullException) { } // already signalled
    }
}
