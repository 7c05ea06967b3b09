using System.Collections.Concurrent;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Notifications;

/// <summary>
/// The matcher's position in each tenant's change log. While no subscription of a tenant is triggered by changes
/// (active, unexpired, without timeInterval) the matcher does not read the log after its commits; the cursor is moved
/// past what was written meanwhile, without reading it, at the latest every <see cref="NotificationOptions.SweepInterval"/>
/// (which prunes the log) and always before a subscription write (<see cref="SubscriptionChanges"/>): a subscription
/// that starts to follow the log then starts after every change acknowledged before it was written, and is matched
/// against every later one. Jumping the cursor at that moment is exact whatever the clocks; filtering changes by their
/// time against the subscription's creation would not be (milliseconds, a wall clock that steps back, other processes'
/// clocks) and would not cover a subscription that is reactivated or renewed.
/// </summary>
internal sealed class MatcherCursor(SubscriptionRegistry registry)
{
    public const string Name = "notifications";
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Whether a change can notify this subscription now: active, unexpired, triggered by changes (no timeInterval).</summary>
    public static bool Follows(RegisteredSubscription subscription, DateTimeOffset now) =>
        subscription.Subscription.TimeInterval is null && subscription.Subscription.IsActive && !subscription.Subscription.IsExpired(now);

    /// <summary>Whether a change can notify any of these subscriptions now, so the matcher must read the log.</summary>
    public static bool Followed(IEnumerable<RegisteredSubscription> subscriptions, DateTimeOffset now) => subscriptions.Any(s => Follows(s, now));

    /// <summary>
    /// Held by whoever moves the tenant's cursor in this process (the matcher's round, a jump), so that a round that began
    /// while the tenant was followed cannot put the cursor back behind a jump.
    /// </summary>
    public async Task<IDisposable> HoldAsync(string? tenant, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(tenant ?? "", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    /// <summary>
    /// Moves the cursor to the log's end when nothing follows the log, without reading it. The end is read before the
    /// subscriptions: a subscription acknowledged before any change up to it is in the list then (its write invalidated
    /// the registry), and the cursor stays where it is.
    /// </summary>
    public async Task JumpWhenIdleAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        // A followed tenant returns at once, without waiting for a matcher round that holds the gate.
        if (Followed(await registry.GetAsync(store, cancellationToken), DateTimeOffset.UtcNow)) return;
        using var held = await HoldAsync(store.Name, cancellationToken);
        var end = await store.ReadLastChangeSequenceAsync(cancellationToken);
        if (Followed(await registry.GetAsync(store, cancellationToken), DateTimeOffset.UtcNow)) return;
        // The cursor only moves forward; with no message, the append is the cursor write and the prune behind it.
        if (end > await store.ReadCursorAsync(Name, cancellationToken)) await store.AppendNotificationsAsync(Name, end, [], cancellationToken);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) gate.Release();
        }
    }
}
