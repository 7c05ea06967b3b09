using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Notifications;

/// <summary>
/// The subscriptions (entity and registration subscriptions alike, by their outbox key) this process deleted lately,
/// so that once DELETE has answered 204 none of their notifications is sent any more. The deletion removes the pending
/// outbox messages in the store, but the dispatcher may hold some it read and confirmed before: it asks here, with no
/// store round trip, just before each attempt goes out. Only the messages made before the deletion are covered, so a
/// subscription created again with the same id notifies as usual. A delivery already on the wire cannot be recalled.
/// Bounded: the oldest are forgotten first, by which time the store's deletion has long reached every reader.
/// </summary>
internal sealed class DeletedSubscriptions
{
    private const int Capacity = 10_000;
    private readonly Dictionary<(string Tenant, string Key), DateTimeOffset> _deletedAt = [];
    private readonly Queue<(string Tenant, string Key)> _order = new();

    /// <summary>Called once the deletion committed, before it is answered.</summary>
    public void Deleted(string? tenant, string outboxKey)
    {
        var key = (tenant ?? "", outboxKey);
        lock (_deletedAt)
        {
            if (_deletedAt.TryAdd(key, DateTimeOffset.UtcNow)) _order.Enqueue(key);
            else _deletedAt[key] = DateTimeOffset.UtcNow;
            if (_order.Count > Capacity) _deletedAt.Remove(_order.Dequeue());
        }
    }

    /// <summary>True when the message's subscription was deleted after the message was made: it must not be sent.</summary>
    public bool Covers(string? tenant, OutboxMessage message)
    {
        lock (_deletedAt)
            return _deletedAt.TryGetValue((tenant ?? "", message.SubscriptionId), out var at) && message.CreatedAt <= at;
    }
}
