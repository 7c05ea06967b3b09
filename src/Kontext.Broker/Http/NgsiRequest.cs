using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Kontext.Broker.Http;

/// <summary>The media types a response can take.</summary>
internal enum ResponseMedia { Json, JsonLd, GeoJson }

/// <summary>
/// One request, read once at the edge: tenant, @context (Link header or body, clause 6.3.5), the JSON body
/// (size-capped) and the negotiated response media type.
/// </summary>
internal sealed class NgsiRequest
{
    public const string TenantHeader = "NGSILD-Tenant";
    public const string JsonLdContextRel = "http://www.w3.org/ns/json-ld#context";

    private JsonObject? _body;

    private NgsiRequest(HttpContext http, IServiceProvider services, string? tenant, JsonLdContext context, JsonElement? body, ResponseMedia media)
    {
        Http = http;
        Services = services;
        Tenant = tenant;
        Context = context;
        BodyElement = body;
        Media = media;
        Prefer = PreferHeader.Parse(http.Request.Headers["Prefer"]);
    }

    public HttpContext Http { get; }

    /// <summary>The broker's singletons (<see cref="BrokerServices"/>).</summary>
    public IServiceProvider Services { get; }
    public string? Tenant { get; }
    public JsonLdContext Context { get; }

    /// <summary>
    /// The body as read: an immutable object element holding its own copy of the text. The entity writes parse it
    /// directly (<see cref="EntityParser"/> reads elements only); null for a request read without a body.
    /// </summary>
    public JsonElement? BodyElement { get; }

    /// <summary>
    /// The body as a node, for handlers that edit or rebuild it (registrations, subscriptions, snapshots, forwarded bodies).
    /// Built on first use over <see cref="BodyElement"/>, which it never changes; the same node on every call.
    /// </summary>
    public JsonObject? Body => _body ??= BodyElement is { } element ? (JsonObject)StrictJson.Node(element)! : null;
    public ResponseMedia Media { get; }
    public PreferHeader Prefer { get; }
    public IQueryCollection Query => Http.Request.Query;

    /// <summary>
    /// Minimal APIs' binding: a handler that takes an <see cref="NgsiRequest"/> gets the request read as one without a body
    /// (GET, DELETE: tenant, Accept, Link @context, Prefer checked before the handler runs). Handlers that read a body, or
    /// answer in GeoJSON, call <see cref="ReadWithBodyAsync"/> / <see cref="ReadAsync(HttpContext, bool)"/> themselves.
    /// </summary>
    public static async ValueTask<NgsiRequest?> BindAsync(HttpContext http) => await ReadAsync(http);

    /// <summary>Reads a request without a body (GET, DELETE).</summary>
    public static ValueTask<NgsiRequest> ReadAsync(HttpContext http, bool allowGeoJson = false) => ReadAsync(http, expectBody: false, allowGeoJson, allowMergePatch: false);

    /// <summary>Reads a request whose body is one JSON object (POST /entityOperations/query may answer in GeoJSON).</summary>
    public static ValueTask<NgsiRequest> ReadWithBodyAsync(HttpContext http, bool allowMergePatch = false, bool allowGeoJson = false) => ReadAsync(http, expectBody: true, allowGeoJson, allowMergePatch);

    // ValueTasks: a request without a body under a known @context is read without waiting, and then allocates no task.
    private static async ValueTask<NgsiRequest> ReadAsync(HttpContext http, bool expectBody, bool allowGeoJson, bool allowMergePatch)
    {
        var services = BrokerServices.Of(http);
        var tenant = ReadTenant(http);
        var media = NegotiateResponse(http.Request, allowGeoJson);
        var linkContext = ReadLinkContext(http.Request);
        JsonElement? body = null;
        JsonNode? context = linkContext is null ? null : JsonValue.Create(linkContext);

        if (expectBody)
        {
            // application/merge-patch+json is the JSON of a PATCH (clause 6.3.4): accepted by every PATCH, read as application/json.
            var contentType = ContentKind(http.Request.ContentType, allowMergePatch || HttpMethods.IsPatch(http.Request.Method));
            var element = await ReadBodyAsync(http, services.GetRequiredService<IOptions<KontextOptions>>().Value.Limits.MaxRequestBodyBytes);
            body = element;
            var hasContext = element.TryGetProperty("@context", out var bodyContext);
            if (contentType == "application/ld+json")
            {
                if (linkContext is not null)
                    throw NgsiException.BadRequestData("A JSON-LD @context Link header must not be sent with Content-Type application/ld+json; put the @context in the body");
                if (!hasContext)
                    throw NgsiException.BadRequestData("Content-Type application/ld+json needs an @context member in the body");
                context = StrictJson.Node(bodyContext);
            }
            else if (hasContext)
            {
                throw NgsiException.BadRequestData("An @context in the body needs Content-Type application/ld+json; with application/json send it in a Link header");
            }
        }

        var processor = services.GetRequiredService<ContextProcessor>();
        var active = await processor.ProcessAsync(context, http.RequestAborted);
        if (body is { } entity) Contexts.DefaultVocabularyHint.CheckEntity(http, entity, active);
        return new NgsiRequest(http, services, tenant, active, body, media);
    }

    public const string SnapshotHeader = "NGSILD-Snapshot";

    /// <summary>
    /// The tenant's store; reading an unknown tenant is 404 NonexistentTenant, writing creates it (D6). With an
    /// NGSILD-Snapshot header, the snapshot's read-only copy instead (clause 6.3.22; 404 for an unknown snapshot), and the
    /// header is echoed.
    /// </summary>
    public async ValueTask<ITenantStore> TenantStoreAsync(bool forWrite)
    {
        if (Http.Request.Headers.TryGetValue(SnapshotHeader, out var snapshotHeader) && snapshotHeader.ToString().Trim() is { Length: > 0 } snapshotId)
        {
            var view = await Services.GetRequiredService<Snapshots.SnapshotRegistry>().ViewAsync(Tenant, snapshotId, Http.RequestAborted);
            Http.Response.Headers[SnapshotHeader] = snapshotId;
            return view;
        }
        var storage = Services.GetRequiredService<IEntityStorage>();
        return await storage.GetTenantAsync(Tenant, forWrite, Http.RequestAborted)
               ?? throw new NgsiException(NgsiError.NonexistentTenant($"The tenant '{Tenant}' does not exist"));
    }

    /// <summary>The tenant named by the request (null: the default tenant), checked before anything is read or written.</summary>
    internal static string? ReadTenant(HttpContext http)
    {
        if (!http.Request.Headers.TryGetValue(TenantHeader, out var values)) return null;
        var tenant = values.ToString().Trim();
        return tenant.Length == 0 ? null : Validate.TenantName(tenant);
    }

    /// <summary>The request's JSON media type; anything else is 415.</summary>
    internal static string ContentKind(string? contentType, bool allowMergePatch = false)
    {
        if (string.IsNullOrEmpty(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var parsed))
            throw new NgsiException(NgsiError.UnsupportedMediaType("The request needs Content-Type application/json or application/ld+json"));
        var media = parsed.MediaType.ToString().ToLowerInvariant();
        if (media is "application/json" or "application/ld+json") return media;
        if (allowMergePatch && media == "application/merge-patch+json") return "application/json";
        throw new NgsiException(NgsiError.UnsupportedMediaType($"Content-Type '{media}' is not supported; use application/json or application/ld+json"));
    }

    // A payload of another JSON kind (an array, a string) is not a request this operation defines: InvalidRequest, as for
    // payloads that are not JSON at all (clause 5.5.4); its content is never looked at.
    private static async Task<JsonElement> ReadBodyAsync(HttpContext http, long maxBytes) =>
        await ReadJsonElementAsync(http, maxBytes) is { ValueKind: JsonValueKind.Object } body ? body : throw NgsiException.InvalidRequest("The body must be a JSON object");

    /// <summary>Reads the body as JSON, capped at <paramref name="maxBytes"/> (413 beyond, checked while streaming).</summary>
    internal static async Task<JsonNode?> ReadJsonAsync(HttpContext http, long maxBytes) => StrictJson.Node(await ReadJsonElementAsync(http, maxBytes));

    /// <summary>The body as an immutable JSON element (see <see cref="ReadJsonAsync"/>).</summary>
    internal static async Task<JsonElement> ReadJsonElementAsync(HttpContext http, long maxBytes)
    {
        if (http.Request.ContentLength > maxBytes)
            throw new NgsiException(NgsiError.RequestEntityTooLarge($"The request body exceeds {maxBytes} bytes"));
        // One pooled buffer, sized by Content-Length when there is one (the parsed JSON keeps its own copy): a PATCH
        // allocates no growing stream and no chunk per request. Past 64 KiB it grows as bytes arrive, so a client that
        // announces a large body and sends it slowly holds no more memory than it has sent.
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var buffer = pool.Rent((int)Math.Clamp(http.Request.ContentLength + 1 ?? 16 * 1024, 1, Math.Min(maxBytes + 1, 64 * 1024)));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = pool.Rent((int)Math.Min((long)buffer.Length * 2, Array.MaxLength));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                }
                var read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted);
                if (read == 0) break;
                if (length + (long)read > maxBytes)
                    throw new NgsiException(NgsiError.RequestEntityTooLarge($"The request body exceeds {maxBytes} bytes"));
                length += read;
            }
            if (length == 0) throw NgsiException.InvalidRequest("The request body is empty");
            return StrictJson.ParseElement(buffer.AsSpan(0, length));
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    /// <summary>True when the request names a JSON-LD @context in a Link header.</summary>
    internal static bool HasContextLink(HttpRequest request) => ReadLinkContext(request) is not null;

    /// <summary>The @context URL from a Link header with rel json-ld#context (clause 6.3.5).</summary>
    private static string? ReadLinkContext(HttpRequest request)
    {
        foreach (var header in request.Headers.Link)
        {
            if (string.IsNullOrWhiteSpace(header)) continue;
            foreach (var link in SplitLinks(header))
            {
                var start = link.IndexOf('<');
                var end = link.IndexOf('>');
                if (start < 0 || end <= start) throw NgsiException.BadRequestData("Malformed Link header");
                var rel = link[(end + 1)..];
                if (rel.Contains("rel=", StringComparison.OrdinalIgnoreCase) && !rel.Contains(JsonLdContextRel, StringComparison.Ordinal)) continue;
                var url = link[(start + 1)..end].Trim();
                if (!Uri.TryCreate(url, UriKind.Absolute, out _)) throw NgsiException.BadRequestData($"The @context Link '{url}' is not an absolute URL");
                return url;
            }
        }
        return null;
    }

    private static IEnumerable<string> SplitLinks(string header)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i] == '<') depth++;
            else if (header[i] == '>') depth--;
            else if (header[i] == ',' && depth == 0)
            {
                yield return header[start..i];
                start = i + 1;
            }
        }
        yield return header[start..];
    }

    /// <summary>Accept negotiation (<see cref="AcceptHeader"/>): application/json when there is no Accept header.</summary>
    internal static ResponseMedia NegotiateResponse(HttpRequest request, bool allowGeoJson)
    {
        var header = request.Headers.Accept;
        var accept = header.Count switch
        {
            0 => "",
            1 => string.IsNullOrWhiteSpace(header[0]) ? "" : header[0]!,
            _ => string.Join(",", header.Where(a => !string.IsNullOrWhiteSpace(a))),
        };
        if (accept.Length == 0) return ResponseMedia.Json;
        return AcceptHeader.Choose(accept, allowGeoJson ? OfferedWithGeoJson : Offered) switch
        {
            "application/json" => ResponseMedia.Json,
            "application/ld+json" => ResponseMedia.JsonLd,
            "application/geo+json" => ResponseMedia.GeoJson,
            _ => throw new NgsiException(NgsiError.NotAcceptable(
                $"None of '{accept}' can be served; use application/json or application/ld+json{(allowGeoJson ? " or application/geo+json" : "")}")),
        };
    }

    // In the order of clause 6.3.4, which breaks ties between equal weights.
    private static readonly string[] Offered = ["application/json", "application/ld+json"];
    private static readonly string[] OfferedWithGeoJson = ["application/json", "application/ld+json", "application/geo+json"];
}
