using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Snapshots;

/// <summary>
/// What a snapshot fill needs of the Create Snapshot request to run its queries the distributed way after the 201 has
/// been sent: the tenant, the @context (Link header, or the body's for application/ld+json), Via and the address the
/// broker was reached at (for a hosted @context).
/// </summary>
internal sealed record SnapshotOrigin(string? Tenant, string? Link, JsonNode? BodyContext, string? Via, string Scheme, HostString Host)
{
    public static SnapshotOrigin Of(NgsiRequest request)
    {
        var headers = request.Http.Request.Headers;
        var ldJson = request.Http.Request.ContentType?.StartsWith("application/ld+json", StringComparison.OrdinalIgnoreCase) == true;
        return new SnapshotOrigin(request.Tenant, headers.Link.Count > 0 ? headers.Link.ToString() : null,
            ldJson ? request.Body?["@context"]?.DeepClone() : null, headers.Via.Count > 0 ? headers.Via.ToString() : null,
            request.Http.Request.Scheme, request.Http.Request.Host);
    }
}

/// <summary>
/// Runs a snapshot query following the behaviour of Query Entities (clause 5.16.1.4 → 5.7.2.4): through the registered
/// context sources as well as local data (<see cref="EntityForwarding"/>). The fill runs in the background, so the query
/// is replayed as a POST /entityOperations/query of its own, with the Create Snapshot request's tenant, @context and Via.
/// </summary>
internal sealed class SnapshotSources(EntityForwarding forwarding, IServiceProvider services)
{
    /// <summary>Every match of <paramref name="query"/>, <paramref name="local"/> merged with the sources'; null when no source is asked.</summary>
    public async Task<IReadOnlyList<Entity>?> QueryAsync(SnapshotOrigin origin, JsonObject queryJson, SnapshotQuery query, ITenantStore store,
        IReadOnlyList<Entity> local, CancellationToken cancellationToken)
    {
        var http = new DefaultHttpContext { RequestServices = services, RequestAborted = cancellationToken };
        var body = (JsonObject)queryJson.DeepClone();
        http.Request.Method = HttpMethods.Post;
        http.Request.Scheme = origin.Scheme;
        http.Request.Host = origin.Host;
        http.Request.Path = "/ngsi-ld/v1/entityOperations/query";
        if (origin.BodyContext is { } context) body["@context"] = context.DeepClone();
        http.Request.ContentType = origin.BodyContext is null ? "application/json" : "application/ld+json";
        if (origin.Link is { } link && origin.BodyContext is null) http.Request.Headers.Link = link;
        if (origin.Tenant is { } tenant) http.Request.Headers[NgsiRequest.TenantHeader] = tenant;
        if (origin.Via is { } via) http.Request.Headers.Via = via;
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;
        var request = await NgsiRequest.ReadWithBodyAsync(http);
        var plan = await forwarding.PlanAsync(request, store, new ForwardingRequest(RegistrationOperations.QueryEntity,
            new EntitySpec(query.Query.Type, query.Query.Ids?.ToList(), query.Query.IdPattern), query.AnyOf));
        if (plan is null) return null;
        return await forwarding.QueryAsync(request, plan, local, new ForwardingWarnings(), query.Query);
    }
}
