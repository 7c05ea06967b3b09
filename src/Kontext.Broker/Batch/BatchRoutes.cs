namespace Kontext.Broker.Batch;

/// <summary>The batch entity operations of clauses 6.14–6.18 and Batch Entity Merge, 5.6.20 (/entityOperations/*), one operation per file.</summary>
internal static class BatchRoutes
{
    public static void MapBatch(this IEndpointRouteBuilder app)
    {
        var operations = app.MapGroup("/ngsi-ld/v1/entityOperations");
        // A singleton handed over here: a handler parameter the framework binds would open the request's service scope.
        var forwarding = app.ServiceProvider.GetRequiredService<ContextSources.BatchForwarding>();
        operations.MapPost("create", (HttpContext http) => CreateBatch.HandleAsync(http, forwarding));
        operations.MapPost("upsert", (HttpContext http) => UpsertBatch.HandleAsync(http, forwarding));
        operations.MapPost("update", (HttpContext http) => UpdateBatch.HandleAsync(http, forwarding));
        operations.MapPost("delete", (HttpContext http) => DeleteBatch.HandleAsync(http, forwarding));
        operations.MapPost("merge", (HttpContext http) => MergeBatch.HandleAsync(http, forwarding));
    }
}
