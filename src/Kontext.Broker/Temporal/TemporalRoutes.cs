using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Temporal;

/// <summary>The Temporal Evolution of Entities resources (clauses 6.18–6.22, 6.24), one operation per file.</summary>
internal static class TemporalRoutes
{
    public const string Root = "/ngsi-ld/v1/temporal/entities";

    public static void MapTemporal(this IEndpointRouteBuilder app)
    {
        var temporal = app.MapGroup(Root);
        // The forwarding services are singletons, handed to the handlers here: a parameter the framework binds would be
        // resolved from the request's service scope, opening one per request.
        var forwarding = app.ServiceProvider.GetRequiredService<TemporalForwarding>();
        var provision = app.ServiceProvider.GetRequiredService<ProvisionForwarding>();
        temporal.MapPost("", (HttpContext http) => CreateTemporalEntity.HandleAsync(http, provision));
        temporal.MapGet("", (NgsiRequest request) => QueryTemporalEntities.GetAsync(request, forwarding));
        app.MapPost("/ngsi-ld/v1/temporal/entityOperations/query", (HttpContext http) => QueryTemporalEntities.PostAsync(http, forwarding));
        temporal.MapGet("{entityId}", (NgsiRequest request, string entityId) => RetrieveTemporalEntity.HandleAsync(request, entityId, forwarding));
        temporal.MapDelete("{entityId}", (NgsiRequest request, string entityId) => DeleteTemporalEntity.HandleAsync(request, entityId, provision));
        temporal.MapPost("{entityId}/attrs", (HttpContext http, string entityId) => AppendTemporalAttributes.HandleAsync(http, entityId, provision));
        temporal.MapDelete("{entityId}/attrs/{attrId}", (NgsiRequest request, string entityId, string attrId) =>
            DeleteTemporalAttribute.HandleAsync(request, entityId, attrId, provision));
        temporal.MapPatch("{entityId}/attrs/{attrId}/{instanceId}", (HttpContext http, string entityId, string attrId, string instanceId) =>
            ModifyTemporalInstance.HandleAsync(http, entityId, attrId, instanceId, provision));
        temporal.MapDelete("{entityId}/attrs/{attrId}/{instanceId}", (NgsiRequest request, string entityId, string attrId, string instanceId) =>
            DeleteTemporalInstance.HandleAsync(request, entityId, attrId, instanceId, provision));
    }

    /// <summary>The tenant's store with its temporal side; a backend without history answers 501.</summary>
    public static async Task<(ITenantStore Store, ITemporalStore Temporal)> StoresAsync(NgsiRequest request, bool forWrite)
    {
        var store = await request.TenantStoreAsync(forWrite);
        return store.History is { } temporal
            ? (store, temporal)
            : throw new NgsiException(NgsiError.OperationNotSupported("This storage backend keeps no temporal evolution"));
    }

    public static string Location(string entityId) => Root + "/" + Http.HeaderIri.PathSegment(entityId);

    /// <summary>The instance limit per attribute and page (clause 6.3.10: implementation-defined), from Kontext:Temporal:InstanceLimit.</summary>
    public static int InstanceLimit(HttpContext http) =>
        Math.Max(1, BrokerServices.Of(http).GetRequiredService<IConfiguration>().GetValue("Kontext:Temporal:InstanceLimit", 1000));
}
