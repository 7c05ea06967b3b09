using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.ContextSources;

/// <summary>A stored registration subscription read back, with how its notifications are compacted.</summary>
internal sealed record LoadedRegistrationSubscription(RegistrationSubscription Subscription, NotificationContext Context, StoredSubscription Stored);

/// <summary>
/// Reads a tenant's registration subscriptions (stored like entity subscriptions: body, @context, context URL) and turns a
/// registration change into the notifications it causes (clause 5.11.7). Registration writes are rare, so the
/// subscriptions are read for each one rather than cached; their @contexts come from the context processor's cache.
/// </summary>
internal sealed class RegistrationSubscriptionCatalog(ContextProcessor processor, IOptions<KontextOptions> options, ILogger<RegistrationSubscriptionCatalog> logger)
{
    public async Task<IReadOnlyList<LoadedRegistrationSubscription>> LoadAllAsync(IRegistrationStore store, CancellationToken cancellationToken)
    {
        var list = new List<LoadedRegistrationSubscription>();
        foreach (var stored in await store.ListRegistrationSubscriptionsAsync(cancellationToken))
        {
            try { list.Add(await LoadAsync(stored, cancellationToken)); }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // One subscription whose @context cannot be had any more must not stop the registration write or the others.
                logger.LogWarning("Registration subscription {Id} cannot be loaded, so it is not notified of this change: {Reason}", stored.Id, ex.Message);
            }
        }
        return list;
    }

    public async Task<LoadedRegistrationSubscription> LoadAsync(StoredSubscription stored, CancellationToken cancellationToken)
    {
        var (body, context, contextUrl) = SubscriptionDocument.Read(stored.Document);
        var active = await processor.ProcessAsync(context, cancellationToken);
        var subscription = RegistrationSubscriptionParser.Parse(body, active, DateTimeOffset.UtcNow, checkExpiry: false);
        return new LoadedRegistrationSubscription(subscription, await NotificationContextAsync(subscription, active, context, contextUrl, cancellationToken), stored);
    }

    /// <summary>A registration subscription as shown (GET): parsed with the core context only, so no remote @context is awaited.</summary>
    public static RegistrationSubscription ForDisplay(StoredSubscription stored)
    {
        var (body, _, _) = SubscriptionDocument.Read(stored.Document);
        return RegistrationSubscriptionParser.Parse(body, ContextProcessor.Core, DateTimeOffset.UtcNow, checkExpiry: false);
    }

    /// <summary>The notifications a registration change causes: one per live subscription whose match changed or persists.</summary>
    public static List<OutboxMessage> Notifications(IEnumerable<LoadedRegistrationSubscription> subscriptions, Registration? before, Registration? after,
        DateTimeOffset now, string? tenant)
    {
        var messages = new List<OutboxMessage>();
        foreach (var item in subscriptions)
        {
            var subscription = item.Subscription.Subscription;
            // The ones kept for distributed subscriptions are acted on inside the broker (SubscriptionForwarding), not notified.
            if (SourcesSubscription.IsKept(item.Stored)) continue;
            if (!subscription.IsActive || subscription.IsExpired(now) || subscription.TimeInterval is not null) continue;
            if (subscription.Throttling is { } seconds && item.Stored.Status.LastNotification is { } last && now - last < TimeSpan.FromSeconds(seconds)) continue;
            if (item.Subscription.TriggerReason(before, after, now) is not { } reason) continue;
            var registration = after ?? before!;
            messages.Add(Message(item, [registration], reason, now, tenant));
        }
        return messages;
    }

    /// <summary>One notification of <paramref name="registrations"/> to the subscription's endpoint, as an outbox message.</summary>
    public static OutboxMessage Message(LoadedRegistrationSubscription item, IReadOnlyList<Registration> registrations, string reason, DateTimeOffset now, string? tenant)
    {
        var request = RegistrationNotificationBuilder.Build(item.Subscription, item.Context, registrations, reason, now, tenant);
        return new OutboxMessage(0, RegistrationSubscriptionKey.ForOutbox(item.Subscription.Id),
            item.Subscription.Subscription.Notification.Endpoint.Uri.ToString(), request.Serialize(), 0, now);
    }

    /// <summary>Notifications use the subscription's jsonldContext when it names one, else the context it was created with.</summary>
    private async Task<NotificationContext> NotificationContextAsync(RegistrationSubscription subscription, JsonLdContext creatorContext, JsonNode? context,
        string contextUrl, CancellationToken cancellationToken)
    {
        if (subscription.Subscription.Body["jsonldContext"] is JsonValue v && v.TryGetValue<string>(out var url))
            return new NotificationContext(await processor.ProcessAsync(JsonValue.Create(url), cancellationToken), url, JsonValue.Create(url)!);
        return new NotificationContext(creatorContext, contextUrl, context?.DeepClone() ?? JsonValue.Create(options.Value.Contexts.CoreContextUrl)!);
    }
}
