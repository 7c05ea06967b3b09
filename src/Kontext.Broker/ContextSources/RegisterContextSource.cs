using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Broker.Outbound;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.ContextSources;

/// <summary>Register Context Source: POST /csourceRegistrations (clauses 5.9.2, 6.8.3.2); 201 with Location.</summary>
internal static class RegisterContextSource
{
    public static async Task HandleAsync(HttpContext http, RegistrationChanges changes, OutboundPolicy policy, IOptions<KontextOptions> options)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var registration = RegistrationParser.Parse(request.Body!, request.Context, DateTimeOffset.UtcNow);
        CheckEndpoint(registration, policy);
        var (entities, store) = await RegistrationStores.ForAsync(request, forWrite: true);
        var cancel = http.RequestAborted;
        if (await store.GetRegistrationAsync(registration.Id, cancel) is not null)
            throw new NgsiException(NgsiError.AlreadyExists($"The registration '{registration.Id}' already exists"));
        var live = await RegistrationStores.LiveAsync(store, request.Tenant, changes, cancel);
        var cap = options.Value.Limits.MaxRegistrationsPerTenant;
        if (cap > 0 && live.Count >= cap)
            throw new NgsiException(NgsiError.LimitExceeded($"This tenant holds its maximum of {cap} context source registrations (Kontext:Limits:MaxRegistrationsPerTenant)"));
        await RegistrationConflictCheck.CheckAsync(registration, live.Select(l => l.Registration), entities, cancel);
        await changes.WriteAsync(store, request.Tenant, registration.Id, current => current is not null
            ? throw new NgsiException(NgsiError.AlreadyExists($"The registration '{registration.Id}' already exists"))
            : new RegistrationChange<bool>(true, registration), cancel);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = ContextSourceRoutes.Registrations + "/" + HeaderIri.PathSegment(registration.Id);
    }

    /// <summary>
    /// An endpoint the outbound policy refuses without a DNS look-up (a literal address, a denied name) is refused at once,
    /// as for subscriptions; one that only resolves to a refused address fails when a request is forwarded to it.
    /// </summary>
    public static void CheckEndpoint(Registration registration, OutboundPolicy policy)
    {
        if (policy.Precheck(registration.Endpoint) is { } reason)
            throw NgsiException.BadRequestData($"Invalid context source registration: the broker's outbound policy does not permit the endpoint '{registration.Endpoint}': {reason}");
    }
}
