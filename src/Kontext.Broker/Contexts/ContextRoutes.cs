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
/// @context management (clause 5.13): list, add (Hosted), serve and delete. ImplicitlyCreated contexts are the inline
/// ones the broker had to name by a URL (a Link header, a subscription's jsonldContext); Cached ones are remote contexts
/// the broker fetched. The bundled core contexts are served (as Cached) and cannot be deleted.
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

    /// <summary>One @context the broker knows, as the details of clause 5.2.40 describe it.</summary>
    private sealed record ContextEntry(string Url, string LocalId, ContextKind Kind, DateTimeOffset CreatedAt)
    {
        public void WriteTo(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("URL", Url);
            writer.WriteString("localId", LocalId);
            writer.WriteString("kind", Kind.ToString());
            writer.WriteString("createdAt", Kontext.Ngsi.Model.Validate.Format(CreatedAt));
            writer.WriteEndObject();
        }
    }

    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    private static async Task ServeAsync(HttpContext http, string contextId, HostedContexts hosted, IEntityStorage storage)
    {
        var tenant = NgsiRequest.ReadTenant(http); // a public document: no Accept or Link processing
        var details = Flag(http, "details");
        var id = Uri.UnescapeDataString(contextId);
        ContextEntry entry;
        string document;
        if (CoreVersion(id) is { } core)
        {
            entry = new ContextEntry(core.Url, id, ContextKind.Cached, Started);
            document = CoreContext.Document(core.Version);
        }
        else if (Uri.TryCreate(id, UriKind.Absolute, out _))
        {
            var cached = await storage.Contexts.GetAsync(id, http.RequestAborted) ?? throw NotFound(id);
            var storedAt = (await storage.Contexts.ListAsync(http.RequestAborted)).FirstOrDefault(e => e.Key == id)?.StoredAt ?? Started;
            entry = new ContextEntry(id, Uri.EscapeDataString(id), ContextKind.Cached, storedAt);
            // Only the @context member: a document stored before that rule may still carry more.
            document = RemoteContextLoader.Normalize(id, cached);
        }
        else
        {
            // A request naming another tenant does not see this one's contexts (clause 5.5.10); one naming none may
            // dereference any URL the broker handed out.
            if (tenant is not null && !HostedContexts.Owns(tenant, id)) throw NotFound(id);
            var found = await hosted.FindAsync(id, http.RequestAborted) ?? throw NotFound(id);
            entry = new ContextEntry(HostedUrl(http, id), id, found.Kind, found.StoredAt);
            document = found.Document;
        }
        http.Response.ContentType = "application/json";
        if (!details)
        {
            await http.Response.WriteAsync(document, http.RequestAborted);
            return;
        }
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        entry.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }

    /// <summary>The caller's Hosted and ImplicitlyCreated contexts and every Cached one (a shared cache of public documents).</summary>
    private static async Task ListAsync(HttpContext http, IEntityStorage storage)
    {
        var tenant = (await NgsiRequest.ReadAsync(http)).Tenant;
        var details = Flag(http, "details");
        var kindText = http.Request.Query["kind"].ToString();
        ContextKind? kind = kindText.Length == 0 ? null
            : Enum.TryParse<ContextKind>(kindText, ignoreCase: false, out var k) && Enum.IsDefined(k) ? k
            : throw NgsiException.BadRequestData("kind must be Hosted, Cached or ImplicitlyCreated");
        var entries = (await storage.Contexts.ListAsync(http.RequestAborted))
            .Select(e => HostedContexts.FromKey(e.Key) is { } h
                ? HostedContexts.Owns(tenant, h.Id) ? new ContextEntry(HostedUrl(http, h.Id), h.Id, h.Kind, e.StoredAt) : null
                : new ContextEntry(e.Key, Uri.EscapeDataString(e.Key), ContextKind.Cached, e.StoredAt))
            .OfType<ContextEntry>()
            .Where(e => kind is null || e.Kind == kind)
            .ToList();
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var entry in entries)
        {
            if (details) entry.WriteTo(writer);
            else writer.WriteStringValue(entry.Url);
        }
        writer.WriteEndArray();
        await writer.FlushAsync(http.RequestAborted);
    }

    private static async Task AddAsync(NgsiRequest request, HostedContexts hosted, ContextProcessor processor, IOptions<KontextOptions> options)
    {
        var http = request.Http;
        NgsiRequest.ContentKind(http.Request.ContentType);
        // A payload that is not {"@context": ...} is not the request this operation defines (clause 5.13.2.4).
        var body = await NgsiRequest.ReadJsonAsync(http, options.Value.Limits.MaxRequestBodyBytes) as JsonObject
                   ?? throw NgsiException.InvalidRequest("The body must be a JSON object with an @context member");
        if (!body.TryGetPropertyValue("@context", out var context) || context is null)
            throw NgsiException.InvalidRequest("The body must be a JSON object with an @context member");
        hosted.Document(context); // the size cap first: a context too large to host is not processed either
        await processor.ProcessAsync(context, http.RequestAborted); // a context that does not process is refused, not hosted; its URLs become Cached
        await request.TenantStoreAsync(forWrite: true); // hosting is a write in the tenant, which must exist (or be created)
        var id = await hosted.RegisterAsync(request.Tenant, context, ContextKind.Hosted, http.RequestAborted);
        http.Response.StatusCode = StatusCodes.Status201Created;
        http.Response.Headers.Location = $"{Base}/{id}";
    }

    /// <summary>
    /// Delete (clause 5.13.5). reload=true applies to Cached contexts only: the document is fetched again at once and the
    /// stored copy stays when that fails (504). The bundled core context is never deleted; reloading it is a no-op.
    /// </summary>
    private static async Task DeleteAsync(HttpContext http, string contextId, HostedContexts hosted, RemoteContextLoader remote, ContextProcessor processor,
        IEntityStorage storage)
    {
        var tenant = (await NgsiRequest.ReadAsync(http)).Tenant;
        var reload = Flag(http, "reload");
        var id = Uri.UnescapeDataString(contextId);
        var isUrl = Uri.TryCreate(id, UriKind.Absolute, out _);
        if (CoreVersion(id) is not null)
        {
            if (!reload) throw NgsiException.BadRequestData("The NGSI-LD core context cannot be deleted");
        }
        else if (reload)
        {
            if (!isUrl) throw NgsiException.BadRequestData("reload=true applies to Cached @contexts only; Hosted and ImplicitlyCreated ones have nothing to fetch");
            if (await storage.Contexts.GetAsync(id, http.RequestAborted) is null) throw NotFound(id);
            await remote.ReloadAsync(id, http.RequestAborted);
        }
        else
        {
            var deleted = isUrl
                ? await remote.ForgetAsync(id, http.RequestAborted)
                : await hosted.DeleteAsync(tenant, id, http.RequestAborted); // another tenant's hosted context is not found
            if (!deleted) throw NotFound(id);
        }
        processor.Clear();
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The bundled core context a local id or URL names (any published core URL, or the names served under Base).</summary>
    private static (string Url, string Version)? CoreVersion(string id)
    {
        if (id is "ngsi-ld-core-context-v1.8.jsonld") return (CoreContext.V18Url, "1.8");
        if (id is "ngsi-ld-core-context-v1.9.jsonld" or "ngsi-ld-core-context.jsonld") return (CoreContext.V19Url, "1.9");
        if (!CoreContext.IsCoreContextUrl(id)) return null;
        return (id, id.Contains("-v1.8", StringComparison.Ordinal) ? "1.8" : "1.9");
    }

    private static string HostedUrl(HttpContext http, string id) => $"{http.Request.Scheme}://{http.Request.Host}{Base}/{id}";

    /// <summary>A boolean URL parameter: true, false or absent; anything else is 400.</summary>
    private static bool Flag(HttpContext http, string name) => http.Request.Query[name].ToString() switch
    {
        "" or "false" => false,
        "true" => true,
        var other => throw NgsiException.BadRequestData($"'{name}' must be true or false, not '{other}'"),
    };

    private static NgsiException NotFound(string id) => NgsiException.NotFound($"No @context with id '{id}'");
}
