namespace Kontext.Broker.Batch;

/// <summary>The batch entity operations of clauses 6.14–6.18 and Batch Entity Merge, 5.6.20 (/entityOperations/*), one operation per file.</summary>
internal static class BatchRoutes
{
    public static void MapBatch(this IEndpointRouteBuilder app)
    {
        var operations = app.MapGroup("/ngsi-ld/v1/entityOperations");
        operations.MapPost("create", CreateBatch.HandleAsync);
        operations.MapPost("upsert", UpsertBatch.HandleAsync);
        operations.MapPost("update", UpdateBatch.HandleAsync);
        operations.MapPost("delete", DeleteBatch.HandleAsync);
        operations.MapPost("merge", MergeBatch.HandleAsync);
    }
}
