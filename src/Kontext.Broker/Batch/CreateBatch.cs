using Kontext.Broker.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>Batch Entity Creation: POST /entityOperations/create (clauses 5.6.7, 6.14.3.1).</summary>
internal static class CreateBatch
{
    public static async Task HandleAsync(HttpContext http, BatchForwarding forwarding)
    {
        var batch = await BatchRequest.ReadEntitiesAsync(http);
        var items = await batch.ParseEntitiesAsync((body, context, _) => EntityParser.ParseEntity(body, context, ParseMode.Full));
        var store = await batch.TenantStoreAsync(forWrite: true, items);
        // Clause 4.3.6.3: the entities (or attributes) registered sources hold are written there.
        var distributed = await forwarding.ForwardAsync(batch, store, items, Kontext.Ngsi.ContextSources.RegistrationOperations.CreateBatch);
        var results = await BatchExecution.RunAsync(batch, items, distributed, store, item => EntityWrites.Create(item.Value!, handedOver: true),
            (item, _) => new BatchItemResult(item.Index, item.Id, BatchItemStatus.Created, null));
        await BatchResponse.WriteCreateAsync(batch, distributed.Merge(results));
    }
}
