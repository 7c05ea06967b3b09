using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>Batch Entity Merge: POST /entityOperations/merge (clause 5.6.20; HTTP binding /entityOperations/merge): Merge Entity (5.6.17) per entity.</summary>
internal static class MergeBatch
{
    public static async Task HandleAsync(HttpContext http)
    {
        var batch = await BatchRequest.ReadEntitiesAsync(http);
        var items = await batch.ParseEntitiesAsync((body, context, id) => EntityParser.ParseFragment(body, context, ParseMode.Merge, id));
        var store = await batch.TenantStoreAsync(forWrite: false, items);
        var results = await BatchExecution.RunAsync(batch, items, async item =>
        {
            await store!.WriteAsync(item.Id!, EntityWrites.Merge(item.Id!, item.Value!), batch.Aborted);
            return new BatchItemResult(item.Index, item.Id, BatchItemStatus.Changed, null);
        });
        await BatchResponse.WriteChangedAsync(batch, results);
    }
}
