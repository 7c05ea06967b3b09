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
    private readonly ConcurrentDictionary<(string Tenant, string Subscription), Outcome> _latest = new();

    /// <summary>The last success and failure this process saw, and the failure's reason.</summary>
    /// <summary>
    /// The last success and failure this process saw, the failure's reason, and how many attempts it saw end each way
    /// (a lower bound of the stored counters, which other instances and earlier runs add to).
    /// </summary>
    public sealed record Outcome(DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? FailureReason, long Sent = 0, long Failed = 0);

    /// <summary>
    /// A notification is about to go out: it counts as sent from now (timesSent), so a client that reads the subscription
    /// as soon as it receives the notification, before the broker has seen the receiver's answer, sees it counted.
    /// </summary>
    public void Sending(string? tenant, string subscriptionId) =>
        Update(tenant, subscriptionId, previous => previous with { Sent = previous.Sent + 1 });

    /// <summary>An attempt failed; <paramref name="wasSent"/> is false when it failed before anything went out.</summary>
    public void Failed(string? tenant, string subscriptionId, DateTimeOffset at, string reason, bool wasSent) =>
        Update(tenant, subscriptionId, previous => previous with
        {
            LastFailure = at, FailureReason = reason, Sent = previous.Sent + (wasSent ? 0 : 1), Failed = previous.Failed + 1,
        });

    public void Succeeded(string? tenant, string subscriptionId, DateTimeOffset at) =>
        Update(tenant, subscriptionId, previous => previous with { LastSuccess = at, FailureReason = null });

    public Outcome? Latest(string? tenant, string subscriptionId) => _latest.GetValueOrDefault((tenant ?? "", subscriptionId));

    private void Update(string? tenant, string subscriptionId, Func<Outcome, Outcome> change)
    {
        var key = (tenant ?? "", subscriptionId);
        if (_latest.Count >= MaxEntries && !_latest.ContainsKey(key)) _latest.Clear(); // a bound, not a history
        _latest.AddOrUpdate(key, _ => change(new Outcome(null, null, null)), (_, previous) => change(previous));
    }
}
