using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// The write decisions of clause 5.6, one per operation, in the shape <see cref="ITenantStore.WriteAsync{T}"/> takes.
/// Each decision sees the entity as it exists now (an expired one is gone, clause 4.22), answers ResourceNotFound when
/// the operation needs an entity that is not there (or lacks every type in <c>anyType</c>, the request's type filter),
/// and never changes the caller's input: a store may run a decision more than once (optimistic retries), so the input is
/// read, and copied where the new state keeps it (create, replace, upsert). The entity a decision is given is the store's
/// own fresh copy, which the decision may change in place; the operations replace an instance they change, never edit
/// one (<see cref="EntityWrite{T}.ReplacesInstances"/>).
/// </summary>
public static class EntityWrites
{
    /// <summary>Create Entity (5.6.1): AlreadyExists when it exists. The result is true.</summary>
    /// <param name="handedOver">The caller does not read <paramref name="entity"/> after the write (see <see cref="Kept"/>).</param>
    public static Func<Entity?, EntityWrite<bool>> Create(Entity entity, bool handedOver = false)
    {
        var kept = new Kept(entity, handedOver);
        return current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            if (Transience.Visible(current, operations.Now) is not null)
                throw new NgsiException(NgsiError.AlreadyExists($"The entity '{entity.Id}' already exists"));
            return Replaced(operations.Create(kept.Take()), operations.Changes, true);
        };
    }

    /// <summary>
    /// Upsert (5.6.8, Batch Upsert and the vendor adapters): create when new; else replace the entity keeping createdAt,
    /// or (<paramref name="update"/>) append its attributes overwriting those it has. The result is true when created.
    /// </summary>
    /// <param name="handedOver">The caller does not read <paramref name="entity"/> after the write (see <see cref="Kept"/>).</param>
    public static Func<Entity?, EntityWrite<bool>> Upsert(Entity entity, bool update, bool handedOver = false)
    {
        var kept = new Kept(entity, handedOver);
        return current =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            current = Transience.Visible(current, operations.Now);
            if (current is null) return Replaced(operations.Create(kept.Take()), operations.Changes, true);
            if (update)
            {
                operations.Append(current, entity, noOverwrite: false);
                return Replaced(current, operations.Changes, false);
            }
            return Replaced(operations.Replace(current, kept.Take()), operations.Changes, false);
        };
    }

    /// <summary>
    /// The entity a create or replace keeps as the new state (the operation stamps its times on it). A copy by default,
    /// so the caller's input is never changed. A caller that hands its entity over (a request's own parsed body, not read
    /// after the write) saves the copy, ~15 % of a create's allocations: the decision's first run keeps the entity itself,
    /// a later run (a store's retry) a copy of it, whose times the operation stamps anew as on a fresh one.
    /// </summary>
    internal sealed class Kept(Entity entity, bool handedOver)
    {
        private int _runs;

        public Entity Take() => handedOver && Interlocked.Increment(ref _runs) == 1 ? entity : entity.Clone();
    }

    /// <summary>Replace Entity (5.6.18): everything but id and createdAt comes from <paramref name="replacement"/>.</summary>
    public static Func<Entity?, EntityWrite<bool>> Replace(string id, Entity replacement, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
            Replaced(operations.Replace(current, replacement.Clone()), operations.Changes, true));

    /// <summary>Merge Entity (5.6.17).</summary>
    public static Func<Entity?, EntityWrite<bool>> Merge(string id, Entity patch, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
        {
            operations.Merge(current, patch);
            return Replaced(current, operations.Changes, true);
        });

    /// <summary>Append Entity Attributes (5.6.3; Batch Update, 5.6.9, per entity).</summary>
    public static Func<Entity?, EntityWrite<UpdateResult>> Append(string id, Entity fragment, bool noOverwrite, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
        {
            var outcome = operations.Append(current, fragment, noOverwrite);
            return Replaced(current, operations.Changes, outcome);
        });

    /// <summary>Update Entity Attributes (5.6.2): nothing is written when nothing was updated, no type added and no expiresAt given.</summary>
    /// <param name="handedOver">The caller does not read <paramref name="fragment"/> after the write (see <see cref="Kept"/>): its instances become the entity's.</param>
    public static Func<Entity?, EntityWrite<UpdateResult>> UpdateAttributes(string id, Entity fragment, IReadOnlyCollection<string>? anyType = null, bool handedOver = false)
    {
        var kept = handedOver ? new Kept(fragment, handedOver: true) : null;
        return Existing(id, anyType, (current, operations) =>
        {
            var addsTypes = !fragment.Types.All(current.Types.Contains);
            var outcome = kept is null ? operations.Update(current, fragment) : operations.Update(current, kept.Take(), ownsFragment: true);
            return outcome.Updated.Count == 0 && !addsTypes && fragment.ExpiresAt is null
                ? EntityWrite<UpdateResult>.Nothing(outcome)
                : Replaced(current, operations.Changes, outcome);
        });
    }

    /// <summary>Partial Attribute Update (5.6.4).</summary>
    public static Func<Entity?, EntityWrite<bool>> PartialUpdate(string id, string attribute, JsonObject fragment, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
        {
            operations.PartialUpdate(current, attribute, fragment);
            return Replaced(current, operations.Changes, true);
        });

    /// <summary>Replace Attribute (5.6.19).</summary>
    public static Func<Entity?, EntityWrite<bool>> ReplaceAttribute(string id, string attribute, JsonObject replacement, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
        {
            operations.ReplaceAttribute(current, attribute, replacement);
            return Replaced(current, operations.Changes, true);
        });

    /// <summary>Delete Attribute (5.6.5); the attribute "scope" removes the entity's scopes (ResourceNotFound when it has none).</summary>
    public static Func<Entity?, EntityWrite<bool>> DeleteAttribute(string id, string attribute, string? datasetId, bool deleteAll, IReadOnlyCollection<string>? anyType = null) =>
        Existing(id, anyType, (current, operations) =>
        {
            if (attribute == "scope")
            {
                if (current.Scopes is not { Count: > 0 }) throw NgsiException.NotFound("The entity has no scope");
                current.Scopes = null;
                current.ModifiedAt = operations.Now;
            }
            else operations.DeleteAttribute(current, attribute, datasetId, deleteAll);
            return Replaced(current, operations.Changes, true);
        });

    /// <summary>
    /// Delete Attribute from Temporal Representation (5.6.13), the current-state half: removes the attribute when the
    /// entity has it, else writes nothing (false); whether anything was found is decided with the history purge.
    /// </summary>
    public static Func<Entity?, EntityWrite<bool>> DeleteAttributeIfPresent(string attribute, string? datasetId, bool deleteAll) => current =>
    {
        if (current?.Attributes.GetValueOrDefault(attribute) is null || (!deleteAll && current.FindInstance(attribute, datasetId) is null))
            return EntityWrite<bool>.Nothing(false);
        var operations = new EntityOperations(DateTimeOffset.UtcNow);
        operations.DeleteAttribute(current, attribute, datasetId, deleteAll);
        return Replaced(current, operations.Changes, true);
    };

    /// <summary>
    /// Create or Update Temporal Representation (5.6.11), or with <paramref name="mustExist"/> Add Attributes to it
    /// (5.6.12, ResourceNotFound without the entity): the instances go into the history, the current state takes the
    /// latest (<see cref="TemporalWrites"/>). The result is true when the entity was created.
    /// </summary>
    public static Func<Entity?, EntityWrite<bool>> AddTemporalInstances(TemporalEntityInput input, bool mustExist) => current =>
    {
        if (current is null && mustExist) throw NotFound(input.Id);
        var created = current is null;
        var (after, changes) = TemporalWrites.Apply(current, input, DateTimeOffset.UtcNow);
        return Replaced(after, changes, created);
    };

    /// <summary>
    /// Delete Entity (5.6.6; Batch Delete, 5.6.10, per entity). <paramref name="absentIsNothing"/>: a missing entity
    /// writes nothing (false) instead of ResourceNotFound (the entity was deleted at a context source).
    /// </summary>
    public static Func<Entity?, EntityWrite<bool>> Delete(string id, IReadOnlyCollection<string>? anyType = null, bool absentIsNothing = false) => current =>
    {
        current = Transience.Visible(current, DateTimeOffset.UtcNow);
        if (current is null || !HasAnyType(current, anyType))
            return absentIsNothing ? EntityWrite<bool>.Nothing(false) : throw NotFound(id);
        return EntityWrite<bool>.Delete(true);
    };

    /// <summary>
    /// Purge Entities (5.6.21) per entity: deletes it, or with <paramref name="keep"/> or <paramref name="drop"/> only the
    /// attributes they select. An entity already gone, or left as it was, writes nothing (false).
    /// </summary>
    public static Func<Entity?, EntityWrite<bool>> Purge(IReadOnlySet<string>? keep, IReadOnlySet<string>? drop) => current =>
    {
        if (current is null) return EntityWrite<bool>.Nothing(false);
        if (keep is null && drop is null) return EntityWrite<bool>.Delete(true);
        var doomed = current.Attributes.Keys.Where(name => keep is not null ? !keep.Contains(name) : drop!.Contains(name)).ToList();
        if (doomed.Count == 0) return EntityWrite<bool>.Nothing(false);
        var operations = new EntityOperations(DateTimeOffset.UtcNow);
        foreach (var name in doomed) operations.DeleteAttribute(current, name, null, deleteAll: true);
        return Replaced(current, operations.Changes, true);
    };

    /// <summary>The new state of an operation of <see cref="EntityOperations"/> or <see cref="TemporalWrites"/>: both replace the instances they change.</summary>
    private static EntityWrite<T> Replaced<T>(Entity after, IReadOnlyList<AttributeChange> changes, T result) =>
        EntityWrite<T>.Upsert(after, changes, result) with { ReplacesInstances = true };

    /// <summary>The decision of an operation on an existing entity: visible now and of a requested type, or ResourceNotFound.</summary>
    private static Func<Entity?, EntityWrite<T>> Existing<T>(string id, IReadOnlyCollection<string>? anyType, Func<Entity, EntityOperations, EntityWrite<T>> apply) => current =>
    {
        var operations = new EntityOperations(DateTimeOffset.UtcNow);
        current = Transience.Visible(current, operations.Now);
        if (current is null || !HasAnyType(current, anyType)) throw NotFound(id);
        return apply(current, operations);
    };

    private static bool HasAnyType(Entity entity, IReadOnlyCollection<string>? anyType) =>
        anyType is not { Count: > 0 } || anyType.Any(entity.Types.Contains);

    private static NgsiException NotFound(string id) => NgsiException.NotFound($"The entity '{id}' does not exist");
}
