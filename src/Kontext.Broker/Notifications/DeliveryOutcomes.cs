using System.Collections.Concurrent;

namespace Kontext.Broker.Notifications;

/// <summary>
/// The latest delivery outcome of each subscription as this process saw it, shown beside the stored counters: the
/// subscription reads as delivered (lastSuccess, status "ok") as soon as the receiver answered, not only once the store
/// has recorded it, so a client that reads the subscription right after receiving a notification sees that notification.
/// Also why the last delivery failed, shown as <c>notification.lastFailureReason</c> (the store has no column for it).
/// Kept in this process's memory only: after a restart, or on another instance, the stored values are shown. Reasons
/// say nothing about the network beyond what the subscriber configured: a refusal by the outbound policy, or that the
/// endpoint did not take the notification.
/// </summary>
internal sealed class DeliveryOutcomes
{
    public const string NotAccepted = "the endpoint could not be reached or did not accept the notification";
    private const int MaxEntries = 10_000;

    /// <summary>How long a read of a subscription waits for the answer to a notification on the wire.</summary>
    public static readonly TimeSpan SettleLimit = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<(string Tenant, string Subscription), Outcome> _latest = new();

    /// <summary>
    /// The last success and failure this process saw, the failure's reason, and how many notifications it saw sent and
    /// failed (a lower bound of the stored counters, which other instances and earlier runs add to). Counted per
    /// notification, not per attempt (clause 5.2.14): a retried notification is sent once and fails at most once.
    /// </summary>
    public sealed record Outcome(DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? FailureReason, long Sent = 0, long Failed = 0);

    private readonly ConcurrentDictionary<(string Tenant, string Subscription), TaskCompletionSource> _onTheWire = new();

    /// <summary>
    /// An attempt is about to go out. The notification's first attempt counts it as sent from now (timesSent), so a client
    /// that reads the subscription as soon as it receives the notification sees it counted.
    /// </summary>
    public void Sending(string? tenant, string subscriptionId, bool firstAttempt)
    {
        _onTheWire.TryAdd((tenant ?? "", subscriptionId), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (firstAttempt) Update(tenant, subscriptionId, previous => previous with { Sent = previous.Sent + 1 });
    }

    /// <summary>
    /// An attempt failed; <paramref name="wasSent"/> is false when it failed before anything went out (then a first
    /// attempt is counted as sent here).
    /// </summary>
    public void Failed(string? tenant, string subscriptionId, DateTimeOffset at, string reason, bool firstAttempt, bool wasSent)
    {
        Update(tenant, subscriptionId, previous => previous with
        {
            LastFailure = at, FailureReason = reason,
            Sent = previous.Sent + (firstAttempt && !wasSent ? 1 : 0), Failed = previous.Failed + (firstAttempt ? 1 : 0),
        });
        Settle(tenant, subscriptionId);
    }

    /// <summary>An attempt succeeded; <paramref name="countSent"/>: count its notification as sent now (it was not when it went out).</summary>
    public void Succeeded(string? tenant, string subscriptionId, DateTimeOffset at, bool countSent = false)
    {
        Update(tenant, subscriptionId, previous => previous with { LastSuccess = at, FailureReason = null, Sent = previous.Sent + (countSent ? 1 : 0) });
        Settle(tenant, subscriptionId);
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) while an attempt of the subscription is on the wire: the receiver may
    /// already have the notification and read the subscription before this process has seen its answer.
    /// </summary>
    public Task SettledAsync(string? tenant, string subscriptionId, TimeSpan limit) =>
        _onTheWire.TryGetValue((tenant ?? "", subscriptionId), out var wire)
            ? wire.Task.WaitAsync(limit).ContinueWith(_ => { }, TaskScheduler.Default)
            : Task.CompletedTask;

    private void Settle(string? tenant, string subscriptionId)
    {
        if (_onTheWire.TryRemove((tenant ?? "", subscriptionId), out var wire)) wire.TrySetResult();
    }

    public Outcome? Latest(string? tenant, string subscriptionId) => _latest.GetValueOrDefault((tenant ?? "", subscriptionId));

    private void Update(string? tenant, string subscriptionId, Func<Outcome, Outcome> change)
    {
        var key = (tenant ?? "", subscriptionId);
        if (_latest.Count >= MaxEntries && !_latest.ContainsKey(key)) _latest.Clear(); // a bound, not a history
        _latest.AddOrUpdate(key, _ => change(new Outcome(null, null, null)), (_, previous) => change(previous));
    }
}
