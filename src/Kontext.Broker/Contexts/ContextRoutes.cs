using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Contexts;

/// <summary>
/// @context management (clause 5.13): list, add (hosted), serve and delete. Hosted contexts are the ones added here
/// or given inline by clients; cached ones are remote contexts the broker fetched. The bundled core contexts are served
/// and cannot be deleted.
/// </summary>
internal static class ContextRoutes
{
    private const string Base = "/ngsi-ld/v1/jsonldContexts";

    public static void MapContexts(this IEndpointRouteBuilder app)
    {
        app.MapGet(Base + "/{contextId}", ServeAsync);
        app.MapGet(Base, ListAsync);
        app.MapPost(Base, AddAsync);
        app.MapDelete(Base + "/{contextId}", DeleteAsync);
    }

    private static async Task ServeAsync(HttpContext http, string contextId, HostedContexts hosted, IEntityStorage storage)
    {
        var id = Uri.UnescapeDataString(contextId);
        var document = id switch
        {
            "ngsi-ld-core-context-v1.8.jsonld" => CoreContext.Document("1.8"),
            "ngsi-ld-core-context-v1.9.jsonld" or "ngsi-ld-core-context.jsonld" => CoreContext.Document("1.9"),
            // Only the @context member: a document stored before that rule may still carry more.
            _ when Uri.TryCreate(id, UriKind.Absolute, out _) => await storage.Contexts.GetAsync(id, http.RequestAborted) is { } cached
                ? RemoteContextLoader.Normalize(id, cached)
                : null,
            _ => await hosted.GetAsync(id, http.RequestAborted),
        } ?? throw NgsiException.NotFound($"No @context with id '{id}'");
        http.Response.ContentType = "application/ld+json";
        await http.Response.WriteAsync(document, http.RequestAborted);
    }

    /// <summary>The caller's hosted contexts and every cached remote one (a shared cache of public documents).</summary>
    private static async Task ListAsync(HttpContext http, IEntityStorage storage)
    {
        var tenant = (await NgsiRequest.ReadAsync(http)).Tenant;
        var details = http.Request.Query["details"].ToString() == "true";
        var kind = http.Request.Query["kind"].ToString();
        if (kind.Length > 0 && kind is not ("Hosted" or "Cached"))
            throw NgsiException.BadRequestData("kind must be Hosted or Cached");
        var entries = (await storage.Contexts.ListAsync(http.RequestAborted))
            .Where(e => !e.Key.StartsWith(HostedContexts.Prefix, StringComparison.Ordinal) || HostedContexts.Owns(tenant, e.Key[HostedContexts.Prefix.Length..]))
            .Select(e => e.Key.StartsWith(HostedContexts.Prefix, StringComparison.Ordinal)
                ? (Url: $"{http.Request.Scheme}://{http.Request.Host}{Base}/{e.Key[HostedContexts.Prefix.Length..]}", LocalId: e.Key[HostedContexts.Prefix.Length..], Kind: "Hosted", e.StoredAt)
                : (Url: e.Key, LocalId: Uri.EscapeDataString(e.Key), Kind: "Cached", e.StoredAt))
            .Where(e => kind.Length == 0 || e.Kind == kind)
            .ToList();
        NgsiProblem.EchoTenant(http);
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var entry in entries)
        {
            if (!details) { writer.WriteStringValue(entry.Url); continue; }
            writer.WriteStartObject();
            writer.WriteString("URL", entry.Url);
            writer.WriteString("localId", entry.LocalId);
            writer.WriteString("kind", entry.Kind);
            writer.WriteString("createdAt", entry.StoredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        await writer.FlushAsync(http.RequestAborted);
    }

    private static async Task AddAsync(HttpContext http, HostedContexts hosted, ContextProcessor processor, IOptions<KontextOptions> options)
    {
        var request = await NgsiRequest.ReadAsync(http);
        NgsiRequest.ContentKind(http.Request.ContentType);
        var body = await NgsiRequest.ReadJsonAsync(http, options.Value.Limits.MaxRequestBodyBytes) as JsonObject
                   ?? throw NgsiException.BadRequestData("The body must be a JSON object with an @context member");
        if (!body.TryGetPropertyValue("@context", out var context) || context is null)
            throw NgsiException.BadRequestData("The body must be a JSON object with an @context member");
        hosted.Document(context); // the size cap first: a context too large to host is not processed either
        await processor.ProcessAsync(context, http.RequestAborted); // a context that does not process is refused, not hosted
        await request.TenantStoreAsync(forWrite: true); // hosting is a write in the tenant, which must exist (or be created)
        var id = await hosted.RegisterAsync(request.Tenant, context, http.RequestAborted);
        NgsiProblem.EchoTenant(http);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = $"{Base}/{id}";
    }

    private static async Task DeleteAsync(HttpContext http, string contextId, HostedContexts hosted, RemoteContextLoader remote, ContextProcessor processor)
    {
        var tenant = (await NgsiRequest.ReadAsync(http)).Tenant;
        var id = Uri.UnescapeDataString(contextId);
        if (id.StartsWith("ngsi-ld-core-context", StringComparison.Ordinal) || CoreContext.IsCoreContextUrl(id))
            throw NgsiException.BadRequestData("The NGSI-LD core context cannot be deleted");
        var deleted = Uri.TryCreate(id, UriKind.Absolute, out _)
            ? await remote.ForgetAsync(id, http.RequestAborted)
            : await hosted.DeleteAsync(tenant, id, http.RequestAborted); // another tenant's hosted context is not found
        if (!deleted) throw NgsiException.NotFound($"No @context with id '{id}'");
        processor.Clear();
        // reload=true: fetch a cached remote context again right away, so a changed document takes effect now.
        if (http.Request.Query["reload"].ToString() == "true" && Uri.TryCreate(id, UriKind.Absolute, out _))
            await remote.LoadContextAsync(id, http.RequestAborted);
        NgsiProblem.EchoTenant(http);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
