using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>How a forwarded write carries the request's body.</summary>
internal enum ForwardedBody
{
    /// <summary>No body (deletes).</summary>
    None,
    /// <summary>The entity or fragment, reduced to the attributes the target takes (id, type, scope and @context kept).</summary>
    Attributes,
    /// <summary>The body as received (one attribute's fragment).</summary>
    Whole,
}

/// <summary>One write forwarded to sources: method and resource relative to the source's NGSI-LD root, and its body.</summary>
internal sealed record ForwardedCall(HttpMethod Method, string Resource, ForwardedBody Body);

/// <summary>
/// The distributed part of the provision operations (clause 4.3.6.3 with 5.6): the attributes an exclusive, redirect or
/// inclusive registration matches are sent to its source (in the caller's terms and @context), exclusive and redirect ones
/// are then left out of the local write. An exclusive or redirect registration that matches but does not offer the
/// operation makes its part a Conflict. A request that came back to this broker and would go to an exclusive or redirect
/// source again is 508 LoopDetected (clause 6.3.17); one that would go to an inclusive source only is done locally.
/// local=true (clause 8.6) keeps the write local.
/// </summary>
internal sealed class ProvisionForwarding(ContextSourceClient client, ContextSourceIdentity identity, RegistrationChanges changes)
{
    public async Task<ForwardingPlan?> PlanAsync(NgsiRequest request, ITenantStore store, ForwardingRequest what) =>
        await PlannerAsync(request, store) is { } planner ? planner(what) : null;

    /// <summary>
    /// Plans writes of one request (one per entity of a batch) against the registrations read once; null when nothing is
    /// forwarded (no registrations, or local=true). A plan throws 508 LoopDetected for a write that came back.
    /// </summary>
    public async Task<Func<ForwardingRequest, ForwardingPlan?>?> PlannerAsync(NgsiRequest request, ITenantStore? store)
    {
        if (store?.Registrations is not { } registrations || QueryParameters.Flag(request, "local")) return null;
        var loaded = await RegistrationStores.LiveAsync(registrations, request.Tenant, changes, request.Http.RequestAborted);
        if (loaded.Count == 0) return null; // the usual write: nothing registered, nothing more to read from the request
        var live = loaded.Select(l => l.Registration).ToList();
        var via = ViaChain.Aliases(request.Http.Request.Headers.Via);
        var cameBack = via.Contains(identity.Alias(request.Tenant));
        return what =>
        {
            var plan = DistributedOperationPlanner.PlanProvision(what, live, via, DateTimeOffset.UtcNow);
            if (plan.Targets.Count == 0 && plan.Conflicts.Count == 0) return null;
            if (!cameBack) return plan;
            if (plan.Targets.Concat(plan.Conflicts).Any(t => t.Mode is RegistrationMode.Exclusive or RegistrationMode.Redirect))
                throw new NgsiException(NgsiError.LoopDetected("The request already passed this broker and would be forwarded to the same sources again"));
            return null;
        };
    }

    /// <summary>
    /// Plans the write and sends it to its sources. The answer is never null: without sources it runs the local part as it is.
    /// </summary>
    public async Task<DistributedWrite> ForwardAsync(NgsiRequest request, ITenantStore store, string entityId, ForwardingRequest what, ForwardedCall call)
    {
        var plan = await PlanAsync(request, store, what);
        if (plan is null) return new DistributedWrite(entityId, what, null);
        var write = new DistributedWrite(entityId, what, plan);
        foreach (var refusing in plan.Conflicts)
            write.Add(new WritePart(Name(refusing.Registration), refusing.Attributes?.ToList() ?? what.Attributes?.ToList() ?? [],
                NgsiError.Conflict($"The context source registered for this data does not offer {what.Operation}")));
        if (plan.Targets.Count == 0) return write;

        var contextUrl = await NgsiResponse.ContextUrlAsync(request);
        var via = Via(request);
        var contentType = ContentType(request);
        var sent = await Task.WhenAll(plan.Targets.Select(async target =>
        {
            var (body, names) = call.Body switch
            {
                ForwardedBody.Attributes => Body(request, target.Attributes),
                ForwardedBody.Whole => (request.Body?.ToJsonString(), what.Attributes?.ToList() ?? []),
                _ => (null, what.Attributes?.ToList() ?? []),
            };
            var response = await client.SendAsync(target.Registration,
                new ContextSourceRequest(call.Method, call.Resource, contextUrl, via, body, contentType), request.Tenant, request.Http.RequestAborted);
            return (target, names, response);
        }));
        foreach (var (target, names, response) in sent)
            write.Add(new WritePart(Name(target.Registration), names, Failure(response)));
        return write;
    }

    /// <summary>The registration as an answer names it: its id (BatchEntityError.registrationId, clause 5.2.17).</summary>
    internal static string Name(Registration registration) => registration.Id;

    internal static string? Via(NgsiRequest request) =>
        request.Http.Request.Headers.Via is { Count: > 0 } v ? string.Join(", ", v.Where(x => !string.IsNullOrWhiteSpace(x))) : null;

    internal static string ContentType(NgsiRequest request) =>
        request.Http.Request.ContentType?.Split(';')[0].Trim() is { Length: > 0 } ct ? ct : "application/json";

    /// <summary>The error a source's answer stands for: its own ProblemDetails when it sent one; null for a 2xx other than 207.</summary>
    internal static NgsiError? Failure(ContextSourceResponse response)
    {
        if (!response.Answered)
            return new NgsiError(NgsiError.TypeBase + "InternalError", 504, "Context source not available", response.Detail ?? "the context source did not answer");
        if (response.Status is >= 200 and < 300 and not 207) return null;
        if (response.Status == 207)
            return new NgsiError(NgsiError.TypeBase + "BadRequestData", 207, "Partial success at the context source", "the context source did only part of the write: " + Trim(response.Text));
        try
        {
            if (JsonNode.Parse(response.Body) is JsonObject problem && problem["type"] is JsonValue type && type.TryGetValue<string>(out var uri))
                return new NgsiError(uri, response.Status, problem["title"]?.ToString() ?? "Context source error",
                    problem["detail"]?.ToString() ?? $"the context source answered {response.Status}");
        }
        catch (System.Text.Json.JsonException) { }
        return new NgsiError(NgsiError.TypeBase + "InternalError", response.Status, "Context source error", $"the context source answered {response.Status}");
    }

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>The entity specification of a write to one entity (its types, when the request names them).</summary>
    public static EntitySpec Entity(string id, IReadOnlyList<string> types) =>
        new(types.Count == 0 ? null : types.Count == 1 ? new TypeIs(types[0]) : new TypeOr(new EquatableArray<TypeExpr>(types.Select(t => (TypeExpr)new TypeIs(t)))), [id]);

    /// <summary>A write of one attribute of one entity.</summary>
    public static ForwardingRequest Attribute(string operation, string id, string attribute) =>
        new(operation, new EntitySpec(Ids: [id]), new HashSet<string>(StringComparer.Ordinal) { attribute });

    /// <summary>The body for one source: id, type, scope and @context as sent, and the attributes it takes (all when null).</summary>
    internal static (string? Body, List<string> Names) Body(NgsiRequest request, IReadOnlySet<string>? attributes) =>
        request.Body is { } body ? Reduce(body, request.Context.ExpandTerm, attributes) : (null, []);

    /// <summary>An entity or fragment reduced to the attributes in <paramref name="attributes"/> (all when null), and their IRIs.</summary>
    internal static (string Body, List<string> Names) Reduce(JsonObject body, Func<string, string> expand, IReadOnlySet<string>? attributes)
    {
        var copy = new JsonObject();
        var names = new List<string>();
        foreach (var (key, value) in body)
        {
            var isAttribute = key is not ("id" or "@id" or "type" or "@type" or "@context" or "scope" or "expiresAt");
            if (isAttribute && attributes is not null && !attributes.Contains(expand(key))) continue;
            if (isAttribute) names.Add(expand(key)); // results name attributes by IRI, like local writes
            copy[key] = value?.DeepClone();
        }
        return (copy.ToJsonString(), names);
    }
}

/// <summary>What one party of a distributed write did: a source (its registration id) or this broker (null), the attributes, and its error.</summary>
internal sealed record WritePart(string? RegistrationId, IReadOnlyList<string> Attributes, NgsiError? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// One write to one entity, spread over the sources its plan names and this broker: the parts done so far, what is left
/// to do locally, and the answer (clause 4.3.6.3 with the provision operations of clause 5.6). Without a plan the local
/// write runs and answers as it always does.
/// </summary>
internal sealed class DistributedWrite(string entityId, ForwardingRequest what, ForwardingPlan? plan)
{
    private readonly List<WritePart> _parts = [];

    public IReadOnlyList<WritePart> Parts => _parts;

    public bool Forwarded => plan is not null;

    public int Succeeded => _parts.Count(p => p.Succeeded);

    internal void Add(WritePart part) => _parts.Add(part);

    /// <summary>False when a redirect registration takes the whole write away from local data.</summary>
    public bool RunsLocally => plan is null || !DistributedOperationPlanner.IsRedirectedWhole(plan, what);

    /// <summary>
    /// Leaves out of <paramref name="parsed"/> what exclusive and redirect sources hold; false when nothing is left to do
    /// locally (a redirect source takes all, or the sources hold every attribute the write names).
    /// </summary>
    public bool Omit(Entity parsed) => Omit(parsed.Attributes);

    /// <summary>The same for a temporal write: its attributes' instances that exclusive and redirect sources hold are left out.</summary>
    public bool Omit(Kontext.Ngsi.Temporal.TemporalEntityInput input) => Omit(input.Instances);

    private bool Omit(OrderedDictionary<string, List<JsonObject>> attributes)
    {
        if (plan is null) return true;
        var hadAttributes = attributes.Count > 0;
        foreach (var name in plan.LocalOmitted) attributes.Remove(name);
        return RunsLocally && !(hadAttributes && attributes.Count == 0);
    }

    /// <summary>False when the one attribute the write names is held by exclusive or redirect sources.</summary>
    public bool RunsLocallyFor(string attribute) => plan is null || (RunsLocally && !plan.LocalOmitted.Contains(attribute));

    /// <summary>
    /// Runs the local part. With sources involved, a local failure is one part of the answer rather than the answer.
    /// </summary>
    public async Task<T?> LocalAsync<T>(Func<Task<T>> write, IReadOnlyList<string>? attributes = null)
    {
        if (plan is null) return await write();
        try
        {
            var result = await write();
            _parts.Add(new WritePart(null, attributes ?? [], null));
            return result;
        }
        catch (NgsiException ex)
        {
            _parts.Add(new WritePart(null, attributes ?? [], ex.Error));
            return default;
        }
    }

    /// <summary>
    /// Runs the local part of a write to something one party holds (a temporal evolution, an attribute's history, one
    /// instance, whose id only its holder knows): <paramref name="write"/> answers false when this broker does not hold it,
    /// which is no failure when a source did the write, and a source's NotFound is none when another party did it. False
    /// only without sources, when this broker does not hold it (the caller's NotFound). Nothing runs locally unless
    /// <paramref name="runsLocally"/>.
    /// </summary>
    public async Task<bool> HeldAsync(bool runsLocally, Func<Task<bool>> write, NgsiError notFound, IReadOnlyList<string>? attributes = null)
    {
        if (plan is null) return await write();
        if (runsLocally)
        {
            try
            {
                _parts.Add(new WritePart(null, attributes ?? [], await write() ? null : notFound));
            }
            catch (NgsiException ex)
            {
                _parts.Add(new WritePart(null, attributes ?? [], ex.Error));
            }
        }
        if (_parts.Any(p => p.Succeeded)) _parts.RemoveAll(p => p.Error is { Status: StatusCodes.Status404NotFound });
        else if (_parts.Count > 0 && _parts.All(p => p.Error is { Status: StatusCodes.Status404NotFound })) throw new NgsiException(notFound);
        return true;
    }

    public Task LocalAsync(Func<Task> write, IReadOnlyList<string>? attributes = null) =>
        LocalAsync(async () => { await write(); return true; }, attributes);

    /// <summary>
    /// The answer when sources were involved and some part failed: the error itself when the write had one part, else 207
    /// with a BatchOperationResult (entity writes: create, delete, merge, replace, purge) naming each failed party. True when answered.
    /// </summary>
    public async Task<bool> AnswerEntityAsync(NgsiRequest request)
    {
        if (!NeedsAnswer()) return false;
        var http = request.Http;
        http.Response.StatusCode = StatusCodes.Status207MultiStatus;
        http.Response.ContentType = "application/json";
        var result = new JsonObject
        {
            ["success"] = _parts.Any(p => p.Succeeded) ? new JsonArray(entityId) : new JsonArray(),
            ["errors"] = new JsonArray(_parts.Where(p => !p.Succeeded).Select(p => (JsonNode)BatchEntityError(entityId, p)).ToArray()),
        };
        await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted);
        return true;
    }

    /// <summary>
    /// The answer of an attribute write when sources were involved and some part failed: the error itself when the write had
    /// one part, else 207 with an UpdateResult (clause 5.2.18) of the local outcome and each source's attributes. True when answered.
    /// </summary>
    public async Task<bool> AnswerAttributesAsync(NgsiRequest request, UpdateResult? local = null)
    {
        if (plan is null) return false;
        var localFailed = local is { NotUpdated.Count: > 0 };
        if (!NeedsAnswer() && !localFailed) return false;
        var updated = new List<string>(local?.Updated ?? []);
        var notUpdated = new List<NotUpdatedDetail>(local?.NotUpdated ?? []);
        foreach (var part in _parts)
        {
            var names = part.Attributes.Count > 0 ? part.Attributes : [entityId];
            if (part.Succeeded) { if (part.RegistrationId is not null) updated.AddRange(names); }
            else notUpdated.AddRange(names.Select(n => new NotUpdatedDetail(n, Reason(part))));
        }
        await NgsiResponse.WriteUpdateResultAsync(request, new UpdateResult(updated.Distinct().ToList(), notUpdated));
        return true;
    }

    private bool NeedsAnswer()
    {
        if (plan is null || _parts.All(p => p.Succeeded)) return false;
        if (_parts.Count == 1) throw new NgsiException(_parts[0].Error!);
        return true;
    }

    private static string Reason(WritePart part) =>
        (part.RegistrationId is { } id ? id + ": " : "") + part.Error!.Detail;

    internal static JsonObject BatchEntityError(string entityId, WritePart part)
    {
        var error = part.Error!;
        var item = new JsonObject { ["entityId"] = entityId };
        if (part.RegistrationId is not null) item["registrationId"] = part.RegistrationId;
        item["error"] = new JsonObject { ["type"] = error.Type, ["title"] = error.Title, ["status"] = error.Status, ["detail"] = error.Detail };
        return item;
    }
}
