using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.ContextSources;

/// <summary>Retrieve Context Source Registration: GET /csourceRegistrations/{id} (clauses 5.10.1, 6.9.3.1).</summary>
internal static class RetrieveContextSourceRegistration
{
    public static async Task HandleAsync(NgsiRequest request, string registrationId, RegistrationChanges changes)
    {
        var http = request.Http;
        var id = RegistrationStores.Id(registrationId, "registration");
        var sysAttrs = QueryParameters.Options(request, "sysAttrs").Contains("sysAttrs");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        var loaded = await RegistrationStores.FindAsync(store, request.Tenant, id, changes, http.RequestAborted)
                     ?? throw NgsiException.NotFound($"The registration '{id}' does not exist");
        var output = RegistrationStores.Render(loaded, request, sysAttrs);
        if (await NgsiResponse.PrepareAsync(request) is { } bodyContext) output["@context"] = bodyContext;
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        output.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }
}
