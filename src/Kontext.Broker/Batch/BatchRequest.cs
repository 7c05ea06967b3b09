using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kontext.Broker.Batch;

/// <summary>
/// One batch request (clauses 6.14–6.18 and /entityOperations/merge): headers as <see cref="NgsiRequest"/> reads them (tenant, Accept, Link
/// @context) and a body that is a non-empty JSON array. Whole-request faults (media type, JSON syntax, shape, size) are
/// thrown here; faults of one item are reported by <see cref="ParseEntitiesAsync{T}"/> and never fail the request.
/// </summary>
internal sealed class BatchRequest
{
    // The items as the client sent them (immutable): each parse gets a node of its own over its item, so a parse that
    // moves values out of its node and then fails leaves nothing half-moved that anything else could read.
    private readonly JsonElement[] _items;

    private BatchRequest(NgsiRequest request, bool isJsonLd, JsonElement[] items)
    {
        Request = request;
        IsJsonLd = isJsonLd;
        _items = items;
    }

    /// <summary>Tenant, Accept and the Link header @context (the context of every entity sent as application/json).</summary>
    public NgsiRequest Request { get; }
    public HttpContext Http => Request.Http;
    public bool IsJsonLd { get; }
    /// <summary>Item <paramref name="index"/> as the client sent it, a new node each time (forwarded to context sources).</summary>
    public JsonNode Sent(int index) => StrictJson.Node(_items[index])!;
    public CancellationToken Aborted => Request.Http.RequestAborted;

    /// <summary>Reads a batch of entities (create, upsert, update, merge): every item must be a JSON object.</summary>
    public static Task<BatchRequest> ReadEntitiesAsync(HttpContext http) => ReadAsync(http, entities: true);

    /// <summary>Reads a batch of entity ids (delete): every item must be a string.</summary>
    public static Task<BatchRequest> ReadIdsAsync(HttpContext http) => ReadAsync(http, entities: false);

    private static async Task<BatchRequest> ReadAsync(HttpContext http, bool entities)
    {
        var limits = BrokerServices.Of(http).GetRequiredService<IOptions<KontextOptions>>().Value.Limits;
        var isJsonLd = NgsiRequest.ContentKind(http.Request.ContentType) == "application/ld+json";
        // Clause 6.3.5: with application/ld+json the @context travels in the payload (here: in each entity), never in a Link
        // header. Checked before the Link context is resolved, so a bad request never waits on a remote fetch.
        if (entities && isJsonLd && NgsiRequest.HasContextLink(http.Request))
            throw NgsiException.BadRequestData("A JSON-LD @context Link header must not be sent with Content-Type application/ld+json; put an @context in each entity");
        var request = await NgsiRequest.ReadAsync(http);

        var body = await NgsiRequest.ReadJsonElementAsync(http, limits.MaxRequestBodyBytes);
        if (body.ValueKind != JsonValueKind.Array) throw NgsiException.BadRequestData("The body of a batch operation must be a JSON array");
        var count = body.GetArrayLength();
        if (count == 0) throw NgsiException.BadRequestData("The batch is empty");
        if (count > limits.MaxBatchSize)
            throw new NgsiException(NgsiError.RequestEntityTooLarge($"The batch has {count} items; at most {limits.MaxBatchSize} are accepted in one request"));
        var items = new JsonElement[count];
        var i = 0;
        foreach (var item in body.EnumerateArray())
        {
            // Clause 5.6.7.4 (and 5.6.8–5.6.10, 5.6.20): a null item fails the whole request; so does an item of the wrong JSON kind.
            if (item.ValueKind == JsonValueKind.Null) throw NgsiException.BadRequestData($"Item {i} of the batch is null");
            if (entities && item.ValueKind != JsonValueKind.Object)
                throw NgsiException.BadRequestData($"Item {i} of the batch is not a JSON object (an entity)");
            if (!entities && item.ValueKind != JsonValueKind.String)
                throw NgsiException.BadRequestData($"Item {i} of the batch is not a string (an entity id)");
            items[i++] = item;
        }
        return new BatchRequest(request, isJsonLd, items);
    }

    /// <summary>
    /// Parses each entity with its own active context: the Link header's for application/json, the entity's own @context
    /// for application/ld+json (where every entity must carry one). An item that does not parse becomes an error item.
    /// <paramref name="parse"/> reads the item as sent (immutable): a parse that fails half-way leaves nothing behind.
    /// </summary>
    public async Task<List<BatchItem<T>>> ParseEntitiesAsync<T>(Func<JsonElement, JsonLdContext, string, T> parse)
    {
        var processor = Request.Services.GetRequiredService<ContextProcessor>();
        var contexts = new Dictionary<string, (JsonLdContext? Context, NgsiError? Error)>(StringComparer.Ordinal);
        var parsed = new List<BatchItem<T>>(_items.Length);
        // A batch's entities are mostly of a few types: each type is checked for the hint once per context, not per entity.
        var hinted = new HashSet<(JsonLdContext, string)>();
        for (var index = 0; index < _items.Length; index++)
        {
            var item = _items[index];
            var rawId = RawId(item);
            try
            {
                var id = Validate.EntityId(rawId ?? throw NgsiException.BadRequestData(
                    item.TryGetProperty("id", out _) || item.TryGetProperty("@id", out _) ? "The entity 'id' must be a string" : "The entity has no 'id'"));
                var context = await ContextOfAsync(item, processor, contexts);
                if (!item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || hinted.Add((context, type.GetString()!)))
                    Contexts.DefaultVocabularyHint.CheckEntity(Http, item, context);
                parsed.Add(BatchItem<T>.Valid(index, id, parse(item, context, id)));
            }
            catch (NgsiException ex)
            {
                parsed.Add(BatchItem<T>.Invalid(index, rawId, ex.Error));
            }
        }
        return parsed;
    }

    /// <summary>The ids of a delete batch; an id that is not a URI becomes an error item.</summary>
    public List<BatchItem<string>> ParseIds()
    {
        var parsed = new List<BatchItem<string>>(_items.Length);
        for (var index = 0; index < _items.Length; index++)
        {
            var raw = _items[index].GetString()!;
            parsed.Add(Validate.IsUri(raw)
                ? BatchItem<string>.Valid(index, raw, raw)
                : BatchItem<string>.Invalid(index, raw, NgsiError.BadRequestData($"The entity id '{raw}' is not a valid URI")));
        }
        return parsed;
    }

    /// <summary>
    /// The tenant's store. Create and upsert may create the tenant, but only when some entity is valid (an all-invalid batch
    /// leaves no empty tenant behind); update, delete and merge need an existing tenant (404 NonexistentTenant, D6).
    /// </summary>
    public async Task<ITenantStore?> TenantStoreAsync<T>(bool forWrite, IReadOnlyList<BatchItem<T>> items)
    {
        if (forWrite && items.All(i => i.Error is not null)) return null;
        return await Request.TenantStoreAsync(forWrite);
    }

    private async ValueTask<JsonLdContext> ContextOfAsync(JsonElement item, ContextProcessor processor,
        Dictionary<string, (JsonLdContext? Context, NgsiError? Error)> contexts)
    {
        if (!IsJsonLd)
        {
            if (item.TryGetProperty("@context", out _))
                throw NgsiException.BadRequestData("An @context in an entity needs Content-Type application/ld+json; with application/json send it in a Link header");
            return Request.Context;
        }
        if (!item.TryGetProperty("@context", out var userContext))
            throw NgsiException.BadRequestData("With Content-Type application/ld+json every entity of the batch needs its own @context");

        // Entities of one batch usually share their @context: each distinct one is processed (and, if remote, fetched) once,
        // and a failure is remembered rather than retried for every entity.
        var key = userContext.GetRawText();
        if (!contexts.TryGetValue(key, out var known))
        {
            try
            {
                known = (await processor.ProcessAsync(StrictJson.Node(userContext), Aborted), null);
            }
            catch (NgsiException ex)
            {
                known = (null, ex.Error);
            }
            contexts[key] = known;
        }
        return known.Context ?? throw new NgsiException(known.Error!);
    }

    private static string? RawId(JsonElement item) =>
        (StrictJson.Member(item, "id") ?? StrictJson.Member(item, "@id")) is { ValueKind: JsonValueKind.String } id ? id.GetString() : null;
}

/// <summary>One item of a batch, in array order: its parsed value, or the error that keeps it out of the batch.</summary>
internal sealed record BatchItem<T>(int Index, string? Id, T? Value, NgsiError? Error)
{
    public static BatchItem<T> Valid(int index, string id, T value) => new(index, id, value, null);
    public static BatchItem<T> Invalid(int index, string? id, NgsiError error) => new(index, id, default, error);
}
