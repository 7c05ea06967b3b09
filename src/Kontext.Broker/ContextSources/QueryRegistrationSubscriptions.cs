using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Broker.Notifications;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>Query Context Source Registration Subscriptions: GET /csourceSubscriptions (clauses 5.11.5, 6.10.3.2), paged.</summary>
internal static class QueryRegistrationSubscriptions
{
    public static async Task HandleAsync(NgsiRequest request, DeliveryOutcomes outcomes)
    {
        var http = request.Http;
        var page = Pagination.Read(request);
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        // Read fresh from the store: the delivery counters change with every notification.
        var all = await store.ListRegistrationSubscriptionsAsync(http.RequestAborted);
        var selected = ResourcePage.Select(request, page, all);
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var stored in selected)
        {
            var latest = outcomes.Latest(request.Tenant, RegistrationSubscriptionKey.ForOutbox(stored.Id));
            RegistrationSubscriptionView.Render(RegistrationSubscriptionCatalog.ForDisplay(stored), stored, latest, sysAttrs, bodyContext).WriteTo(writer);
        }
        writer.WriteEndArray();
        await writer.FlushAsync(http.RequestAborted);
    }
}
