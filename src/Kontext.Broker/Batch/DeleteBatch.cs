using Kontext.Broker.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>Batch Entity Delete: POST /entityOperations/delete with an array of entity ids (clauses 5.6.10, 6.17.3.1).</summary>
internal static class DeleteBatch
{
    public static async Task HandleAsync(HttpContext http, BatchForwarding forwarding)
    {
        var batch = await BatchRequest.ReadIdsAsync(http);
        var items = batch.ParseIds();
        var store = await batch.TenantStoreAsync(forWrite: false, items);
        // Clause 4.3.6.3: the entities (or attributes) registered sources hold are written there.
        var distributed = await forwarding.ForwardAsync(batch, store, items, Kontext.Ngsi.ContextSources.RegistrationOperations.DeleteBatch);
        var results = await BatchExecution.RunAsync(batch, items, distributed, store, item => EntityWrites.Delete(item.Id!),
            (item, _) => new BatchItemResult(item.Index, item.Id, BatchItemStatus.Changed, null));
        await BatchResponse.WriteChangedAsync(batch, distributed.Merge(results));
    }
}
