using System.Collections.Concurrent;
using System.Threading.Channels;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Delivers the outbox (D5). Each endpoint has its own queue and worker, so one slow or unreachable receiver never
/// delays the others; within a queue, notifications go out in outbox order, and a failing one is retried with
/// exponential backoff (recorded in the store) before the next, which keeps a subscription's notifications in order.
/// Messages stay in the outbox until delivered or given up, so a restart resumes where delivery stopped. Before each
/// attempt the store confirms the message is still this dispatcher's (see <see cref="INotificationStore.RenewLeaseAsync"/>):
/// a deleted subscription's pending notifications are dropped, and on a shared store a message another process took
/// over is not sent twice. An endpoint the outbound policy refuses is not retried: the notification is given up at
/// once, and the subscription shows the reason (<see cref="DeliveryFailures"/>).
/// </summary>
internal sealed class NotificationDispatcher(
    IEntityStorage storage, IEnumerable<INotificationTransport> transports, NotificationSignal signal, DeliveryFailures failures,
    IOptions<NotificationOptions> options, ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private const int OutboxBatch = 1000;
    private readonly ConcurrentDictionary<(string Tenant, long Sequence), byte> _inFlight = new();
    private readonly ConcurrentDictionary<(string Tenant, string Endpoint), Channel<OutboxMessage>> _queues = new();
    private readonly List<Task> _workers = [];
    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var sweep = new TenantSweep(storage, options.Value);
        var backlog = new HashSet<string?>(); // tenants whose last read was a full batch: more is waiting
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var tenant in await sweep.SelectAsync(signal.TakeNotified(), backlog.ToList(), stoppingToken))
                {
                    var store = await storage.GetTenantAsync(tenant, create: false, stoppingToken);
                    if (store is null) continue;
                    var due = await store.ReadDueNotificationsAsync(DateTimeOffset.UtcNow, OutboxBatch, stoppingToken);
                    if (due.Count == OutboxBatch) backlog.Add(tenant);
                    else backlog.Remove(tenant);
                    foreach (var message in due)
                    {
                        if (_inFlight.TryAdd((tenant ?? "", message.Sequence), 0))
                        {
                            Operations.Metrics.KontextMeters.NotificationQueued();
                            Queue(store, message).Writer.TryWrite(message);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception ex)
            {
                logger.LogError(ex, "Reading the notification outbox failed; retrying");
            }
            try { await signal.WaitForNotificationsAsync(options.Value.PollInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
        foreach (var queue in _queues.Values) queue.Writer.TryComplete();
        await Task.WhenAll(_workers.ToArray()).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
    }

    private Channel<OutboxMessage> Queue(ITenantStore store, OutboxMessage message) =>
        _queues.GetOrAdd((store.Name ?? "", message.Endpoint), _ =>
        {
            var channel = Channel.CreateUnbounded<OutboxMessage>(new UnboundedChannelOptions { SingleReader = true });
            lock (_workers) _workers.Add(Task.Run(() => WorkAsync(store, channel.Reader)));
            return channel;
        });

    private async Task WorkAsync(ITenantStore store, ChannelReader<OutboxMessage> queue)
    {
        // An outbox read that overlapped a delivery can hand back a message this worker already finished (its row was
        // read before the delete committed): those are remembered for a while and skipped, not sent twice.
        var finished = new HashSet<long>();
        var finishedOrder = new Queue<long>();
        try
        {
            await foreach (var message in queue.ReadAllAsync(_stopping))
            {
                if (finished.Contains(message.Sequence))
                {
                    if (_inFlight.TryRemove((store.Name ?? "", message.Sequence), out _)) Operations.Metrics.KontextMeters.NotificationLeft();
                    continue;
                }
                finished.Add(message.Sequence);
                finishedOrder.Enqueue(message.Sequence);
                if (finishedOrder.Count > 100_000) finished.Remove(finishedOrder.Dequeue());
                try
                {
                    await DeliverWithBackoffAsync(store, message);
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    // The store could not record the attempt: the message is still in the outbox and a later read brings it back.
                    logger.LogError(ex, "Recording notification {Sequence} failed; it stays in the outbox", message.Sequence);
                    finished.Remove(message.Sequence);
                }
                finally
                {
                    if (_inFlight.TryRemove((store.Name ?? "", message.Sequence), out _)) Operations.Metrics.KontextMeters.NotificationLeft();
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
    }

    private async Task DeliverWithBackoffAsync(ITenantStore store, OutboxMessage message)
    {
        var settings = options.Value;
        var endpoint = new Uri(message.Endpoint);
        var request = NotificationRequest.Deserialize(message.Request);
        var transport = transports.FirstOrDefault(t => t.CanDeliver(endpoint));
        var attempts = message.Attempts;
        while (!_stopping.IsCancellationRequested)
        {
            var delivered = false;
            string? refusal = null;
            try
            {
                if (!await store.RenewLeaseAsync(message.Sequence, DateTimeOffset.UtcNow, _stopping))
                {
                    logger.LogInformation("Notification {Sequence} of {Subscription} left this dispatcher (subscription deleted or taken over); not sent",
                        message.Sequence, message.SubscriptionId);
                    return;
                }
                if (transport is null) throw new InvalidOperationException($"no transport for {endpoint.Scheme}");
                delivered = await transport.DeliverAsync(endpoint, request, _stopping);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                if (Outbound.OutboundRefusedException.In(ex) is { } refused)
                    refusal = $"the outbound policy does not permit the endpoint's host '{refused.Host}' (Kontext:Outbound)";
                else logger.LogInformation("Notification {Sequence} to {Endpoint} failed: {Reason}", message.Sequence, endpoint, ex.Message);
            }
            var now = DateTimeOffset.UtcNow;
            if (delivered)
            {
                failures.Succeeded(store.Name, message.SubscriptionId);
                Operations.Metrics.KontextMeters.NotificationSent(message.CreatedAt);
                await store.RecordDeliveryAsync(message.Sequence, message.SubscriptionId, DeliveryOutcome.Delivered, now, null, CancellationToken.None);
                return;
            }
            failures.Failed(store.Name, message.SubscriptionId, refusal ?? DeliveryFailures.NotAccepted);
            attempts++;
            if (transport is null || refusal is not null || now - message.CreatedAt >= settings.GiveUpAfter)
            {
                Operations.Metrics.KontextMeters.NotificationFailed(gaveUp: true);
                logger.LogWarning("Giving up notification {Sequence} of {Subscription} to {Endpoint}", message.Sequence, message.SubscriptionId, endpoint);
                await store.RecordDeliveryAsync(message.Sequence, message.SubscriptionId, DeliveryOutcome.GaveUp, now, null, CancellationToken.None);
                return;
            }
            Operations.Metrics.KontextMeters.NotificationFailed(gaveUp: false);
            var delay = TimeSpan.FromTicks(Math.Min(settings.MaxRetryDelay.Ticks, settings.RetryDelay.Ticks * (1L << Math.Min(attempts - 1, 20))));
            await store.RecordDeliveryAsync(message.Sequence, message.SubscriptionId, DeliveryOutcome.Retry, now, now + delay, CancellationToken.None);
            try { await Task.Delay(delay, _stopping); }
            catch (OperationCanceledException) { return; }
        }
    }
}
