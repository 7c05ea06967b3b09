using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Ogc;

/// <summary>
/// One OGC API request: its absolute base URL (links are absolute), its tenant (NGSILD-Tenant, read by the NGSI-LD
/// tenant reader) and its query parameters, checked against those the API definition declares for the operation.
/// </summary>
internal sealed class OgcRequest
{
    public const string Json = "application/json";
    public const string GeoJson = "application/geo+json";
    public const string OpenApi = "application/vnd.oai.openapi+json;version=3.0";
    public const string Html = "text/html";

    private OgcRequest(HttpContext http, OgcOptions options)
    {
        Http = http;
        Options = options;
        var request = http.Request;
        BaseUrl = $"{request.Scheme}://{request.Host}{request.PathBase}/{options.Segment}";
    }

    public HttpContext Http { get; }
    public OgcOptions Options { get; }
    public string BaseUrl { get; }
    public CancellationToken Aborted => Http.RequestAborted;

    /// <summary>
    /// Reads the request; a query parameter outside <paramref name="parameters"/> and f is a 400 (/req/core/query-param-unknown).
    /// f names the one representation each resource has: json, or json/geojson for features (<paramref name="features"/>).
    /// </summary>
    public static OgcRequest Read(HttpContext http, string operation, IEnumerable<string> parameters, bool features = false, bool format = true)
    {
        var request = new OgcRequest(http, http.RequestServices.GetRequiredService<IOptions<OgcOptions>>().Value);
        var allowed = (format ? parameters.Append("f") : parameters).ToHashSet(StringComparer.Ordinal);
        foreach (var name in http.Request.Query.Keys)
            if (!allowed.Contains(name)) throw OgcException.UnknownParameter(name, operation);
        if (request.Single("f") is { } f && f != "json" && !(features && f == "geojson"))
            throw OgcException.InvalidParameter($"f '{f}' is not offered here; use {(features ? "geojson or json" : "json")}");
        return request;
    }

    /// <summary>The one value of a parameter, null when absent; given twice it is a 400.</summary>
    public string? Single(string name)
    {
        var values = Http.Request.Query[name];
        if (values.Count == 0) return null;
        if (values.Count > 1) throw OgcException.InvalidParameter($"'{name}' is given {values.Count} times; give it once");
        return values[0];
    }

    /// <summary>The tenant's store; an unknown tenant is 404 as in the NGSI-LD API (D6).</summary>
    public async Task<ITenantStore> TenantStoreAsync()
    {
        var tenant = NgsiRequest.ReadTenant(Http);
        var storage = Http.RequestServices.GetRequiredService<IEntityStorage>();
        return await storage.GetTenantAsync(tenant, create: false, Aborted)
               ?? throw OgcException.NotFound($"The tenant '{tenant}' does not exist");
    }

    public string Url(string path) => BaseUrl + path;

    /// <summary>The collection's path, its id escaped (a full-IRI id holds '/').</summary>
    public static string CollectionPath(string collectionId) => "/collections/" + Segment(collectionId);

    /// <summary>A path segment: escaped, but ':' and '@' (allowed in a segment) kept, so URN feature ids stay readable.</summary>
    public static string Segment(string value) =>
        Uri.EscapeDataString(value).Replace("%3A", ":", StringComparison.Ordinal).Replace("%40", "@", StringComparison.Ordinal);

    /// <summary>
    /// A path value as routing gives it: decoded, except that the server leaves an escaped '/' (%2F) escaped so it
    /// cannot split segments; undone here.
    /// </summary>
    public static string RouteValue(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>This request's own URL with some parameters replaced (null removes one), for self and paging links.</summary>
    public string WithParameters(IReadOnlyDictionary<string, string?> replaced)
    {
        var query = Http.Request.Query
            .Where(p => !replaced.ContainsKey(p.Key))
            .SelectMany(p => p.Value.Select(v => (p.Key, Value: v ?? "")))
            .Concat(replaced.Where(r => r.Value is not null).Select(r => (r.Key, Value: r.Value!)))
            .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))
            .ToList();
        var url = $"{Http.Request.Scheme}://{Http.Request.Host}{Http.Request.PathBase}{Http.Request.Path}";
        return query.Count == 0 ? url : url + "?" + string.Join("&", query);
    }

    public static JsonObject Link(string href, string rel, string type, string? title = null)
    {
        var link = new JsonObject { ["href"] = href, ["rel"] = rel, ["type"] = type };
        if (title is not null) link["title"] = title;
        return link;
    }

    /// <summary>Writes a JSON document (application/json unless <paramref name="contentType"/> says otherwise).</summary>
    public async Task WriteAsync(JsonNode document, string contentType = Json)
    {
        Http.Response.ContentType = contentType;
        await using var writer = new System.Text.Json.Utf8JsonWriter(Http.Response.BodyWriter, NgsiJson.WriterOptions);
        document.WriteTo(writer);
        await writer.FlushAsync(Aborted);
    }
}
