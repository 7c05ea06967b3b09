using Kontext.Broker.Outbound;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// The context source resources (clauses 6.8–6.11): registrations (5.9 registration, 5.10 discovery), subscriptions to them
/// (5.11), and this broker's own identity as a source (5.15.1). One operation per file.
/// </summary>
internal static class ContextSourceRoutes
{
    public const string Registrations = "/ngsi-ld/v1/csourceRegistrations";
    public const string RegistrationSubscriptions = "/ngsi-ld/v1/csourceSubscriptions";
    public const string SourceIdentity = "/ngsi-ld/v1/info/sourceIdentity";

    public static void MapContextSources(this IEndpointRouteBuilder app)
    {
        var registrations = app.MapGroup(Registrations);
        registrations.MapPost("", RegisterContextSource.HandleAsync);
        registrations.MapGet("", QueryContextSourceRegistrations.HandleAsync);
        registrations.MapGet("{registrationId}", RetrieveContextSourceRegistration.HandleAsync);
        registrations.MapPatch("{registrationId}", UpdateContextSourceRegistration.HandleAsync);
        registrations.MapDelete("{registrationId}", DeleteContextSourceRegistration.HandleAsync);

        var subscriptions = app.MapGroup(RegistrationSubscriptions);
        subscriptions.MapPost("", CreateRegistrationSubscription.HandleAsync);
        subscriptions.MapGet("", QueryRegistrationSubscriptions.HandleAsync);
        subscriptions.MapGet("{subscriptionId}", RetrieveRegistrationSubscription.HandleAsync);
        subscriptions.MapPatch("{subscriptionId}", UpdateRegistrationSubscription.HandleAsync);
        subscriptions.MapDelete("{subscriptionId}", DeleteRegistrationSubscription.HandleAsync);

        app.MapGet(SourceIdentity, ContextSourceIdentity.HandleAsync);

        // Notifications from sources for the subscriptions this broker forwarded to them (clause 5.8.6).
        app.MapPost(SubscriptionForwarding.InboundRoute, ReceiveSourceNotification.HandleAsync);
    }

    /// <summary>The federation services: registration changes and their notifications, this broker's identity, the forwarding client.</summary>
    public static IServiceCollection AddContextSources(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<FederationOptions>(configuration.GetSection("Kontext:Federation"));
        services.AddSingleton<RegistrationSubscriptionCatalog>();
        services.AddSingleton<RegistrationChanges>();
        services.AddSingleton<ContextSourceIdentity>();
        services.AddSingleton<ContextSourceClient>();
        services.AddSingleton<EntityForwarding>();
        services.AddSingleton<ProvisionForwarding>();
        services.AddSingleton<BatchForwarding>();
        services.AddSingleton<DiscoveryForwarding>();
        services.AddSingleton<TemporalForwarding>();
        services.AddSingleton<SubscriptionForwarding>();
        // Forwarded requests connect through the outbound policy (D12), like notifications and remote contexts.
        ClosingPeers.AddOutboundClient(services, ContextSourceClient.HttpClientName);
        return services;
    }
}
