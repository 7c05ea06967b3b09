using System.Collections.Concurrent;
using System.Threading.Channels;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Notifications;

/// <summary>
/// Delivers the outbox (D5). Each subscription has its own queue and worker, so one slow or unreachable receiver never
/// delays the others, and neither does one subscription's failing notification (waiting for its retry) hold up another
/// subscription's to the same endpoint. Order: a subscription's notifications go out one at a time in outbox order, the
/// next only once the previous was answered (or given up after its retries), so its receiver sees them in the order they
/// were matched; different subscriptions, even to the same endpoint, are not ordered among themselves, and up to
/// <see cref="NotificationOptions.MaxInFlightPerEndpoint"/> requests go to one endpoint at once.
/// Messages stay in the outbox until delivered or given up, so a restart resumes where delivery stopped. Before sending,
/// the store confirms that the messages are still this dispatcher's (<see cref="INotificationStore.RenewLeasesAsync"/>),
/// for a whole queue at once and again after a failure or when the confirmation is older than
/// <see cref="ConfirmationValid"/>: a deleted or paused subscription's pending notifications are dropped, and on a shared
/// store a message another process took over is not sent twice. A confirmation can predate the deletion or the pause, so
/// when a message is taken, just before each attempt goes out (once its endpoint slot is had), and before each quick retry
/// within an attempt, the subscriptions this process deleted or paused are asked too (<see cref="WithdrawnSubscriptions"/>):
/// once DELETE or the PATCH has answered, nothing made before it is sent any more (a request already on the wire cannot be
/// recalled). When a message is taken its subscription's current state is read as well (<see cref="SubscriptionOfAsync"/>):
/// a paused or expired subscription's message is not sent, and one that expires while its message waits is asked at the
/// same points (<see cref="Withdrawn"/>); a message whose subscription this process does not know is sent only if the store
/// still has it (<see cref="GoneFromStoreAsync"/>). Outcomes are recorded in batches (<see cref="DeliveryRecorder"/>);
/// a message stays known as in flight until its record is committed, so a read of the outbox never hands it out again.
/// An endpoint the outbound policy refuses is not retried: the notification is given up at once, and the subscription
/// shows the reason (<see cref="DeliveryOutcomes"/>).
/// </summary>
internal sealed class NotificationDispatcher(
    IEntityStorage storage, IEnumerable<INotificationTransport> transports, NotificationSignal signal, DeliveryOutcomes outcomes,
    WithdrawnSubscriptions withdrawals, Subscriptions.SubscriptionRegistry subscriptions, IOptions<NotificationOptions> options,
    ILogger<NotificationDispatcher> logger) : BackgroundService
{
    private const int OutboxBatch = 1000;
    private const int ConfirmBatch = 1000;

    /// <summary>Messages held in memory at most (queued or being sent); beyond it the outbox is read on later.</summary>
    private const int MaxHeld = 20_000;

    /// <summary>How long a confirmation that the messages are still in the outbox (and this process's) is trusted.</summary>
    private static readonly TimeSpan ConfirmationValid = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<(string Tenant, long Sequence), byte> _inFlight = new();
    private readonly Dictionary<(string Tenant, string Subscription), Channel<OutboxMessage>> _queues = new(); // guarded by itself
    private readonly ConcurrentDictionary<Task, byte> _workers = new();
    private readonly ConcurrentDictionary<string, DeliveryRecorder> _recorders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _readUpTo = new(StringComparer.Ordinal); // per tenant: the last sequence handed out
    private readonly RecentlyFinished _finished = new();
    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var sweep = new TenantSweep(storage, options.Value);
        var backlog = new HashSet<string?>(); // tenants whose last read was a full batch: more is waiting
        var lastRescan = Environment.TickCount64;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // From time to time the outbox is read from its start again: a message whose record failed, or one
                // rescheduled by another process, is not above the mark. What is in flight is skipped.
                if (Environment.TickCount64 - lastRescan >= (long)options.Value.SweepInterval.TotalMilliseconds)
                {
                    _readUpTo.Clear();
                    lastRescan = Environment.TickCount64;
                }
                // A tenant whose outbox came due by time is read from its start: what came due may lie below the read mark.
                var cameDue = signal.TakeOutboxDue(DateTimeOffset.UtcNow);
                foreach (var tenant in cameDue) _readUpTo.TryRemove(tenant ?? "", out _);
                foreach (var tenant in await sweep.SelectAsync(signal.TakeNotified().Concat(cameDue), backlog.ToList(), stoppingToken))
                {
                    if (_inFlight.Count >= MaxHeld)
                    {
                        backlog.Add(tenant);
                        continue;
                    }
                    var store = await storage.GetTenantAsync(tenant, create: false, stoppingToken);
                    if (store is null) continue;
                    var key = tenant ?? "";
                    var due = await store.ReadDueNotificationsAsync(DateTimeOffset.UtcNow, OutboxBatch, _readUpTo.GetValueOrDefault(key), stoppingToken);
                    if (due.Count == OutboxBatch) backlog.Add(tenant);
                    else backlog.Remove(tenant);
                    if (due.Count > 0) _readUpTo[key] = due[^1].Sequence;
                    // A retry stored in the outbox (before a restart, say) comes due unsignalled: look again then.
                    if ((sweep.WasFull || cameDue.Contains(tenant)) && await store.ReadNextRetryAtAsync(DateTimeOffset.UtcNow, stoppingToken) is { } next)
                        signal.OutboxDueAt(tenant, next);
                    foreach (var message in due)
                    {
                        if (_finished.Contains(key, message.Sequence)) continue; // read before its record committed
                        if (_inFlight.TryAdd((key, message.Sequence), 0))
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
        foreach (var recorder in _recorders.Values) recorder.Complete();
        await Task.WhenAll(_recorders.Values.Select(r => r.Completion)).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
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
        var queue = channel.Reader;
        var waiting = new Queue<OutboxMessage>(); // taken from the channel, in order, so that they can be confirmed together
        var confirmed = new HashSet<long>();
        var confirmedAt = 0L;
        var lastDelivered = true; // merging waits for a success after a failure: a failing endpoint gets single attempts
        try
        {
            while (true)
            {
                while (queue.TryRead(out var next)) waiting.Enqueue(next);
                if (waiting.Count == 0)
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
                var message = waiting.Peek();
                var subscription = await SubscriptionOfAsync(store, message);
                if (Withdrawn(key.Tenant, message, subscription) || subscription is null && await GoneFromStoreAsync(store, message))
                {
                    waiting.Dequeue();
                    Withdraw(store, message);
                    continue;
                }
                if (!confirmed.Contains(message.Sequence) || Environment.TickCount64 - confirmedAt > ConfirmationValid.TotalMilliseconds)
                {
                    var batch = waiting.Take(ConfirmBatch).Select(m => m.Sequence).ToList();
                    confirmed = [.. await store.RenewLeasesAsync(batch, DateTimeOffset.UtcNow, _stopping)];
                    confirmedAt = Environment.TickCount64;
                }
                waiting.Dequeue();
                if (!confirmed.Contains(message.Sequence))
                {
                    logger.LogInformation("Notification {Sequence} of {Subscription} left this dispatcher (subscription deleted or taken over); not sent",
                        message.Sequence, message.SubscriptionId);
                    Release(key.Tenant, message.Sequence, finished: false);
                    continue;
                }
                try
                {
                    if (lastDelivered && await DeliverMergedAsync(store, message, subscription, waiting, confirmed)) continue;
                    lastDelivered = await DeliverWithBackoffAsync(store, message, subscription);
                    if (!lastDelivered) confirmed.Clear(); // it failed at least once: confirm again
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested)
                {
                    // The store could not be asked: the message is still in the outbox and a later read brings it back.
                    logger.LogError(ex, "Delivering notification {Sequence} failed; it stays in the outbox", message.Sequence);
                    Release(key.Tenant, message.Sequence, finished: false);
                    _readUpTo.TryRemove(key.Tenant, out _);
                    confirmed.Clear();
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
            while (queue.TryRead(out var left)) waiting.Enqueue(left);
            foreach (var left in waiting) Release(key.Tenant, left.Sequence, finished: false);
            _readUpTo.TryRemove(key.Tenant, out _);
        }
    }

    /// <summary>
    /// The message's subscription as this process knows it when the message is taken; null for one it has not loaded (one
    /// whose @context cannot be had) and for a registration subscription (judged when its notifications are made).
    /// </summary>
    private async ValueTask<Subscription?> SubscriptionOfAsync(ITenantStore store, OutboxMessage message) =>
        RegistrationSubscriptionKey.TryRead(message.SubscriptionId, out _) ? null
            : (await subscriptions.FindAsync(store, message.SubscriptionId, _stopping))?.Subscription;

    /// <summary>
    /// Whether the store confirms that the subscription of a message this process does not know (not in its registry; a
    /// registration subscription never is) no longer exists. An outbox message can outlive its subscription (MongoDB: a
    /// process stopped between a deletion's commit and its removal of the outbox); the store's cleanup removes such messages,
    /// but only in passes after start and past a margin, so the dispatcher must not send one it takes before. One whose
    /// subscription the store still has goes out as before: another instance may have created it after this one's registry
    /// was read, or its @context could not be loaded here.
    /// </summary>
    private async Task<bool> GoneFromStoreAsync(ITenantStore store, OutboxMessage message) =>
        RegistrationSubscriptionKey.TryRead(message.SubscriptionId, out var registrationSubscription)
            ? store.Registrations is { } registrations && await registrations.GetRegistrationSubscriptionAsync(registrationSubscription, _stopping) is null
            : await store.GetSubscriptionAsync(message.SubscriptionId, _stopping) is null;

    /// <summary>
    /// Whether the message must not go out any more: its subscription was deleted or paused in this process after the
    /// message was made (<see cref="WithdrawnSubscriptions"/>), or, as <paramref name="subscription"/> was when the message
    /// was taken, it is paused or has expired by now (clause 5.8.6: a notification is sent only while its subscription is
    /// active). The second covers a pause made through another process (once this one has reloaded its subscriptions) and
    /// a message matched against the subscriptions as they were just before the pause. Asked when the message is taken,
    /// once its endpoint slot is had and before each quick retry: no store round trip, no lock.
    /// </summary>
    private bool Withdrawn(string? tenant, OutboxMessage message, Subscription? subscription) =>
        withdrawals.Covers(tenant, message) || subscription is not null && (!subscription.IsActive || subscription.IsExpired(DateTimeOffset.UtcNow));

    /// <summary>
    /// Not sent (<see cref="Withdrawn"/>): recorded as withdrawn, which removes it from the outbox where the deletion or
    /// the pause has not already, and counts it nowhere. Once recorded it counts as finished, so a read that began before
    /// does not bring it back.
    /// </summary>
    private void Withdraw(ITenantStore store, OutboxMessage message)
    {
        logger.LogInformation("Notification {Sequence} of {Subscription} not sent: the subscription was deleted, paused or has expired",
            message.Sequence, message.SubscriptionId);
        Record(store, message, DeliveryOutcome.Withdrawn, DateTimeOffset.UtcNow, null, message.Attempts);
    }

    /// <summary>The message is no longer this dispatcher's to send (<paramref name="finished"/>: its record is committed).</summary>
    private void Release(string tenant, long sequence, bool finished)
    {
        if (finished) _finished.Add(tenant, sequence);
        if (_inFlight.TryRemove((tenant, sequence), out _)) Operations.Metrics.KontextMeters.NotificationLeft();
    }

    private DeliveryRecorder RecorderOf(ITenantStore store) =>
        _recorders.GetOrAdd(store.Name ?? "", _ => new DeliveryRecorder(store, logger));

    private void Record(ITenantStore store, OutboxMessage message, DeliveryOutcome outcome, DateTimeOffset at, DateTimeOffset? retryAt, int failedBefore,
        bool carriedByAnother = false)
    {
        var tenant = store.Name ?? "";
        var ends = outcome != DeliveryOutcome.Retry;
        RecorderOf(store).Add(new DeliveryRecord(message.Sequence, message.SubscriptionId, outcome, at, retryAt, failedBefore) { CarriedByAnother = carriedByAnother }, ok =>
        {
            if (!ends) return;
            if (!ok) _readUpTo.TryRemove(tenant, out _); // still in the outbox: read it again (sent again: at-least-once)
            Release(tenant, message.Sequence, finished: ok);
            // While it waited for its retry time, reads of the outbox held back its subscription's later messages: due now.
            if (ok && failedBefore > 0) signal.OutboxDueAt(store.Name, DateTimeOffset.UtcNow);
        });
    }

    /// <summary>
    /// When the messages after <paramref name="message"/> in its queue are confirmed first attempts whose notifications
    /// merge with its own (<see cref="NotificationMerge"/>), sends them all in one request and records each: true. The
    /// merged messages leave the queue only when that request succeeded; otherwise nothing is recorded and false makes
    /// the caller send <paramref name="message"/> alone, with its retries, before the others (order is kept).
    /// </summary>
    private async Task<bool> DeliverMergedAsync(ITenantStore store, OutboxMessage message, Subscription? subscription, Queue<OutboxMessage> waiting,
        HashSet<long> confirmed)
    {
        var settings = options.Value;
        if (message.Attempts > 0 || waiting.Count == 0 || settings.MaxEntitiesPerNotification < 2
            || RegistrationSubscriptionKey.TryRead(message.SubscriptionId, out _)) return false;
        var candidates = new List<OutboxMessage> { message };
        foreach (var next in waiting)
        {
            if (candidates.Count == settings.MaxEntitiesPerNotification || next.Attempts > 0 || !confirmed.Contains(next.Sequence)
                || next.Endpoint != message.Endpoint) break;
            candidates.Add(next);
        }
        if (candidates.Count < 2) return false;
        var endpoint = new Uri(message.Endpoint);
        if (transports.FirstOrDefault(t => t.CanDeliver(endpoint)) is not { } transport) return false;
        // Read lazily: a full notification (as the matcher groups them) ends the merge at the next one.
        var (request, merged) = NotificationMerge.Merge(candidates.Select(m => NotificationRequest.Deserialize(m.Request)),
            settings.MaxEntitiesPerNotification);
        if (merged < 2) return false;
        var slots = _endpoints.GetOrAdd(endpoint.GetLeftPart(UriPartial.Authority), _ => new SemaphoreSlim(Math.Max(1, settings.MaxInFlightPerEndpoint)));
        var delivered = false;
        try
        {
            await slots.WaitAsync(_stopping);
            try
            {
                // Deleted, paused or expired while waiting for the slot: the single attempt that follows drops it.
                if (Withdrawn(store.Name, message, subscription)) return false;
                // Counted as sent only once it went through: a failure sends the first message again, alone, as its first attempt.
                outcomes.Sending(store.Name, message.SubscriptionId, firstAttempt: false);
                delivered = await transport.DeliverAsync(endpoint, request, () => !Withdrawn(store.Name, message, subscription), _stopping);
            }
            finally { slots.Release(); }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { throw; }
        catch (Exception ex)
        {
            logger.LogInformation("Notification {Sequence} (merged with {Others} more) to {Endpoint} failed: {Reason}; sending it alone",
                message.Sequence, merged - 1, endpoint, ex.Message);
        }
        if (!delivered) return false;
        var now = DateTimeOffset.UtcNow;
        outcomes.Succeeded(store.Name, message.SubscriptionId, now, countSent: true);
        for (var i = 0; i < merged; i++)
        {
            var part = candidates[i];
            if (i > 0) waiting.Dequeue();
            Operations.Metrics.KontextMeters.NotificationSent(part.CreatedAt);
            Record(store, part, DeliveryOutcome.Delivered, now, null, 0, carriedByAnother: i > 0);
        }
        return true;
    }

    /// <summary>
    /// Sends the message, retrying with exponential backoff until it is delivered or given up. True when it went through
    /// at the first attempt. Each retry is preceded by a check that the message is still this dispatcher's.
    /// </summary>
    private async Task<bool> DeliverWithBackoffAsync(ITenantStore store, OutboxMessage message, Subscription? subscription)
    {
        var settings = options.Value;
        var endpoint = new Uri(message.Endpoint);
        var request = NotificationRequest.Deserialize(message.Request);
        var transport = transports.FirstOrDefault(t => t.CanDeliver(endpoint));
        var slots = _endpoints.GetOrAdd(endpoint.GetLeftPart(UriPartial.Authority), _ => new SemaphoreSlim(Math.Max(1, settings.MaxInFlightPerEndpoint)));
        var attempts = message.Attempts;
        while (!_stopping.IsCancellationRequested)
        {
            var first = attempts == 0;
            if (!first && !await store.RenewLeaseAsync(message.Sequence, DateTimeOffset.UtcNow, _stopping))
            {
                logger.LogInformation("Notification {Sequence} of {Subscription} left this dispatcher (subscription deleted or taken over); not sent",
                    message.Sequence, message.SubscriptionId);
                Release(store.Name ?? "", message.Sequence, finished: false);
                return false;
            }
            var delivered = false;
            var sending = false;
            string? refusal = null;
            try
            {
                if (transport is null) throw new InvalidOperationException($"no transport for {endpoint.Scheme}");
                await slots.WaitAsync(_stopping);
                try
                {
                    if (Withdrawn(store.Name, message, subscription))
                    {
                        Withdraw(store, message);
                        return false;
                    }
                    outcomes.Sending(store.Name, message.SubscriptionId, first);
                    sending = true;
                    delivered = await transport.DeliverAsync(endpoint, request, () => !Withdrawn(store.Name, message, subscription), _stopping);
                }
                finally { slots.Release(); }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { return false; }
            catch (DeliveryWithdrawnException)
            {
                Withdraw(store, message);
                return false;
            }
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
                Record(store, message, DeliveryOutcome.Delivered, now, null, attempts);
                return first;
            }
            outcomes.Failed(store.Name, message.SubscriptionId, now, refusal ?? DeliveryOutcomes.NotAccepted, first, sending);
            if (transport is null || refusal is not null || now - message.CreatedAt >= settings.GiveUpAfter)
            {
                Operations.Metrics.KontextMeters.NotificationFailed(gaveUp: true);
                logger.LogWarning("Giving up notification {Sequence} of {Subscription} to {Endpoint}", message.Sequence, message.SubscriptionId, endpoint);
                Record(store, message, DeliveryOutcome.GaveUp, now, null, attempts);
                return false;
            }
            Operations.Metrics.KontextMeters.NotificationFailed(gaveUp: false);
            var delay = TimeSpan.FromTicks(Math.Min(settings.MaxRetryDelay.Ticks, settings.RetryDelay.Ticks * (1L << Math.Min(attempts, 20))));
            Record(store, message, DeliveryOutcome.Retry, now, now + delay, attempts);
            attempts++;
            try { await Task.Delay(delay, _stopping); }
            catch (OperationCanceledException) { return false; }
        }
        return false;
    }

    /// <summary>
    /// The messages whose record committed lately, per tenant: an outbox read that began before such a commit can still
    /// return the message, which must not be sent again. Bounded: the oldest are forgotten first.
    /// </summary>
    private sealed class RecentlyFinished
    {
        private const int Capacity = 100_000;
        private readonly HashSet<(string, long)> _set = [];
        private readonly Queue<(string, long)> _order = new();

        public void Add(string tenant, long sequence)
        {
            lock (_set)
            {
                if (!_set.Add((tenant, sequence))) return;
                _order.Enqueue((tenant, sequence));
                if (_order.Count > Capacity) _set.Remove(_order.Dequeue());
            }
        }

        public bool Contains(string tenant, long sequence)
        {
            lock (_set) return _set.Contains((tenant, sequence));
        }
    }
}
