using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Ngsi.Notifications;

/// <summary>
/// What one committed write did to an entity, instance by instance (an instance is an attribute's value for one
/// datasetId, clause 4.5.5). <see cref="At"/> is when the write committed (the deletion time of what it deleted).
/// </summary>
public sealed record EntityChange(Entity? Before, Entity? After, DateTimeOffset? At = null)
{
    public bool IsCreation => Before is null && After is not null;
    public bool IsDeletion => After is null;

    /// <summary>Attributes with an instance (a datasetId) present after but not before.</summary>
    public IReadOnlySet<string> Created { get; } = WithInstancesMissing(After, Before);

    /// <summary>Attributes with an instance present before but not after.</summary>
    public IReadOnlySet<string> Deleted { get; } = WithInstancesMissing(Before, After);

    /// <summary>Attributes with an instance present in both that differs (a rewrite with the same value still changes modifiedAt).</summary>
    public IReadOnlySet<string> Updated { get; } = Changed(Before, After);

    /// <summary>The change seen through a datasetId selection: instances of other datasets neither trigger nor show.</summary>
    public EntityChange Select(IReadOnlySet<string>? datasetIds) => datasetIds is null
        ? this
        : new EntityChange(Before is null ? null : DatasetSelection.Apply(Before, datasetIds), After is null ? null : DatasetSelection.Apply(After, datasetIds), At);

    private static HashSet<string> WithInstancesMissing(Entity? a, Entity? b)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (a is null) return names;
        foreach (var (name, instances) in a.Attributes)
        {
            if (b is null || !b.Attributes.ContainsKey(name) || instances.Any(i => b.FindInstance(name, Attr.DatasetId(i)) is null)) names.Add(name);
        }
        return names;
    }

    private static HashSet<string> Changed(Entity? before, Entity? after)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        if (before is null || after is null) return changed;
        foreach (var (name, instances) in after.Attributes)
        {
            if (!before.Attributes.ContainsKey(name)) continue;
            foreach (var instance in instances)
            {
                if (before.FindInstance(name, Attr.DatasetId(instance)) is { } old && !JsonNode.DeepEquals(old, instance))
                {
                    changed.Add(name);
                    break;
                }
            }
        }
        return changed;
    }
}

/// <summary>
/// Decides whether a change triggers a subscription (clause 5.8 / 4.x notification behaviour): the trigger kinds,
/// watchedAttributes, and the subscription's entity filter (entities, q, geoQ, scopeQ) evaluated with the same
/// evaluator as queries, on the entity after the change (before it, for a deletion). The change is the one the caller
/// selected for the subscription's datasetIds (<see cref="EntityChange.Select"/>).
/// </summary>
public static class ChangeMatcher
{
    public static bool Triggers(Subscription subscription, EntityChange change)
    {
        var triggers = subscription.Triggers;
        var watched = subscription.WatchedAttributes;
        bool Watched(IReadOnlySet<string> attributes) => attributes.Count > 0 && (watched is null || attributes.Any(watched.Contains));

        bool fired;
        if (change.IsDeletion)
            fired = change.Before is not null
                    && (triggers.Contains(NotificationTrigger.EntityDeleted) || triggers.Contains(NotificationTrigger.AttributeDeleted) && Watched(change.Deleted));
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
