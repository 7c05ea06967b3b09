using System.Collections.Concurrent;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Wakes the matcher (after writes and subscription changes) and the dispatcher (after new notifications), and tells
/// them which tenants to look at, so a broker with thousands of tenants opens only those with work.
/// </summary>
internal sealed class NotificationSignal
{
    private readonly SemaphoreSlim _matcher = new(0, 1);
    private readonly SemaphoreSlim _dispatcher = new(0, 1);
    private readonly ConcurrentDictionary<string, byte> _changed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _notified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _unfollowed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _outboxDue = new(StringComparer.Ordinal);

    /// <summary>A tenant's change log grew or its subscriptions changed.</summary>
    public void Wake(string? tenant)
    {
        _unfollowed.TryRemove(Key(tenant), out _);
        _changed[Key(tenant)] = 0;
        Release(_matcher);
    }

    /// <summary>
    /// A commit of the tenant: wakes the matcher unless no subscription follows the tenant's log (the matcher would
    /// only find that again; it moves such a tenant's cursor on its sweep).
    /// </summary>
    public void Committed(string? tenant)
    {
        if (!_unfollowed.ContainsKey(Key(tenant))) Wake(tenant);
    }

    /// <summary>
    /// Marks the tenant as followed by no subscription until the next <see cref="Wake"/> (every subscription write wakes).
    /// The matcher marks it before it reads the subscriptions it judges by, so a subscription written meanwhile clears it.
    /// </summary>
    public void Unfollowed(string? tenant) => _unfollowed[Key(tenant)] = 0;

    public void Followed(string? tenant) => _unfollowed.TryRemove(Key(tenant), out _);

    /// <summary>A tenant's outbox has new notifications.</summary>
    public void WakeDispatcher(string? tenant)
    {
        _notified[Key(tenant)] = 0;
        Release(_dispatcher);
    }

    /// <summary>
    /// Messages already in the tenant's outbox come due at <paramref name="at"/>, which no write signals: a retry's
    /// time, or the end of a retried message that held back its subscription's later ones. The earliest time counts.
    /// </summary>
    public void OutboxDueAt(string? tenant, DateTimeOffset at)
    {
        _outboxDue.AddOrUpdate(Key(tenant), at, (_, asked) => at < asked ? at : asked);
        if (at <= DateTimeOffset.UtcNow) Release(_dispatcher);
    }

    /// <summary>The tenants whose outbox came due by <paramref name="now"/> (each once).</summary>
    public IReadOnlyList<string?> TakeOutboxDue(DateTimeOffset now)
    {
        var due = new List<string?>();
        foreach (var (key, at) in _outboxDue)
            if (at <= now && _outboxDue.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, at))) due.Add(key.Length == 0 ? null : key);
        return due;
    }

    /// <summary>The tenants woken since the last call (each once).</summary>
    public IReadOnlyList<string?> TakeChanged() => Take(_changed);

    public IReadOnlyList<string?> TakeNotified() => Take(_notified);

    public Task<bool> WaitForChangesAsync(TimeSpan timeout, CancellationToken cancellationToken) => _matcher.WaitAsync(timeout, cancellationToken);

    public Task<bool> WaitForNotificationsAsync(TimeSpan timeout, CancellationToken cancellationToken) => _dispatcher.WaitAsync(timeout, cancellationToken);

    // "" stands for the default tenant: no tenant name is empty.
    private static string Key(string? tenant) => tenant ?? "";

    private static IReadOnlyList<string?> Take(ConcurrentDictionary<string, byte> set)
    {
        var taken = new List<string?>();
        foreach (var key in set.Keys)
            if (set.TryRemove(key, out _)) taken.Add(key.Length == 0 ? null : key);
        return taken;
    }

    private static void Release(SemaphoreSlim semaphore)
    {
        try { semaphore.Release(); } catch (SemaphoreFullException) { } // already signalled
    }
}
