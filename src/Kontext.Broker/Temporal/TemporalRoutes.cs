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
        temporal.MapPost("", CreateTemporalEntity.HandleAsync);
        temporal.MapGet("", QueryTemporalEntities.GetAsync);
        app.MapPost("/ngsi-ld/v1/temporal/entityOperations/query", QueryTemporalEntities.PostAsync);
        temporal.MapGet("{entityId}", RetrieveTemporalEntity.HandleAsync);
        temporal.MapDelete("{entityId}", DeleteTemporalEntity.HandleAsync);
        temporal.MapPost("{entityId}/attrs", AppendTemporalAttributes.HandleAsync);
        temporal.MapDelete("{entityId}/attrs/{attrId}", DeleteTemporalAttribute.HandleAsync);
        temporal.MapPatch("{entityId}/attrs/{attrId}/{instanceId}", ModifyTemporalInstance.HandleAsync);
        temporal.MapDelete("{entityId}/attrs/{attrId}/{instanceId}", DeleteTemporalInstance.HandleAsync);
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
        Math.Max(1, http.RequestServices.GetRequiredService<IConfiguration>().GetValue("Kontext:Temporal:InstanceLimit", 1000));
}
