using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// The upsert write decision (clause 5.6.8), shared by Batch Upsert and the vendor adapters: create when new; else
/// replace the entity keeping createdAt, or (update) append its attributes overwriting those it has.
/// The result is true when the entity was created.
/// </summary>
public static class EntityUpsert
{
    public static EntityWrite<bool> Decide(Entity? current, Entity entity, bool update)
    {
        var operations = new EntityOperations(DateTimeOffset.UtcNow);
        current = Transience.Visible(current, operations.Now); // an expired entity is gone (clause 4.22)
        var copy = entity.Clone(); // decide may run again (optimistic stores): never change the caller's entity
        if (current is null) return EntityWrite<bool>.Upsert(operations.Create(copy), operations.Changes, true);
        if (update)
        {
            operations.Append(current, copy, noOverwrite: false);
            return EntityWrite<bool>.Upsert(current, operations.Changes, false);
        }
        return EntityWrite<bool>.Upsert(operations.Replace(current, copy), operations.Changes, false);
    }
}
