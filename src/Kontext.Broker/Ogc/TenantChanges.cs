using System.Collections.Concurrent;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Ogc;

/// <summary>
/// When something derived from a tenant's data (its collections, their extents) may be reused: until the tenant's next
/// commit in this process. Over a store shared by several processes their commits are not seen here, so a result is then
/// reused for <see cref="SharedStoreReuse"/> at most.
/// </summary>
internal sealed class TenantChanges
{
    public static readonly TimeSpan SharedStoreReuse = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);
    private readonly bool _shared;
    private readonly TimeProvider _clock;

    public TenantChanges(IEntityStorage storage, TimeProvider clock)
    {
        _shared = storage.SharedByProcesses;
        _clock = clock;
        storage.Committed += tenant => _generations.AddOrUpdate(tenant ?? "", 1, (_, g) => g + 1);
    }

    /// <summary>The tenant's state now; take it before reading the data the result is computed from.</summary>
    public Stamp Now(string? tenant) => new(_generations.GetValueOrDefault(tenant ?? ""), _clock.GetUtcNow());

    public bool IsCurrent(string? tenant, Stamp stamp) =>
        stamp.Generation == _generations.GetValueOrDefault(tenant ?? "") && (!_shared || _clock.GetUtcNow() - stamp.At < SharedStoreReuse);

    public readonly record struct Stamp(long Generation, DateTimeOffset At);
}
