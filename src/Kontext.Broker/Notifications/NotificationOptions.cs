namespace Kontext.Broker.Notifications;

/// <summary>The "Kontext:Notifications" section: delivery timing and when to give up.</summary>
public sealed class NotificationOptions
{
    /// <summary>How long one HTTP delivery may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quick retries (Polly) inside one delivery attempt, for a blip on the network.</summary>
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>
    /// Requests in flight to one endpoint (scheme, host and port) at a time, over all its subscriptions; each
    /// subscription has at most one, which keeps its notifications in order.
    /// </summary>
    public int MaxInFlightPerEndpoint { get; set; } = 16;

    /// <summary>
    /// Changes of different entities that one notification may carry in its `data` (those of one subscription matched in
    /// one round, in commit order; two changes of one entity always go in separate notifications). 1 sends a
    /// notification per change.
    /// </summary>
    public int MaxEntitiesPerNotification { get; set; } = 100;

    /// <summary>First wait after a failed attempt; doubles each time up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A notification that could not be delivered for this long is dropped and counted as failed.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a process trusts its in-memory copy of the subscriptions (other instances may change them).</summary>
    public TimeSpan SubscriptionRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Fallback polling of the change log and outbox (writes in this process wake the notifier at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often every tenant is checked, not only those this process signalled or whose stored retry came due (a
    /// safety net: a message whose delivery record failed is read again then). A store shared by several processes is
    /// checked every <see cref="PollInterval"/> instead.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);
}
