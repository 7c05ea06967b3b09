using Kontext.Broker.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>Batch Entity Merge: POST /entityOperations/merge (clause 5.6.20; HTTP binding /entityOperations/merge): Merge Entity (5.6.17) per entity.</summary>
internal static class MergeBatch
{
    public static async Task HandleAsync(HttpContext http, BatchForwarding forwarding)
    {
        var batch = await BatchRequest.ReadEntitiesAsync(http);
        var items = await batch.ParseEntitiesAsync((body, context, id) => EntityParser.ParseFragment(body, context, ParseMode.Merge, id));
        var store = await batch.TenantStoreAsync(forWrite: false, items);
        // Clause 4.3.6.3: the entities (or attributes) registered sources hold are written there.
        var distributed = await forwarding.ForwardAsync(batch, store, items, Kontext.Ngsi.ContextSources.RegistrationOperations.MergeBatch);
        var results = await BatchExecution.RunAsync(batch, items, distributed, store, item => EntityWrites.Merge(item.Id!, item.Value!),
            (item, _) => new BatchItemResult(item.Index, item.Id, BatchItemStatus.Changed, null));
        await BatchResponse.WriteChangedAsync(batch, distributed.Merge(results));
    }
}
