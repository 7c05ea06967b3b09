using System.Diagnostics.Metrics;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Operations.Metrics;

/// <summary>
/// kontext.entities{tenant}: the number of entities per tenant, read from the store's type statistics (the counts /types
/// shows) when a collector asks, and reused for Kontext:Metrics:EntityCountInterval. Nothing is counted on the write
/// path. At most Kontext:Metrics:EntityCountTenants tenants are reported, so a broker with many tenants is not opened
/// tenant by tenant on every scrape.
/// </summary>
internal sealed class EntityCounts : IDisposable
{
    public const string DefaultTenantLabel = "urn:ngsi-ld:tenant:default";
    private readonly IEntityStorage _storage;
    private readonly MetricsOptions _options;
    private readonly ILogger<EntityCounts> _logger;
    private readonly object _gate = new();
    private IReadOnlyList<(string Tenant, long Count)> _snapshot = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private Task? _reading;

    public EntityCounts(IEntityStorage storage, IOptions<KontextOptions> options, ILogger<EntityCounts> logger)
    {
        _storage = storage;
        _options = options.Value.Metrics;
        _logger = logger;
        lock (Live) Live.Add(this);
        _ = Gauge;
    }

    // One instrument for the process, observing every broker in it (one in production; the tests run several). An
    // instrument per broker would be a duplicate to the exporters, which keep only the first.
    private static readonly List<EntityCounts> Live = [];
    private static readonly ObservableGauge<long> Gauge = KontextMeters.Meter.CreateObservableGauge("kontext.entities", ObserveAll, "{entity}",
        "Entities per tenant, from the store's type statistics (refreshed at most every Kontext:Metrics:EntityCountInterval; an entity of several types counts once per type)");

    private static IEnumerable<Measurement<long>> ObserveAll()
    {
        EntityCounts[] live;
        lock (Live) live = Live.ToArray();
        return live.SelectMany(counts => counts.Observe()).ToList();
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        if (_options.EntityCountTenants <= 0) return [];
        Task? reading;
        lock (_gate)
        {
            if (_reading is null && DateTimeOffset.UtcNow - _readAt >= _options.EntityCountInterval) _reading = Task.Run(ReadAsync);
            reading = _reading;
        }
        // A collector waits a little for fresh counts; a slow store does not hold the scrape: the last counts are served.
        reading?.Wait(TimeSpan.FromSeconds(2));
        return _snapshot.Select(c => new Measurement<long>(c.Count, new KeyValuePair<string, object?>("tenant", c.Tenant))).ToList();
    }

    private async Task ReadAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var counts = new List<(string, long)>();
            foreach (var tenant in (await _storage.ListTenantsAsync(timeout.Token)).Take(_options.EntityCountTenants))
            {
                if (await _storage.GetTenantAsync(tenant, create: false, timeout.Token) is not { } store) continue;
                var types = await store.ListTypesAsync(timeout.Token);
                counts.Add((tenant ?? DefaultTenantLabel, types.Sum(t => t.EntityCount)));
            }
            _snapshot = counts;
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Reading entity counts for the metrics failed; the last counts are reported");
        }
        finally
        {
            lock (_gate)
            {
                _readAt = DateTimeOffset.UtcNow;
                _reading = null;
            }
        }
    }

    public void Dispose()
    {
        lock (Live) Live.Remove(this);
    }
}
