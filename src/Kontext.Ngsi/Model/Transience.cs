using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>
/// Transient entities and attributes (clause 4.22): an entity or an attribute instance with an expiresAt stops existing
/// at that instant. Reads and writes see the current state through <see cref="Visible"/>, so an expired resource is gone
/// the moment it expires; the reaper then removes it from the store (<see cref="Reap"/>). The history of an expired
/// entity stays; an expired instance was transient from the start, and so is its history.
/// </summary>
public static class Transience
{
    /// <summary>In a patch, the expiresAt that makes an entity durable again (NGSI-LD Null in the request).</summary>
    public static readonly DateTimeOffset Never = DateTimeOffset.MaxValue;

    /// <summary>The entity's expiresAt after a patch carrying <paramref name="patched"/> (null: the patch names none).</summary>
    public static DateTimeOffset? Apply(DateTimeOffset? current, DateTimeOffset? patched) =>
        patched is null ? current : patched == Never ? null : patched;

    /// <summary>
    /// The entity as it exists at <paramref name="now"/>: null when it has expired, else itself without its expired
    /// attribute instances (a copy when some expired, the same object otherwise).
    /// </summary>
    public static Entity? Visible(Entity? entity, DateTimeOffset now)
    {
        if (entity is null || entity.ExpiresAt <= now) return null;
        if (!HasExpiredInstance(entity, now)) return entity;
        var copy = entity.Clone();
        foreach (var (name, instance) in ExpiredInstances(copy, now).ToList()) Remove(copy, name, instance);
        return copy;
    }

    /// <summary>
    /// The stored view as it exists at <paramref name="now"/>: null when the entity has expired. Only the entity's own
    /// expiresAt is looked at: a view with <see cref="StoredEntity.HasTransientInstance"/> goes the <see cref="Entity"/>
    /// way instead, where <see cref="Visible(Entity?, DateTimeOffset)"/> drops the instances that expired.
    /// </summary>
    public static StoredEntity? Visible(StoredEntity? entity, DateTimeOffset now) => entity is null || entity.ExpiresAt <= now ? null : entity;

    // Every read asks this of every entity it returns: plain loops, no enumerator or closure per attribute.
    private static bool HasExpiredInstance(Entity entity, DateTimeOffset now)
    {
        foreach (var instances in entity.Attributes.Values)
        {
            foreach (var instance in instances)
                if (ExpiresAt(instance) <= now) return true;
        }
        return false;
    }

    /// <summary>The attribute instances of <paramref name="entity"/> whose expiresAt has passed.</summary>
    public static IEnumerable<(string Attribute, JsonObject Instance)> ExpiredInstances(Entity entity, DateTimeOffset now) =>
        entity.Attributes.SelectMany(a => a.Value.Where(i => ExpiresAt(i) <= now).Select(i => (a.Key, i)));

    /// <summary>The next instant something of the entity expires; null when nothing of it is transient.</summary>
    public static DateTimeOffset? NextExpiry(Entity entity)
    {
        var next = entity.ExpiresAt;
        foreach (var instance in entity.Attributes.Values.SelectMany(i => i))
        {
            if (ExpiresAt(instance) is { } at && (next is null || at < next)) next = at;
        }
        return next;
    }

    /// <summary>
    /// What the reaper removes from the stored entity at <paramref name="now"/>: the whole entity when it expired (no
    /// deletion markers: its history stays as it was), else its expired instances (returned, for their history to be
    /// purged) with no change recorded, since nobody changed them.
    /// </summary>
    public static (Storage.EntityWrite<bool> Write, IReadOnlyList<(string Attribute, string? DatasetId)> Removed) Reap(Entity? entity, DateTimeOffset now)
    {
        if (entity is null) return (Storage.EntityWrite<bool>.Nothing(false), []);
        if (entity.ExpiresAt <= now) return (Storage.EntityWrite<bool>.Expire(true), []);
        var expired = ExpiredInstances(entity, now).ToList();
        if (expired.Count == 0) return (Storage.EntityWrite<bool>.Nothing(false), []);
        foreach (var (name, instance) in expired) Remove(entity, name, instance);
        return (Storage.EntityWrite<bool>.Upsert(entity, [], true), expired.Select(e => (e.Attribute, Attr.DatasetId(e.Instance))).ToList());
    }

    /// <summary>The expiresAt of an attribute instance; null when it has none (or none that reads as a date-time).</summary>
    public static DateTimeOffset? ExpiresAt(JsonObject instance) =>
        instance["expiresAt"] is JsonValue v && v.TryGetValue<string>(out var text) && Validate.TryParseDateTime(text, out var at) ? at : null;

    private static void Remove(Entity entity, string name, JsonObject instance)
    {
        var instances = entity.Attributes[name];
        instances.Remove(instance);
        if (instances.Count == 0) entity.Attributes.Remove(name);
    }
}
