using System.Collections.Concurrent;
using System.Threading.Channels;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Delivers the outbox (D5). Each subscription has its own queue and worker, so one slow or unreachable receiver never
/// delays the others, and neither does one subscription's failing notification (waiting for its retry) hold up another
/// subscription's to the same endpoint; within a queue, notifications go out in outbox order, and a failing one is
/// retried with exponential backoff (recorded in the store) before the next, which keeps a subscription's notifications
/// in order. A queue and its worker last as long as the queue has work.
/// Messages stay in the outbox until delivered or given up, so a restart resumes where delivery stopped. Before each
/// attempt the store confirms the message is still this dispatcher's (see <see cref="INotificationStore.RenewLeaseAsync"/>):
/// a deleted subscription's pending notifications are dropped, and on a shared store a message another process took
/// over is not sent twice. An endpoint the outbound policy refuses is not retried: the notification is given up at
/// once, and the subscription shows the reason (<see cref="DeliveryOutcomes"/>).
/// </summary>
internal sealed class NotificationDispatcher(
    IEntityStorage storage, IEnumerable<INotificationTransport> transports, NotificationSignal signal, DeliveryOutcomes outcomes,
    IOptions<NotificationOptions> options, ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private const int OutboxBatch = 1000;
    private readonly ConcurrentDictionary<(string Tenant, long Sequence), byte> _inFlight = new();
    private readonly Dictionary<(string Tenant, string Subscription), Channel<OutboxMessage>> _queues = new(); // guarded by itself
    private readonly ConcurrentDictionary<Task, byte> _workers = new();
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
                            Enqueue(store, message);
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
        lock (_queues)
            foreach (var queue in _queues.Values) queue.Writer.TryComplete();
        await Task.WhenAll(_workers.Keys.ToArray()).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
    }

    /// <summary>Puts the message in its subscription's queue, starting the queue's worker when the queue is new.</summary>
    private void Enqueue(ITenantStore store, OutboxMessage message)
    {
        var key = (store.Name ?? "", message.SubscriptionId);
        lock (_queues)
        {
            if (!_queues.TryGetValue(key, out var channel))
            {
                // Not SingleReader: that channel cannot count its items, which retiring an idle queue needs.
                channel = Channel.CreateUnbounded<OutboxMessage>();
                _queues[key] = channel;
                var worker = Task.Run(() => WorkAsync(store, key, channel));
                _workers[worker] = 0;
                worker.ContinueWith(done => _workers.TryRemove(done, out _), TaskScheduler.Default);
            }
            channel.Writer.TryWrite(message);
        }
    }

    /// <summary>
    /// True when the queue is empty and has been removed: its worker ends. Decided under the lock that
    /// <see cref="Enqueue"/> writes under, so no message lands in a queue nobody reads; a later message starts a new one.
    /// </summary>
    private bool RetireIfIdle((string Tenant, string Subscription) key, Channel<OutboxMessage> channel)
    {
        lock (_queues)
        {
            if (channel.Reader.Count > 0) return false;
            _queues.Remove(key);
            channel.Writer.TryComplete();
            return true;
        }
    }

    private async Task WorkAsync(ITenantStore store, (string Tenant, string Subscription) key, Channel<OutboxMessage> channel)
    {
        // An outbox read that overlapped a delivery can hand back a message this worker already finished (its row was
        // read before the delete committed): those are remembered for a while and skipped, not sent twice. A worker
        // outlives its queue's idle moments by a little, so that such late copies mostly reach it.
        var finished = new HashSet<long>();
        var finishedOrder = new Queue<long>();
        var queue = channel.Reader;
        try
        {
            while (true)
            {
                if (!queue.TryRead(out var message))
                {
                    using var linger = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
                    linger.CancelAfter(options.Value.PollInterval * 2);
                    try
                    {
                        if (await queue.WaitToReadAsync(linger.Token)) continue;
                        return; // completed at shutdown
                    }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                    {
                        if (RetireIfIdle(key, channel)) return;
                        continue;
                    }
                }
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
        catch (Exception ex)
        {
            // Not expected; the queue is dropped and its messages, still in the outbox, are read again and get a new worker.
            logger.LogError(ex, "Notification worker of subscription {Subscription} stopped", key.Subscription);
            lock (_queues)
            {
                if (_queues.TryGetValue(key, out var current) && current == channel) _queues.Remove(key);
                channel.Writer.TryComplete();
            }
            while (queue.TryRead(out var left)) _inFlight.TryRemove((store.Name ?? "", left.Sequence), out _);
        }
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
            var sending = false;
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
                outcomes.Sending(store.Name, message.SubscriptionId);
                sending = true;
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
                outcomes.Succeeded(store.Name, message.SubscriptionId, now);
                Operations.Metrics.KontextMeters.NotificationSent(message.CreatedAt);
                await store.RecordDeliveryAsync(message.Sequence, message.SubscriptionId, DeliveryOutcome.Delivered, now, null, CancellationToken.None);
                return;
            }
            outcomes.Failed(store.Name, message.SubscriptionId, now, refusal ?? DeliveryOutcomes.NotAccepted, sending);
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
