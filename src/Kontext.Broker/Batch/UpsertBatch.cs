using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>
/// Batch Entity Upsert: POST /entityOperations/upsert?options=replace|update (clauses 5.6.8, 6.15.3.1). A new entity is
/// created; an existing one is replaced whole, keeping createdAt (replace, the default), or gets the entity's attributes
/// appended, overwriting those it already has (update).
/// </summary>
internal static class UpsertBatch
{
    public static async Task HandleAsync(HttpContext http, BatchForwarding forwarding)
    {
        var batch = await BatchRequest.ReadEntitiesAsync(http);
        var options = QueryParameters.Options(batch.Request, "replace", "update");
        if (options.Contains("replace") && options.Contains("update"))
            throw NgsiException.BadRequestData("options=replace and options=update exclude each other");
        var update = options.Contains("update");
        var items = await batch.ParseEntitiesAsync((body, context, _) => EntityParser.ParseEntity(body, context, ParseMode.Full));
        var store = await batch.TenantStoreAsync(forWrite: true, items);
        // Clause 4.3.6.3: the entities (or attributes) registered sources hold are written there.
        var distributed = await forwarding.ForwardAsync(batch, store, items, Kontext.Ngsi.ContextSources.RegistrationOperations.UpsertBatch);
        var results = await BatchExecution.RunAsync(batch, items, distributed, store, item => EntityWrites.Upsert(item.Value!, update, handedOver: true),
            (item, created) => new BatchItemResult(item.Index, item.Id, created ? BatchItemStatus.Created : BatchItemStatus.Changed, null));
        await BatchResponse.WriteUpsertAsync(batch, distributed.Merge(results));
    }
}
