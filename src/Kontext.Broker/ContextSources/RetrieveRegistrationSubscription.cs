using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>Retrieve Context Source Registration Subscription: GET /csourceSubscriptions/{id} (clauses 5.11.4, 6.11.3.1).</summary>
internal static class RetrieveRegistrationSubscription
{
    public static async Task HandleAsync(NgsiRequest request, string subscriptionId, DeliveryOutcomes outcomes)
    {
        var http = request.Http;
        var id = RegistrationStores.Id(subscriptionId, "subscription");
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        var stored = await store.GetRegistrationSubscriptionAsync(id, http.RequestAborted) ?? throw NgsiException.NotFound($"The subscription '{id}' does not exist");
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        // A notification on the wire may already be at the client that asks: its outcome first (read-your-notification).
        await outcomes.SettledAsync(request.Tenant, RegistrationSubscriptionKey.ForOutbox(id), DeliveryOutcomes.SettleLimit);
        var latest = outcomes.Latest(request.Tenant, RegistrationSubscriptionKey.ForOutbox(id));
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        RegistrationSubscriptionView.Render(RegistrationSubscriptionCatalog.ForDisplay(stored), stored, latest, sysAttrs, bodyContext).WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }
}
