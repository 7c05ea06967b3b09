using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Batch;

/// <summary>
/// Batch Entity Update: POST /entityOperations/update?options=noOverwrite (clauses 5.6.9, 6.16.3.1). Each existing entity
/// gets the attributes of its fragment appended (Append Entity Attributes, 5.6.3): added, or overwritten unless
/// noOverwrite. An entity where noOverwrite kept some attributes is reported in errors (as the conformance suite's 005_02
/// expects a 207), although its other attributes were appended.
/// </summary>
internal static class UpdateBatch
{
    public static async Task HandleAsync(HttpContext http, BatchForwarding forwarding)
    {
        var batch = await BatchRequest.ReadEntitiesAsync(http);
        var noOverwrite = QueryParameters.Options(batch.Request, "noOverwrite").Contains("noOverwrite");
        var items = await batch.ParseEntitiesAsync((body, context, id) => EntityParser.ParseFragment(body, context, ParseMode.Full, id));
        var store = await batch.TenantStoreAsync(forWrite: false, items);
        // Clause 4.3.6.3: the entities (or attributes) registered sources hold are written there.
        var distributed = await forwarding.ForwardAsync(batch, store, items, Kontext.Ngsi.ContextSources.RegistrationOperations.UpdateBatch);
        var results = await BatchExecution.RunAsync(batch, items, distributed, store, item => EntityWrites.Append(item.Id!, item.Value!, noOverwrite), (item, outcome) =>
        {
            if (outcome.IsComplete) return new BatchItemResult(item.Index, item.Id, BatchItemStatus.Changed, null);
            var kept = string.Join(", ", outcome.NotUpdated.Select(n => n.AttributeName));
            var appended = outcome.Updated.Count == 0 ? "nothing was appended" : "the other attributes were appended";
            return new BatchItemResult(item.Index, item.Id, BatchItemStatus.Failed,
                NgsiError.AlreadyExists($"options=noOverwrite kept the existing attributes {kept} of '{item.Id}'; {appended}"));
        });
        await BatchResponse.WriteChangedAsync(batch, distributed.Merge(results));
    }
}
