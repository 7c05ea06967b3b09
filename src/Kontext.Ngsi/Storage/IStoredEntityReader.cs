using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// A store that can hand out an entity as a view over its stored document (<see cref="StoredEntity"/>), for a plain
/// Retrieve Entity or a plain query page that renders it without building the <see cref="Entity"/>. Optional: a store
/// without it is read through <see cref="IEntityStore.GetEntityAsync"/> and <see cref="IEntityStore.QueryAsync"/>.
/// </summary>
public interface IStoredEntityReader
{
    /// <summary>The entity's stored view, null when it does not exist.</summary>
    Task<StoredEntity?> GetStoredEntityAsync(string id, CancellationToken cancellationToken);

    /// <summary>The page <see cref="IEntityStore.QueryAsync"/> gives (same entities, order and count), as stored views.</summary>
    Task<StoredEntityPage> QueryStoredAsync(EntityPageRequest request, CancellationToken cancellationToken);
}
