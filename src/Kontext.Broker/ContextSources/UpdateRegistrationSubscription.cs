using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Broker.Outbound;
using Kontext.Broker.Subscriptions;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Subscriptions;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Update Context Source Registration Subscription: PATCH /csourceSubscriptions/{id} (clauses 5.11.3, 6.11.3.2). Members
/// replace, "notification" merges one level deep (as for entity subscriptions); 204.
/// </summary>
internal static class UpdateRegistrationSubscription
{
    /// <summary>The members whose change alters which registrations the subscription selects.</summary>
    private static readonly HashSet<string> Reselecting = new(StringComparer.Ordinal)
    {
        "entities", "watchedAttributes", "q", "geoQ", "csf", "scopeQ", "isActive",
    };

    public static async Task HandleAsync(HttpContext http, string subscriptionId, OutboundPolicy policy, ContextProcessor processor,
        RegistrationChanges changes, RegistrationSubscriptionCatalog catalog, NotificationSignal signal, WithdrawnSubscriptions withdrawals)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = RegistrationStores.Id(subscriptionId, "subscription");
        var fragment = request.Body!;
        if (fragment.Count == 0 || fragment.All(p => p.Key == "@context")) throw NgsiException.BadRequestData("The subscription fragment is empty");
        // Clause 5.2.1: no member admits null; and the type of a subscription stays "Subscription" (Table 5.2.12-1).
        if (fragment.FirstOrDefault(p => p.Value is null).Key is { } nulled) throw NgsiException.BadRequestData($"'{nulled}' cannot be null");
        if (fragment["type"] is { } type && !(type is JsonValue v && v.TryGetValue<string>(out var name) && name == "Subscription"))
            throw NgsiException.BadRequestData("The type of a subscription is 'Subscription'");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        var cancel = http.RequestAborted;
        var stored = await store.GetRegistrationSubscriptionAsync(id, cancel) ?? throw NgsiException.NotFound($"The subscription '{id}' does not exist");
        var (body, _, _) = SubscriptionDocument.Read(stored.Document);
        var merged = SubscriptionParser.Merge(body, fragment);
        if (!merged.ContainsKey("type")) merged["type"] = "Subscription";
        var subscription = RegistrationSubscriptionParser.Parse(merged, request.Context, DateTimeOffset.UtcNow, checkExpiry: fragment.ContainsKey("expiresAt"));
        // Only what the fragment changes is checked again: pausing a subscription must not depend on its endpoint or context.
        if (fragment.ContainsKey("notification")) RegistrationSubscriptionView.CheckEndpoint(subscription, policy);
        if (fragment.ContainsKey("jsonldContext")) await RegistrationSubscriptionView.CheckJsonldContextAsync(subscription, processor, cancel);
        var document = SubscriptionDocument.Create(subscription.Subscription.Body, request.Context.UserContext, await NgsiResponse.ContextUrlAsync(request));
        // Clause 5.11.7: a subscription that now selects other registrations (or runs again) is told every one it matches.
        List<OutboxMessage> initial = [];
        if (subscription.Subscription.IsActive && fragment.Any(p => Reselecting.Contains(p.Key)))
        {
            var now = DateTimeOffset.UtcNow;
            var loaded = await catalog.LoadAsync(stored with { Document = document }, cancel);
            var matching = (await RegistrationStores.LiveAsync(store, request.Tenant, changes, cancel))
                .Select(l => l.Registration).Where(subscription.Filter.Matches).ToList();
            if (matching.Count > 0) initial.Add(RegistrationSubscriptionCatalog.Message(loaded, matching, RegistrationNotificationBuilder.NewlyMatching, now, request.Tenant));
        }
        // Paused: its pending notifications are dropped, as an entity subscription's (SubscriptionChanges.UpdateAsync).
        var active = subscription.Subscription.IsActive;
        await store.WriteRegistrationSubscriptionAsync(id, current => current is null
            ? throw NgsiException.NotFound($"The subscription '{id}' does not exist")
            : new RegistrationSubscriptionWrite<bool>(true, document, initial) { DropsPending = !active }, cancel);
        if (!active) withdrawals.Withdrawn(request.Tenant, RegistrationSubscriptionKey.ForOutbox(id));
        if (initial.Count > 0) signal.WakeDispatcher(request.Tenant);
        NgsiResponse.NoContent(request);
    }
}
