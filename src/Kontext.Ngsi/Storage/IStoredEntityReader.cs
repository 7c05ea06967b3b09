using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// A store that can hand out an entity as a view over its stored document (<see cref="StoredEntity"/>), for a plain
/// Retrieve Entity that renders it without building the <see cref="Entity"/>. Optional: a store without it is read
/// through <see cref="IEntityStore.GetEntityAsync"/>.
/// </summary>
public interface IStoredEntityReader
{
    /// <summary>The entity's stored view, null when it does not exist.</summary>
    Task<StoredEntity?> GetStoredEntityAsync(string id, CancellationToken cancellationToken);
}
