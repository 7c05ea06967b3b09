using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Notifications;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// A context source's notification for a subscription this broker forwarded to it (clause 5.8.6): POST
/// /ngsi-ld/ex/remote-notify, the local tenant in the tenant parameter (the source sends its own tenant's header). Only
/// a notification naming a remote copy this broker made is taken (404 otherwise, nothing delivered); its entities are
/// merged (splitEntities) and filtered by the local subscription, and what is left goes to the local subscriber under the
/// local subscription's id, through the durable outbox like every notification. A paused or expired local subscription
/// takes the notification and sends nothing.
/// </summary>
internal static class ReceiveSourceNotification
{
    public static async Task HandleAsync(HttpContext http, IEntityStorage storage, SubscriptionForwarding forwarding, SubscriptionRegistry registry, NotificationSignal signal)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var cancel = http.RequestAborted;
        var tenant = http.Request.Query["tenant"].ToString() is { Length: > 0 } name ? Validate.TenantName(name) : null;
        var notification = InboundNotification.Read(request.Body!, request.Context)
                           ?? throw NgsiException.BadRequestData("The body is not a Notification (clause 5.3.1): it needs subscriptionId and data");
        var store = await storage.GetTenantAsync(tenant, create: false, cancel);
        if (store is null || await forwarding.FindLegAsync(store, notification.SubscriptionId, cancel) is not { } link)
            throw NgsiException.NotFound($"No subscription of this broker was forwarded as '{notification.SubscriptionId}'");

        var now = DateTimeOffset.UtcNow;
        var local = (await registry.GetAsync(store, cancel)).FirstOrDefault(s => s.Subscription.Id == link.Sources.LocalId);
        if (local is not null && local.Subscription.IsActive && !local.Subscription.IsExpired(now))
        {
            var subscription = local.Subscription;
            var changes = new List<EntityChange>();
            var partial = link.Leg.Sent["notification"]?["attributes"] is not null;
            foreach (var (entity, deletedAt) in notification.Entities)
            {
                var elsewhere = deletedAt is null && SubscriptionNarrowing.IsSplit(subscription)
                    ? await forwarding.ElsewhereAsync(store, entity, link.Leg.RegistrationId, cancel)
                    : [];
                if (SubscriptionNarrowing.Deliverable(subscription, entity, deletedAt, elsewhere, now, partial) is { } change) changes.Add(change.Select(subscription.DatasetIds));
            }
            if (changes.Count > 0)
            {
                var message = NotificationBuilder.Build(subscription, local.Context, changes, now, store.Name);
                await store.AppendNotificationsAsync(null, 0,
                    [new OutboxMessage(0, subscription.Id, subscription.Notification.Endpoint.Uri.ToString(), message.Serialize(), 0, now)], cancel);
                signal.WakeDispatcher(store.Name);
            }
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
    }
}
