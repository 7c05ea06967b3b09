using System.Text.Json.Nodes;
using Kontext.Broker.Batch;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// The distributed part of the batch operations (clause 4.3.6.3 with 5.6.7–5.6.10 and 5.6.20): each entity of the batch
/// is planned like its single-entity write; every source gets one batch request (POST /entityOperations/{op}) holding the
/// entities it takes, each reduced to the attributes it holds. What exclusive and redirect sources hold is left out of the
/// local write; an entity they hold whole is not written locally at all. Each source's answer (201/204, or a 207
/// BatchOperationResult) becomes the result of its entities.
/// </summary>
internal sealed class BatchForwarding(ProvisionForwarding provision, ContextSourceClient client)
{
    public async Task<BatchDistribution> ForwardAsync<T>(BatchRequest batch, ITenantStore? store, IReadOnlyList<BatchItem<T>> items, string operation)
    {
        var planner = await provision.PlannerAsync(batch.Request, store);
        var distribution = new BatchDistribution();
        if (planner is null) return distribution;

        var perSource = new Dictionary<string, (Registration Registration, List<(BatchItem<T> Item, JsonNode Body)> Entities)>(StringComparer.Ordinal);
        foreach (var item in items.Where(i => i.Error is null))
        {
            var entity = item.Value as Entity;
            var what = new ForwardingRequest(operation, ProvisionForwarding.Entity(item.Id!, entity?.Types ?? []),
                entity?.Attributes.Keys.ToHashSet(StringComparer.Ordinal));
            var plan = planner(what);
            if (plan is null) continue;
            var write = new DistributedWrite(item.Id!, what, plan);
            foreach (var refusing in plan.Conflicts)
                write.Add(new WritePart(ProvisionForwarding.Name(refusing.Registration), [],
                    NgsiError.Conflict($"The context source registered for this entity does not offer {operation}")));
            // As the client sent it: the parse may have moved values out of its own node of the item into the entity.
            var body = batch.Sent(item.Index);
            // The entity's terms are expanded once, whatever the number of sources it goes to.
            var expand = body is JsonObject entityBody && entity is not null && plan.Targets.Count > 0 ? await ExpanderAsync(batch, entityBody) : null;
            foreach (var target in plan.Targets)
            {
                JsonNode sent = body is JsonObject obj && expand is not null
                    ? JsonNode.Parse(ProvisionForwarding.Reduce(obj, expand, target.Attributes).Body)!
                    : batch.Sent(item.Index);
                var key = target.Registration.Id;
                if (!perSource.TryGetValue(key, out var group)) perSource[key] = group = (target.Registration, []);
                group.Entities.Add((item, sent));
            }
            distribution.Writes[item.Index] = write;
            distribution.SkipsLocal[item.Index] = entity is null ? !write.RunsLocally : !write.Omit(entity);
        }

        var contextUrl = await NgsiResponse.ContextUrlAsync(batch.Request);
        var via = ProvisionForwarding.Via(batch.Request);
        var contentType = ProvisionForwarding.ContentType(batch.Request);
        var resource = $"entityOperations/{batch.Http.Request.Path.Value!.Split('/').Last()}{batch.Http.Request.QueryString}";
        var answers = await Task.WhenAll(perSource.Values.Select(async group =>
        {
            var bodies = group.Entities.Select(e => e.Body).ToList();
            var body = new JsonArray(bodies.ToArray()).ToJsonString();
            // Entities that share one @context URL go as JSON with it in the Link header (clause 6.3.5), like any forwarded
            // request; with differing or inline contexts each keeps its own, as JSON-LD.
            var request = SharedContextUrl(bodies) is { } shared && contentType == "application/ld+json"
                ? new ContextSourceRequest(HttpMethod.Post, resource, shared, via, body, "application/json")
                : new ContextSourceRequest(HttpMethod.Post, resource, contextUrl, via, body, contentType);
            var response = await client.SendAsync(group.Registration, request, batch.Request.Tenant, batch.Aborted);
            return (group, response);
        }));
        foreach (var (group, response) in answers)
        {
            var failed = PerEntityErrors(response, out var whole);
            foreach (var (item, _) in group.Entities)
            {
                var error = whole ?? (failed.TryGetValue(item.Id!, out var e) ? e : null);
                distribution.Writes[item.Index].Add(new WritePart(group.Registration.Id, [], error));
                if (error is null && response.Status == StatusCodes.Status201Created) distribution.Created.Add(item.Index);
            }
        }
        return distribution;
    }

    /// <summary>The one @context URL every entity names (a string, or an array of one string); null when they differ or embed terms.</summary>
    private static string? SharedContextUrl(IReadOnlyList<JsonNode> bodies)
    {
        string? shared = null;
        foreach (var body in bodies)
        {
            var url = (body as JsonObject)?["@context"] switch
            {
                JsonValue v when v.TryGetValue<string>(out var one) => one,
                JsonArray { Count: 1 } a when a[0] is JsonValue v && v.TryGetValue<string>(out var one) => one,
                _ => null,
            };
            if (url is null || (shared is not null && shared != url)) return null;
            shared = url;
        }
        return shared;
    }

    /// <summary>An entity sent as JSON-LD is read with its own @context, one sent as JSON with the Link header's (clause 6.3.5).</summary>
    private static async Task<Func<string, string>> ExpanderAsync(BatchRequest batch, JsonObject entity)
    {
        if (!batch.IsJsonLd || !entity.TryGetPropertyValue("@context", out var context)) return batch.Request.Context.ExpandTerm;
        var processor = batch.Request.Services.GetRequiredService<Kontext.Ngsi.JsonLd.ContextProcessor>();
        return (await processor.ProcessAsync(context, batch.Aborted)).ExpandTerm;
    }

    /// <summary>The errors a source's answer names per entity; <paramref name="whole"/> is set when the whole answer is an error.</summary>
    private static Dictionary<string, NgsiError> PerEntityErrors(ContextSourceResponse response, out NgsiError? whole)
    {
        var errors = new Dictionary<string, NgsiError>(StringComparer.Ordinal);
        whole = null;
        if (response.Answered && response.Status == StatusCodes.Status207MultiStatus)
        {
            try
            {
                if (JsonNode.Parse(response.Body) is JsonObject result && result["errors"] is JsonArray items)
                {
                    foreach (var item in items.OfType<JsonObject>())
                    {
                        if (item["entityId"]?.ToString() is not { } id) continue;
                        var problem = item["error"] as JsonObject;
                        errors[id] = new NgsiError(problem?["type"]?.ToString() ?? NgsiError.TypeBase + "InternalError",
                            problem?["status"] is JsonValue s && s.TryGetValue<int>(out var status) ? status : 500,
                            problem?["title"]?.ToString() ?? "Context source error", problem?["detail"]?.ToString() ?? "the context source did not take this entity");
                    }
                    return errors;
                }
            }
            catch (System.Text.Json.JsonException) { }
        }
        whole = ProvisionForwarding.Failure(response);
        return errors;
    }
}

/// <summary>What the sources did with a batch's entities, by item index, and how that changes the batch's results.</summary>
internal sealed class BatchDistribution
{
    public Dictionary<int, DistributedWrite> Writes { get; } = [];

    /// <summary>Items that exclusive or redirect sources hold whole: not written locally.</summary>
    public Dictionary<int, bool> SkipsLocal { get; } = [];

    /// <summary>Items a source answered 201 Created for.</summary>
    public HashSet<int> Created { get; } = [];

    /// <summary>The local result of an item the sources hold whole (not written locally); null for an item written here.</summary>
    public BatchItemResult? SkippedLocally(int index, string? id) =>
        SkipsLocal.TryGetValue(index, out var skip) && skip
            ? new BatchItemResult(index, id, Created.Contains(index) ? BatchItemStatus.Created : BatchItemStatus.Changed, null)
            : null;

    /// <summary>The batch's results with the sources' parts: an entity a source failed is listed in errors with the registration.</summary>
    public IReadOnlyList<BatchItemResult> Merge(IReadOnlyList<BatchItemResult> results)
    {
        if (Writes.Count == 0) return results;
        var merged = new List<BatchItemResult>(results.Count);
        foreach (var result in results)
        {
            if (!Writes.TryGetValue(result.Index, out var write)) { merged.Add(result); continue; }
            var failures = write.Parts.Where(p => !p.Succeeded).ToList();
            var skipped = SkipsLocal.TryGetValue(result.Index, out var s) && s;
            var anySucceeded = (skipped ? false : result.Succeeded) || write.Parts.Any(p => p.Succeeded);
            if (skipped && !anySucceeded && failures.Count > 0)
            {
                merged.Add(result with { Status = BatchItemStatus.Failed, Error = failures[0].Error, RegistrationId = failures[0].RegistrationId });
                failures.RemoveAt(0);
            }
            else if (!skipped && !result.Succeeded && write.Parts.Any(p => p.Succeeded))
            {
                // Sources took the entity although this broker did not: it is a success too, and the local error stays listed.
                merged.Add(result with { Status = Created.Contains(result.Index) ? BatchItemStatus.Created : BatchItemStatus.Changed, Error = null });
                merged.Add(result);
            }
            else merged.Add(result);
            merged.AddRange(failures.Select(f => new BatchItemResult(result.Index, result.EntityId, BatchItemStatus.Failed, f.Error, f.RegistrationId)));
        }
        return merged;
    }
}
