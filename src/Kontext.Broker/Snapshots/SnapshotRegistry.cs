using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Snapshots;

/// <summary>
/// The snapshots of every tenant (clause 5.16), held in memory: a snapshot is a working copy for analysis, so it lives
/// in this process until deleted, purged, past its snapshotLifetime, or the broker restarts. Caps (D12): snapshots per
/// tenant and entities per snapshot (Kontext:Snapshots). The copy is filled in the background after the 201 (status
/// preparing, then success or failed), one page of the tenant's query at a time.
/// </summary>
internal sealed class SnapshotRegistry(IOptions<KontextOptions> options, IHostApplicationLifetime lifetime, SnapshotSources sources, ILogger<SnapshotRegistry> logger)
{
    private const int Page = 500;
    private readonly SnapshotOptions _options = options.Value.Snapshots;
    private readonly ConcurrentDictionary<(string Tenant, string Id), Snapshot> _snapshots = new();
    private readonly ConcurrentDictionary<(string Tenant, string Id), SnapshotView> _views = new();

    /// <summary>
    /// Registers a new snapshot (409 when the id is taken, 403 beyond the cap) and starts filling it from
    /// <paramref name="store"/> and the context sources registered there (<paramref name="origin"/>: who asked).
    /// </summary>
    public void Add(Snapshot snapshot, ITenantStore store, IReadOnlyList<SnapshotQuery> queries, SnapshotOrigin origin)
    {
        Register(snapshot);
        snapshot.Ready = Task.Run(() => FillAsync(snapshot, store, queries, origin, lifetime.ApplicationStopping));
    }

    /// <summary>Registers a clone: a new snapshot over the same frozen copy, once the original is filled.</summary>
    public async Task AddCloneAsync(Snapshot clone, Snapshot original)
    {
        await original.Ready;
        clone.Entities = original.Entities;
        clone.Results = original.Results;
        clone.Status = original.Status;
        Register(clone);
    }

    public Snapshot? Get(string? tenant, string id)
    {
        var key = (tenant ?? "", id);
        if (!_snapshots.TryGetValue(key, out var snapshot)) return null;
        if (!snapshot.IsExpired(DateTimeOffset.UtcNow)) return snapshot;
        Remove(tenant, id);
        return null;
    }

    public IReadOnlyList<Snapshot> List(string? tenant) =>
        _snapshots.Where(s => s.Key.Tenant == (tenant ?? "")).Select(s => Get(tenant, s.Key.Id)).OfType<Snapshot>().OrderBy(s => s.CreatedAt).ToList();

    public bool Remove(string? tenant, string id)
    {
        _views.TryRemove((tenant ?? "", id), out _);
        return _snapshots.TryRemove((tenant ?? "", id), out _);
    }

    /// <summary>The read-only store over a snapshot's copy (NGSILD-Snapshot, clause 6.3.22); marks the snapshot used. 404 when there is none.</summary>
    public async Task<ITenantStore> ViewAsync(string? tenant, string id, CancellationToken cancellationToken)
    {
        var snapshot = Get(tenant, id) ?? throw NgsiException.NotFound($"The snapshot '{id}' does not exist");
        await snapshot.Ready.WaitAsync(cancellationToken);
        snapshot.LastUsedAt = DateTimeOffset.UtcNow;
        return _views.GetOrAdd((tenant ?? "", id), _ => new SnapshotView(tenant, snapshot.Entities));
    }

    private void Register(Snapshot snapshot)
    {
        var tenant = snapshot.Tenant ?? "";
        if (_options.MaxPerTenant > 0 && _snapshots.Keys.Count(k => k.Tenant == tenant) >= _options.MaxPerTenant)
            throw new NgsiException(NgsiError.LimitExceeded(
                $"This tenant holds its maximum of {_options.MaxPerTenant} snapshots (Kontext:Snapshots:MaxPerTenant); delete or purge some first"));
        if (!_snapshots.TryAdd((tenant, snapshot.Id), snapshot))
            throw new NgsiException(NgsiError.AlreadyExists($"The snapshot '{snapshot.Id}' already exists"));
    }

    /// <summary>
    /// Runs each query (local matches in pages, then merged with the sources' answers, clause 5.16.1.4) into the copy. A
    /// query is success when it yields entities, empty when it yields none, failed when it cannot run; the snapshot is
    /// success when every query yields, partial when some do, failed when none does.
    /// </summary>
    private async Task FillAsync(Snapshot snapshot, ITenantStore store, IReadOnlyList<SnapshotQuery> queries, SnapshotOrigin origin, CancellationToken cancellationToken)
    {
        var copy = new Dictionary<string, Entity>(StringComparer.Ordinal);
        var results = new List<SnapshotQueryResult>();
        var status = Snapshot.Failed;
        try
        {
            for (var index = 0; index < queries.Count; index++)
            {
                var query = queries[index];
                var local = new List<Entity>();
                string? reason = null;
                for (var offset = 0; ; offset += Page)
                {
                    var page = await store.QueryAsync(new EntityPageRequest(query.Query, offset, Page, false, query.AnyOf), cancellationToken);
                    local.AddRange(page.Entities);
                    if (local.Count > _options.MaxEntities || page.Entities.Count < Page) break;
                }
                var found = await sources.QueryAsync(origin, (JsonObject)snapshot.QueriesJson[index]!, query, store, local, cancellationToken) ?? local;
                var matched = 0;
                var now = DateTimeOffset.UtcNow;
                foreach (var entity in found.Select(e => Transience.Visible(e, now)).OfType<Entity>())
                {
                    matched++;
                    if (copy.ContainsKey(entity.Id)) continue;
                    if (copy.Count >= _options.MaxEntities)
                    {
                        reason = $"The query matches more than the {_options.MaxEntities} entities a snapshot holds (Kontext:Snapshots:MaxEntities)";
                        break;
                    }
                    copy[entity.Id] = entity;
                }
                results.Add(new SnapshotQueryResult(reason is not null ? Snapshot.Failed : matched > 0 ? Snapshot.Success : Snapshot.Empty, matched, reason));
            }
            status = results.All(r => r.Status == Snapshot.Success) ? Snapshot.Success
                : results.Any(r => r.Status == Snapshot.Success) ? Snapshot.Partial : Snapshot.Failed;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Filling snapshot {Snapshot} failed", snapshot.Id);
            results.Add(new SnapshotQueryResult(Snapshot.Failed, 0, ex is NgsiException n ? n.Error.Detail : "The broker could not run the query"));
        }
        snapshot.Entities = copy.Values.ToList();
        snapshot.Results = results;
        snapshot.Status = status; // last: a reader seeing the final status sees the copy
    }
}
