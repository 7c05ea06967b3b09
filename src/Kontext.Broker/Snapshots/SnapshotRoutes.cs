using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Snapshots;

/// <summary>
/// Snapshots (clause 5.16, resources 6.36–6.38): create (the queries' results frozen in a copy), list, retrieve,
/// update (snapshotPriority, snapshotLifetime), delete, clone and purge. Retrieval and queries over a copy are the entity
/// API's own, scoped by the NGSILD-Snapshot header (<see cref="NgsiRequest.TenantStoreAsync"/>).
/// Temporal snapshot queries are not supported.
/// </summary>
internal static class SnapshotRoutes
{
    public const string Root = "/ngsi-ld/v1/snapshots";

    /// <summary>The members a client may set on create, update and clone; the others are the broker's (400 when sent to update).</summary>
    private static readonly HashSet<string> Writable = new(StringComparer.Ordinal) { "snapshotPriority", "snapshotLifetime" };

    public static void MapSnapshots(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Root);
        group.MapPost("", CreateAsync);
        group.MapGet("", ListAsync);
        group.MapDelete("", PurgeAsync);
        group.MapGet("{snapshotId}", RetrieveAsync);
        group.MapPatch("{snapshotId}", UpdateAsync);
        group.MapDelete("{snapshotId}", DeleteAsync);
        group.MapPost("{snapshotId}/clone", CloneAsync);
    }

    /// <summary>Create Snapshot (5.16.1): 201 at once, the copy filled in the background.</summary>
    private static async Task CreateAsync(HttpContext http, SnapshotRegistry registry)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var body = request.Body!;
        CheckType(body);
        if (body.ContainsKey("snapshotTemporalQueries"))
            throw new NgsiException(NgsiError.OperationNotSupported("Temporal snapshots (snapshotTemporalQueries) are not supported by this broker"));
        if (body["snapshotQueries"] is not JsonArray { Count: > 0 } queriesJson)
            throw NgsiException.BadRequestData("A snapshot needs snapshotQueries, a non-empty array of Query");
        var queries = queriesJson.Select(q => ParseQuery(q, request)).ToList();
        var id = body["id"] is { } given ? Validate.EntityId(given is JsonValue v && v.TryGetValue<string>(out var s) ? s : null, "snapshot id")
            : "urn:ngsi-ld:Snapshot:" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        var snapshot = new Snapshot { Id = id, Tenant = request.Tenant, QueriesJson = (JsonArray)queriesJson.DeepClone(), CreatedAt = now, ModifiedAt = now, LastUsedAt = now };
        ApplyWritable(snapshot, body); // a bad body is 400 whether or not the tenant exists
        var store = await request.TenantStoreAsync(forWrite: false);
        registry.Add(snapshot, store, queries, SnapshotOrigin.Of(request));
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = Root + "/" + HeaderIri.PathSegment(id);
    }

    private static async Task ListAsync(NgsiRequest request, SnapshotRegistry registry)
    {
        var http = request.Http;
        var page = Pagination.Read(request);
        var all = registry.List(request.Tenant);
        var selected = all.Skip(page.Offset).Take(page.Limit).ToList();
        if (page.Count) http.Response.Headers["NGSILD-Results-Count"] = all.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        page.WriteLinks(http, selected.Count, all.Count);
        await WriteAsync(request, new JsonArray(selected.Select(s => (JsonNode?)s.ToJson()).ToArray()));
    }

    private static async Task RetrieveAsync(NgsiRequest request, string snapshotId, SnapshotRegistry registry)
    {
        var http = request.Http;
        await WriteAsync(request, Find(registry, request, snapshotId).ToJson());
    }

    /// <summary>Update Snapshot (5.16.4): snapshotPriority and snapshotLifetime; every other member is the broker's (400). Answers the snapshot.</summary>
    private static async Task UpdateAsync(HttpContext http, string snapshotId, SnapshotRegistry registry)
    {
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var snapshot = Find(registry, request, snapshotId);
        var body = request.Body!;
        CheckType(body);
        if (body.Select(p => p.Key).FirstOrDefault(k => k is not ("type" or "@context" or "id") && !Writable.Contains(k)) is { } readOnly)
            throw NgsiException.BadRequestData($"'{readOnly}' cannot be changed: only snapshotPriority and snapshotLifetime can");
        if (body["id"] is { } given && !(given is JsonValue v && v.TryGetValue<string>(out var s) && s == snapshot.Id))
            throw NgsiException.BadRequestData("The id in the body is not the snapshot's");
        ApplyWritable(snapshot, body);
        snapshot.ModifiedAt = DateTimeOffset.UtcNow;
        await WriteAsync(request, snapshot.ToJson());
    }

    private static async Task DeleteAsync(NgsiRequest request, string snapshotId, SnapshotRegistry registry)
    {
        var http = request.Http;
        var snapshot = Find(registry, request, snapshotId);
        registry.Remove(request.Tenant, snapshot.Id);
        NgsiResponse.NoContent(request);
    }

    /// <summary>Clone Snapshot (5.16.2): a new snapshot over the same copy, with the priority and lifetime the body gives.</summary>
    private static async Task CloneAsync(HttpContext http, string snapshotId, SnapshotRegistry registry)
    {
        var hasBody = http.Request.ContentLength > 0;
        var request = hasBody ? await NgsiRequest.ReadWithBodyAsync(http) : await NgsiRequest.ReadAsync(http);
        var original = Find(registry, request, snapshotId);
        var body = request.Body ?? [];
        CheckType(body);
        if (body.Select(p => p.Key).FirstOrDefault(k => k is not ("type" or "@context") && !Writable.Contains(k)) is { } other)
            throw NgsiException.BadRequestData($"'{other}' cannot be given to a clone: only snapshotPriority and snapshotLifetime can");
        var now = DateTimeOffset.UtcNow;
        var clone = new Snapshot
        {
            Id = "urn:ngsi-ld:Snapshot:" + Guid.NewGuid().ToString("N"), Tenant = request.Tenant, QueriesJson = original.QueriesJson,
            CreatedAt = now, ModifiedAt = now, LastUsedAt = now, Priority = original.Priority, Lifetime = original.Lifetime,
        };
        ApplyWritable(clone, body);
        await registry.AddCloneAsync(clone, original);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = Root + "/" + HeaderIri.PathSegment(clone.Id);
    }

    /// <summary>Purge Snapshots (5.16.7): those the q selects, which may only name the snapshot's own members; all without q.</summary>
    private static async Task PurgeAsync(NgsiRequest request, SnapshotRegistry registry)
    {
        var http = request.Http;
        var text = request.Query["q"].ToString();
        QExpr? q = null;
        if (text.Length > 0)
        {
            q = QLanguage.Parse(text, request.Context);
            if (QAttributes.Of(q).FirstOrDefault(a => !Snapshot.QueryableMembers.Contains(a)) is { } other)
                throw NgsiException.BadRequestData($"The purge q can only name snapshot members (snapshotPriority, snapshotStatus, lastUsedAt, snapshotLifetime), not '{request.Context.CompactIri(other)}'");
        }
        foreach (var snapshot in registry.List(request.Tenant))
            if (q is null || QEvaluator.Evaluate(q, snapshot.AsQueryTarget())) registry.Remove(request.Tenant, snapshot.Id);
        NgsiResponse.NoContent(request);
    }

    private static Snapshot Find(SnapshotRegistry registry, NgsiRequest request, string snapshotId)
    {
        var id = Uri.UnescapeDataString(snapshotId);
        return registry.Get(request.Tenant, id) ?? throw NgsiException.NotFound($"The snapshot '{id}' does not exist");
    }

    private static SnapshotQuery ParseQuery(JsonNode? node, NgsiRequest request)
    {
        if (node is not JsonObject query) throw NgsiException.BadRequestData("Each snapshotQueries item is a Query object");
        if (query["type"] is { } type && !(type is JsonValue tv && tv.TryGetValue<string>(out var t) && t == "Query"))
            throw NgsiException.BadRequestData("Each snapshotQueries item is of type Query");
        if (query.ContainsKey("temporalQ"))
            throw NgsiException.BadRequestData("snapshotQueries take no temporalQ: temporal queries go in snapshotTemporalQueries");
        var parsed = EntityQuery.Parse(EntityQueryParameters.FromBody(query), request.Context)
                     with { Selectors = EntitySelector.ParseList(query["entities"], request.Context) };
        var attrs = query["attrs"] switch
        {
            null => [],
            JsonArray a when a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
            _ => throw NgsiException.BadRequestData("'attrs' must be an array of attribute names"),
        };
        if (parsed == EntityQuery.All && attrs.Count == 0)
            throw NgsiException.BadRequestData("A snapshot query needs entities, attrs, q, geoQ or scopeQ");
        return new SnapshotQuery(parsed, EntityQueryRequest.AnyOf(request, attrs));
    }

    private static void CheckType(JsonObject body)
    {
        if (body["type"] is { } type && !(type is JsonValue v && v.TryGetValue<string>(out var t) && t == "Snapshot"))
            throw NgsiException.BadRequestData("The body must be of type Snapshot");
    }

    private static void ApplyWritable(Snapshot snapshot, JsonObject body)
    {
        if (body["snapshotPriority"] is { } priority)
            snapshot.Priority = priority is JsonValue pv && pv.TryGetValue<int>(out var p) && p >= 0 ? p
                : throw NgsiException.BadRequestData("snapshotPriority must be a non-negative integer");
        if (body["snapshotLifetime"] is { } lifetime)
            snapshot.Lifetime = lifetime is JsonValue lv && lv.TryGetValue<double>(out var l) && l > 0 && double.IsFinite(l) ? l
                : throw NgsiException.BadRequestData("snapshotLifetime must be a positive number of seconds");
    }

    private static async Task WriteAsync(NgsiRequest request, JsonNode body)
    {
        var bodyContext = await NgsiResponse.PrepareAsync(request);
        if (bodyContext is not null)
        {
            if (body is JsonObject one) one["@context"] = bodyContext.DeepClone();
            else foreach (var item in body.AsArray().OfType<JsonObject>()) item["@context"] = bodyContext.DeepClone();
        }
        await using var writer = new Utf8JsonWriter(request.Http.Response.BodyWriter, NgsiJson.WriterOptions);
        body.WriteTo(writer);
        await writer.FlushAsync(request.Http.RequestAborted);
    }
}
