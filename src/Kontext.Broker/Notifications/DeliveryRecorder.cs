using System.Threading.Channels;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Writes one tenant's delivery outcomes to its store in batches: whatever the workers reported while the previous batch
/// was being written goes in the next, one <see cref="INotificationStore.RecordDeliveriesAsync"/> (one transaction on
/// SQLite) for all of them. A worker does not wait for its record: the next notification of its subscription goes out
/// meanwhile. Records keep the order they were reported in, so a subscription's are never committed out of order; a
/// crash before the commit leaves the delivered message in the outbox, sent again after the restart (at-least-once, D5).
/// </summary>
internal sealed class DeliveryRecorder
{
    private const int MaxBatch = 2000;
    private readonly Channel<(DeliveryRecord Record, Action<bool> Recorded)> _pending =
        Channel.CreateUnbounded<(DeliveryRecord, Action<bool>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ITenantStore _store;
    private readonly ILogger _logger;

    public DeliveryRecorder(ITenantStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
        Completion = Task.Run(RunAsync);
    }

    public Task Completion { get; }

    /// <summary>Queues the record; <paramref name="recorded"/> runs once it is committed (true) or could not be (false).</summary>
    public void Add(DeliveryRecord record, Action<bool> recorded)
    {
        if (!_pending.Writer.TryWrite((record, recorded))) recorded(false);
    }

    /// <summary>Writes what is queued, then ends.</summary>
    public void Complete() => _pending.Writer.TryComplete();

    private async Task RunAsync()
    {
        var batch = new List<(DeliveryRecord Record, Action<bool> Recorded)>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item)) batch.Add(item);
            var ok = true;
            try
            {
                // Not cancellable: a record that was reported is written even while the host stops.
                await _store.RecordDeliveriesAsync(batch.Select(b => b.Record).ToList(), CancellationToken.None);
            }
            catch (Exception ex)
            {
                ok = false;
                _logger.LogError(ex, "Recording {Count} notification deliveries failed; the messages stay in the outbox", batch.Count);
            }
            foreach (var (_, recorded) in batch) recorded(ok);
        }
    }
}
