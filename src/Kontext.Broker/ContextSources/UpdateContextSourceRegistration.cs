using Kontext.Broker.Http;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// Update Context Source Registration: PATCH /csourceRegistrations/{id} (clauses 5.9.3, 6.9.3.2). The fragment's members
/// replace the registration's, null removes one; the result must still be a valid registration (so removing a mandatory
/// member or changing the type is 400). 204.
/// </summary>
internal static class UpdateContextSourceRegistration
{
    public static async Task HandleAsync(HttpContext http, string registrationId, RegistrationChanges changes, OutboundPolicy policy)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var id = RegistrationStores.Id(registrationId, "registration");
        var fragment = RegistrationParser.Expand(request.Body!, request.Context);
        if (fragment.Count == 0) throw NgsiException.BadRequestData("The registration fragment is empty");
        var checkExpiry = fragment.ContainsKey("expiresAt");
        Registration Apply(Registration current) =>
            RegistrationParser.Read(RegistrationParser.Merge(current.Document, fragment), DateTimeOffset.UtcNow, checkExpiry);

        var (entities, store) = await RegistrationStores.ForAsync(request, forWrite: false);
        var cancel = http.RequestAborted;
        var live = await RegistrationStores.LiveAsync(store, request.Tenant, changes, cancel);
        var current = live.FirstOrDefault(l => l.Registration.Id == id) ?? throw NgsiException.NotFound($"The registration '{id}' does not exist");
        var updated = Apply(current.Registration);
        if (fragment.ContainsKey("endpoint")) RegisterContextSource.CheckEndpoint(updated, policy);
        await RegistrationConflictCheck.CheckAsync(updated, live.Select(l => l.Registration), entities, cancel);
        await changes.WriteAsync(store, request.Tenant, id, stored => stored is null
            ? throw NgsiException.NotFound($"The registration '{id}' does not exist")
            : new RegistrationChange<bool>(true, Apply(stored)), cancel);
        NgsiResponse.NoContent(request);
    }
}
