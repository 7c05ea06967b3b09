using Kontext.Ngsi.Storage;

namespace Kontext.Adapters;

/// <summary>
/// Finds the adapters' state of a tenant: the <see cref="IAdapterStore"/> facet of the tenant's own store, so it follows the
/// configured provider (a SQLite file per tenant, or the tenant's MongoDB database shared by every instance).
/// </summary>
public sealed class AdapterStores(IEntityStorage storage)
{
    /// <summary>The tenant's adapter state; null when the tenant does not exist and <paramref name="create"/> is false.</summary>
    public async ValueTask<IAdapterStore?> ForAsync(string? tenant, bool create, CancellationToken cancellationToken) =>
        await storage.GetTenantAsync(tenant, create, cancellationToken) switch
        {
            null => null,
            { Adapters: { } adapters } => adapters,
            var other => throw new InvalidOperationException($"The store {other.GetType().Name} keeps no adapter state"),
        };

    /// <summary>The tenant's adapter state, created with the tenant when needed (ingest always writes somewhere).</summary>
    public async ValueTask<IAdapterStore> CreateAsync(string? tenant, CancellationToken cancellationToken) =>
        await ForAsync(tenant, create: true, cancellationToken) ?? throw new InvalidOperationException($"tenant '{tenant}' could not be created");
}
