using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Delete Context Source Registration Subscription: DELETE /csourceSubscriptions/{id} (clauses 5.11.6, 6.11.3.3); its pending
/// notifications go too, and none is sent once the deletion is answered.
/// </summary>
internal static class DeleteRegistrationSubscription
{
    public static async Task HandleAsync(NgsiRequest request, string subscriptionId, WithdrawnSubscriptions withdrawals)
    {
        var http = request.Http;
        var id = RegistrationStores.Id(subscriptionId, "subscription");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        await store.WriteRegistrationSubscriptionAsync(id, current => current is null
            ? throw NgsiException.NotFound($"The subscription '{id}' does not exist")
            : new RegistrationSubscriptionWrite<bool>(true, null, []), http.RequestAborted);
        withdrawals.Withdrawn(request.Tenant, RegistrationSubscriptionKey.ForOutbox(id));
        NgsiResponse.NoContent(request);
    }
}
