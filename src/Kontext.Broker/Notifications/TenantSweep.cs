using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Which tenants the matcher or the dispatcher looks at in a round: the ones signalled since the last round and the
/// ones with known work, plus every tenant on the first round and then every <see cref="NotificationOptions.SweepInterval"/>
/// (on a store shared with other processes, every <see cref="NotificationOptions.PollInterval"/>: their writes raise no
/// signal here). A broker with thousands of idle tenants thus keeps them closed.
/// </summary>
internal sealed class TenantSweep(IEntityStorage storage, NotificationOptions options)
{
    private long _lastFullSweep = long.MinValue;

    /// <summary>The last <see cref="SelectAsync"/> returned every tenant.</summary>
    public bool WasFull { get; private set; }

    public async Task<IReadOnlyList<string?>> SelectAsync(IEnumerable<string?> signalled, IEnumerable<string?> withWork, CancellationToken cancellationToken)
    {
        var interval = storage.SharedByProcesses ? options.PollInterval : options.SweepInterval;
        var now = Environment.TickCount64;
        WasFull = _lastFullSweep == long.MinValue || now - _lastFullSweep >= (long)interval.TotalMilliseconds;
        if (WasFull)
        {
            _lastFullSweep = now;
            return await storage.ListTenantsAsync(cancellationToken);
        }
        var selected = new List<string?>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tenant in signalled.Concat(withWork))
            if (seen.Add(tenant ?? "")) selected.Add(tenant);
        return selected;
    }
}
