namespace Kontext.Ngsi.Notifications;

/// <summary>
/// How one subscription's matched changes, in commit order, are carried by notifications: a notification's `data` holds
/// the changed entities (clause 5.8.6: "all the subscribed Entities that changed"), so changes of different entities
/// share one, up to a cap. A second change of an entity already in it starts the next notification: one notification
/// never carries two states of one entity, and the receiver sees every change in commit order.
/// </summary>
public static class NotificationBatches
{
    public static List<List<EntityChange>> Split(IReadOnlyList<EntityChange> changes, int maxEntities)
    {
        var cap = Math.Max(1, maxEntities);
        var batches = new List<List<EntityChange>>();
        var current = new List<EntityChange>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            var id = (change.After ?? change.Before)?.Id ?? throw new ArgumentException("a change has an entity before or after it", nameof(changes));
            if (current.Count == cap || ids.Contains(id))
            {
                batches.Add(current);
                current = [];
                ids.Clear();
            }
            current.Add(change);
            ids.Add(id);
        }
        if (current.Count > 0) batches.Add(current);
        return batches;
    }
}
