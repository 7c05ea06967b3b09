using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>Batch Entity Delete: POST /entityOperations/delete with an array of entity ids (clauses 5.6.10, 6.17.3.1).</summary>
internal static class DeleteBatch
{
    public static async Task HandleAsync(HttpContext http)
    {
        var batch = await BatchRequest.ReadIdsAsync(http);
        var items = batch.ParseIds();
        var store = await batch.TenantStoreAsync(forWrite: false, items);
        var results = await BatchExecution.RunAsync(batch, items, async item =>
        {
            await store!.WriteAsync(item.Id!, EntityWrites.Delete(item.Id!), batch.Aborted);
            return new BatchItemResult(item.Index, item.Id, BatchItemStatus.Changed, null);
        });
        await BatchResponse.WriteChangedAsync(batch, results);
    }
}
