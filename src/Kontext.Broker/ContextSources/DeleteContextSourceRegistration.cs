using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.ContextSources;

/// <summary>Delete Context Source Registration: DELETE /csourceRegistrations/{id} (clauses 5.9.4, 6.9.3.3); 204.</summary>
internal static class DeleteContextSourceRegistration
{
    public static async Task HandleAsync(NgsiRequest request, string registrationId, RegistrationChanges changes)
    {
        var http = request.Http;
        var id = RegistrationStores.Id(registrationId, "registration");
        var (_, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        await changes.WriteAsync(store, request.Tenant, id, current => current is null
            ? throw NgsiException.NotFound($"The registration '{id}' does not exist")
            : new RegistrationChange<bool>(true, null), http.RequestAborted);
        NgsiResponse.NoContent(request);
    }
}
