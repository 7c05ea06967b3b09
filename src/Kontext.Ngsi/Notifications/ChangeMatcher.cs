using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Notifications;

/// <summary>What one committed write did to an entity, attribute by attribute.</summary>
public sealed record EntityChange(Entity? Before, Entity? After)
{
    public bool IsCreation => Before is null && After is not null;
    public bool IsDeletion => After is null;

    /// <summary>Attributes present after but not before.</summary>
    public IReadOnlySet<string> Created { get; } = Diff(After, Before);

    /// <summary>Attributes present before but not after.</summary>
    public IReadOnlySet<string> Deleted { get; } = Diff(Before, After);

    /// <summary>Attributes present in both whose instances differ (a rewrite with the same value still changes modifiedAt).</summary>
    public IReadOnlySet<string> Updated { get; } = Changed(Before, After);

    private static HashSet<string> Diff(Entity? a, Entity? b) =>
        a is null ? [] : a.Attributes.Keys.Where(k => b is null || !b.Attributes.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);

    private static HashSet<string> Changed(Entity? before, Entity? after)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (before is null || after is null) return changed;
        foreach (var (name, instances) in after.Attributes)
        {
            if (!before.Attributes.TryGetValue(name, out var old)) continue;
            if (old.Count != instances.Count || old.Zip(instances).Any(p => !JsonNode.DeepEquals(p.First, p.Second))) changed.Add(name);
        }
        return changed;
    }
}

/// <summary>
/// Decides whether a change triggers a subscription (clause 5.8 / 4.x notification behaviour): the trigger kinds,
/// watchedAttributes, and the subscription's entity filter (entities, q, geoQ, scopeQ) evaluated with the same
/// evaluator as queries, on the entity after the change (before it, for a deletion).
/// </summary>
public static class ChangeMatcher
{
    public static bool Triggers(Subscription subscription, EntityChange change)
    {
        var triggers = subscription.Triggers;
        var watched = subscription.WatchedAttributes;
        bool Watched(IReadOnlySet<string> attributes) => attributes.Count > 0 && (watched is null || attributes.Any(watched.Contains));

        bool fired;
        if (change.IsDeletion) fired = triggers.Contains(NotificationTrigger.EntityDeleted);
        else if (change.IsCreation)
            fired = triggers.Contains(NotificationTrigger.EntityCreated) && (watched is null || change.Created.Any(watched.Contains))
                    || triggers.Contains(NotificationTrigger.AttributeCreated) && Watched(change.Created);
        else
            fired = triggers.Contains(NotificationTrigger.EntityUpdated) && Watched(change.Created.Concat(change.Updated).Concat(change.Deleted).ToHashSet())
                    || triggers.Contains(NotificationTrigger.AttributeCreated) && Watched(change.Created)
                    || triggers.Contains(NotificationTrigger.AttributeUpdated) && Watched(change.Updated)
                    || triggers.Contains(NotificationTrigger.AttributeDeleted) && Watched(change.Deleted);
        if (!fired) return false;
        var subject = change.After ?? change.Before;
        return subject is not null && EntityMatcher.Matches(subject, subscription.Filter);
    }
}
