using System.Collections.Concurrent;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Why the last delivery to a subscription failed, shown as <c>notification.lastFailureReason</c> beside the stored
/// counters. Kept in this process's memory only (the store has no column for it): after a restart, or on another
/// instance, the reason appears again with the next failure. Reasons say nothing about the network beyond what the
/// subscriber configured: a refusal by the outbound policy, or that the endpoint did not take the notification.
/// </summary>
internal sealed class DeliveryFailures
{
    public const string NotAccepted = "the endpoint could not be reached or did not accept the notification";
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<(string Tenant, string Subscription), string> _reasons = new();

    public void Failed(string? tenant, string subscriptionId, string reason)
    {
        if (_reasons.Count >= MaxEntries && !_reasons.ContainsKey((tenant ?? "", subscriptionId))) _reasons.Clear(); // a bound, not a history
        _reasons[(tenant ?? "", subscriptionId)] = reason;
    }

    public void Succeeded(string? tenant, string subscriptionId) => _reasons.TryRemove((tenant ?? "", subscriptionId), out _);

    public string? LastReason(string? tenant, string subscriptionId) => _reasons.GetValueOrDefault((tenant ?? "", subscriptionId));
}
