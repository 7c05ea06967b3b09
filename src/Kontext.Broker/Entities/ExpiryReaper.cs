using System.Collections.Concurrent;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Entities;

/// <summary>
/// Removes expired transient entities and attribute instances from the store (clause 4.22). Reads already see them gone
/// (<see cref="Transience.Visible"/>); the reaper frees what they held, within a <see cref="TransientOptions.SweepInterval"/>
/// of the expiry. It keeps, per tenant, a schedule of the transient entities: seeded by one scan of the tenant when the
/// reaper first visits it, then kept by following the tenant's change log (the writes that make something transient
/// or durable, from any operation). The log is pruned behind the matcher's durable cursor, not this in-memory one: a
/// reaper the prune has passed (a mass expiry or a burst of writes kept it away) scans the tenant again, so every process
/// sharing a store recovers by itself and none holds the log for the others. An expired entity leaves without deletion
/// markers, so its history ends where it ended; an expired instance takes its history with it, as it was transient from
/// the start.
/// </summary>
internal sealed class ExpiryReaper(IEntityStorage storage, IOptions<KontextOptions> options, ILogger<ExpiryReaper> logger) : BackgroundService
{
    private const int ChangesPerRead = 500;
    private readonly ConcurrentDictionary<string, byte> _changed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TenantSchedule> _tenants = new(StringComparer.Ordinal);

    private sealed class TenantSchedule
    {
        public long Cursor;
        public readonly SortedSet<(DateTimeOffset Due, string Id)> Due = [];
        public readonly Dictionary<string, DateTimeOffset> ByEntity = new(StringComparer.Ordinal);

        public void Set(string id, DateTimeOffset? due)
        {
            if (ByEntity.Remove(id, out var old)) Due.Remove((old, id));
            if (due is not { } at) return;
            ByEntity[id] = at;
            Due.Add((at, id));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Transient.SweepInterval;
        if (interval <= TimeSpan.Zero) return;
        storage.Committed += Changed;
        try
        {
            foreach (var tenant in await storage.ListTenantsAsync(stoppingToken)) Changed(tenant);
            while (!stoppingToken.IsCancellationRequested)
            {
                try { await Task.Delay(interval, stoppingToken); }
                catch (OperationCanceledException) { break; }
                await RoundAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            storage.Committed -= Changed;
        }
    }

    /// <summary>Marks the tenant to be followed in the next round (a commit in it, or its first visit).</summary>
    internal void Changed(string? tenant) => _changed[tenant ?? ""] = 0;

    /// <summary>One sweep: follows the change log of every tenant marked changed, then removes what is due.</summary>
    internal async Task RoundAsync(CancellationToken cancellationToken)
    {
        // Other processes' writes raise no signal here: on a shared store every tenant is followed every round.
        if (storage.SharedByProcesses) foreach (var tenant in await storage.ListTenantsAsync(cancellationToken)) Changed(tenant);
        foreach (var key in _changed.Keys.ToList())
        {
            _changed.TryRemove(key, out _);
            await GuardAsync(key, () => FollowAsync(key.Length == 0 ? null : key, cancellationToken));
        }
        foreach (var (key, schedule) in _tenants.Where(t => t.Value.Due.Count > 0).ToList())
            await GuardAsync(key, () => ReapAsync(key.Length == 0 ? null : key, schedule, cancellationToken));
    }

    private async Task GuardAsync(string key, Func<Task> work)
    {
        try
        {
            await work();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Expiring transient entities failed for tenant {Tenant}; trying again next round", key.Length == 0 ? "(default)" : key);
            _changed[key] = 0;
        }
    }

    /// <summary>
    /// Brings the tenant's schedule up to date with its change log (after seeding it with one scan). The log is read to
    /// its end, <see cref="ChangesPerRead"/> at a time: at most what the log still holds after the cursor, since a reader
    /// the prune has passed starts again from a scan and the log's end.
    /// </summary>
    private async Task FollowAsync(string? tenant, CancellationToken cancellationToken)
    {
        var store = await storage.GetTenantAsync(tenant, create: false, cancellationToken);
        if (store is null) return;
        if (!_tenants.TryGetValue(tenant ?? "", out var schedule)) _tenants[tenant ?? ""] = schedule = await ScanAsync(store, cancellationToken);
        while (true)
        {
            var changes = await store.ReadChangesAsync(schedule.Cursor, ChangesPerRead, cancellationToken);
            if (changes.Count > 0 && await MissedChangesAsync(store, schedule.Cursor, changes[0].Sequence, cancellationToken))
            {
                logger.LogWarning("The change log of tenant {Tenant} was pruned past the expiry reaper's position {Cursor}; scanning the tenant again",
                    tenant ?? "(default)", schedule.Cursor);
                _tenants[tenant ?? ""] = schedule = await ScanAsync(store, cancellationToken);
                continue;
            }
            foreach (var change in changes)
            {
                // Most writes are of durable entities: only a document naming expiresAt is read.
                var after = change.AfterJson is { } json && json.Contains("\"expiresAt\"", StringComparison.Ordinal) ? EntityJson.Deserialize(json) : null;
                schedule.Set(change.EntityId, after is null ? null : Transience.NextExpiry(after));
            }
            if (changes.Count == 0) return;
            schedule.Cursor = changes[^1].Sequence;
            if (changes.Count < ChangesPerRead) return;
        }
    }

    /// <summary>A schedule of every transient entity of the tenant now, following the log from its current end.</summary>
    private static async Task<TenantSchedule> ScanAsync(ITenantStore store, CancellationToken cancellationToken)
    {
        var schedule = new TenantSchedule();
        // Every change up to the log's end is committed before the scan reads: the scan sees its outcome, and the
        // changes after it are followed (one that the scan saw too is followed again, harmlessly).
        schedule.Cursor = await store.ReadLastChangeSequenceAsync(cancellationToken);
        await foreach (var entity in store.ReadTransientCandidatesAsync(cancellationToken))
            schedule.Set(entity.Id, Transience.NextExpiry(entity));
        return schedule;
    }

    /// <summary>
    /// Whether changes after <paramref name="cursor"/> may have been pruned before they were read, the first change read
    /// being <paramref name="first"/>. Every store prunes the log from its oldest entry up to a bound and keeps a tail
    /// behind its durable cursors, so while the log still holds an entry at or before the cursor it has lost nothing after
    /// it. Asked only when the first change is not the cursor's successor; after a hole in the sequences (a MongoDB purge
    /// takes one) with nothing before it left, the answer may be a needless yes: a scan too many, never an entity missed.
    /// </summary>
    private static async Task<bool> MissedChangesAsync(ITenantStore store, long cursor, long first, CancellationToken cancellationToken)
    {
        if (first == cursor + 1) return false;
        // Read after the changes: a prune that removed any of them before that read has passed the cursor by now.
        var oldest = await store.ReadChangesAsync(0, 1, cancellationToken);
        return oldest.Count == 0 || oldest[0].Sequence > cursor;
    }

    private async Task ReapAsync(string? tenant, TenantSchedule schedule, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var store = await storage.GetTenantAsync(tenant, create: false, cancellationToken);
        if (store is null)
        {
            _tenants.Remove(tenant ?? "");
            return;
        }
        while (schedule.Due.Count > 0 && schedule.Due.Min.Due <= now)
        {
            var id = schedule.Due.Min.Id;
            schedule.Set(id, null); // the write's change record schedules what remains transient
            IReadOnlyList<(string Attribute, string? DatasetId)> removed = [];
            await store.WriteAsync(id, current =>
            {
                var (write, gone) = Transience.Reap(current, now);
                removed = gone;
                return write;
            }, cancellationToken);
            if (removed.Count == 0 || store.History is not { } temporal) continue;
            foreach (var (attribute, datasetId) in removed)
                await temporal.WriteAndPurgeAsync(id, _ => EntityWrite<bool>.Nothing(false), new HistoryPurge(attribute, datasetId), cancellationToken);
            _changed[tenant ?? ""] = 0;
        }
    }
}
