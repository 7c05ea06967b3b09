using Kontext.Broker.Http;
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
    public static async Task HandleAsync(HttpContext http, string subscriptionId, OutboundPolicy policy, ContextProcessor processor)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = RegistrationStores.Id(subscriptionId, "subscription");
        var fragment = request.Body!;
        if (fragment.Count == 0 || fragment.All(p => p.Key == "@context")) throw NgsiException.BadRequestData("The subscription fragment is empty");
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
        await store.WriteRegistrationSubscriptionAsync(id, current => current is null
            ? throw NgsiException.NotFound($"The subscription '{id}' does not exist")
            : new RegistrationSubscriptionWrite<bool>(true, document, []), cancel);
        NgsiResponse.NoContent(request);
    }
}
