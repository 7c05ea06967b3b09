using System.Collections.Immutable;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Notifications;

/// <summary>
/// The subscriptions (entity and registration subscriptions alike, by their outbox key) whose pending notifications this
/// process withdrew lately: deleted, or paused (isActive false). Once DELETE or the PATCH has answered, none of the
/// notifications made before it is sent any more. The write removes them from the outbox in the store, but the dispatcher
/// may hold some it read and confirmed before: it asks here, with no store round trip, just before each attempt goes out.
/// Only the messages made before the withdrawal are covered, so a subscription created again with the same id, or made
/// active again, notifies as usual from then on. A delivery already on the wire cannot be recalled.
/// Bounded: the oldest are forgotten first, by which time the store's removal has long reached every reader.
/// Every notification asks and withdrawals are rare, so a question takes no lock: a withdrawal publishes a new immutable map.
/// </summary>
internal sealed class WithdrawnSubscriptions
{
    private const int Capacity = 10_000;
    private readonly Queue<(string Tenant, string Key)> _order = new(); // guarded by itself; the map is replaced under the same lock
    private volatile ImmutableDictionary<(string Tenant, string Key), DateTimeOffset> _withdrawnAt = ImmutableDictionary<(string, string), DateTimeOffset>.Empty;

    /// <summary>Called once the deletion or the pause committed, before it is answered.</summary>
    public void Withdrawn(string? tenant, string outboxKey)
    {
        var key = (tenant ?? "", outboxKey);
        lock (_order)
        {
            var map = _withdrawnAt;
            if (!map.ContainsKey(key)) _order.Enqueue(key);
            map = map.SetItem(key, DateTimeOffset.UtcNow);
            if (_order.Count > Capacity) map = map.Remove(_order.Dequeue());
            _withdrawnAt = map;
        }
    }

    /// <summary>True when the message's subscription was deleted or paused after the message was made: it must not be sent.</summary>
    public bool Covers(string? tenant, OutboxMessage message)
    {
        var map = _withdrawnAt;
        return map.Count > 0 && map.TryGetValue((tenant ?? "", message.SubscriptionId), out var at) && message.CreatedAt <= at;
    }
}
