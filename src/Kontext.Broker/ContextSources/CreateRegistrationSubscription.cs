using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Broker.Outbound;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Create Context Source Registration Subscription: POST /csourceSubscriptions (clauses 5.11.2, 6.10.3.1). When active, the
/// registrations it matches at once are notified in an initial notification (newlyMatching), committed with the subscription.
/// </summary>
internal static class CreateRegistrationSubscription
{
    public static async Task HandleAsync(HttpContext http, RegistrationChanges changes, RegistrationSubscriptionCatalog catalog, NotificationSignal signal,
        OutboundPolicy policy, ContextProcessor processor, IOptions<KontextOptions> options)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var now = DateTimeOffset.UtcNow;
        var subscription = RegistrationSubscriptionParser.Parse(request.Body!, request.Context, now);
        RegistrationSubscriptionView.CheckEndpoint(subscription, policy);
        var cancel = http.RequestAborted;
        await RegistrationSubscriptionView.CheckJsonldContextAsync(subscription, processor, cancel);
        var document = SubscriptionDocument.Create(subscription.Subscription.Body, request.Context.UserContext, await NgsiResponse.ContextUrlAsync(request));
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: true);
        var cap = options.Value.Limits.MaxRegistrationSubscriptionsPerTenant;
        if (cap > 0 && (await store.ListRegistrationSubscriptionsAsync(cancel)).Count >= cap)
            throw new NgsiException(NgsiError.LimitExceeded($"This tenant holds its maximum of {cap} registration subscriptions (Kontext:Limits:MaxRegistrationSubscriptionsPerTenant)"));

        List<OutboxMessage> initial = [];
        if (subscription.Subscription.IsActive)
        {
            var loaded = await catalog.LoadAsync(new StoredSubscription(subscription.Id, document, new(), now, now), cancel);
            var matching = (await RegistrationStores.LiveAsync(store, request.Tenant, changes, cancel))
                .Select(l => l.Registration).Where(subscription.Filter.Matches).ToList();
            if (matching.Count > 0) initial.Add(RegistrationSubscriptionCatalog.Message(loaded, matching, RegistrationNotificationBuilder.NewlyMatching, now, request.Tenant));
        }
        await store.WriteRegistrationSubscriptionAsync(subscription.Id, current => current is not null
            ? throw new NgsiException(NgsiError.AlreadyExists($"The subscription '{subscription.Id}' already exists"))
            : new RegistrationSubscriptionWrite<bool>(true, document, initial), cancel);
        if (initial.Count > 0) signal.WakeDispatcher(request.Tenant);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = ContextSourceRoutes.RegistrationSubscriptions + "/" + HeaderIri.PathSegment(subscription.Id);
    }
}
