using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Contexts;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Http;

/// <summary>Writes responses: the @context goes into a Link header (JSON, GeoJSON) or the body (JSON-LD), clause 6.3.6.</summary>
internal static class NgsiResponse
{
    /// <summary>
    /// One entity; with a flat join that reached linked entities, an array of the entity followed by them (clause 4.5.23).
    /// GeoJSON gives a Feature (the linked entities of a flat join become a FeatureCollection). Both entity answers go
    /// out sized (<see cref="SizedBody"/>), the same headers whichever path renders them.
    /// </summary>
    public static async Task WriteEntityAsync(NgsiRequest request, Entity entity, RenderOptions options, string geometryProperty)
    {
        var http = request.Http;
        var amended = VersionFallback.Amend(entity, request.Prefer, request.Context);
        var renderer = new EntityRenderer(request.Context, options);
        // 203: the payload was changed to suit the version the client prefers (clause 4.3.6.8).
        var bodyContext = await PrepareAsync(request, amended is null ? StatusCodes.Status200OK : StatusCodes.Status203NonAuthoritative);
        var shown = amended ?? entity;
        var flat = options.Joined is { Mode: JoinMode.Flat, Flat.Count: > 0 } joined ? joined.Flat : null;
        SizedBody.WriteJson(http.Response, (Renderer: renderer, Entity: shown, Flat: flat, Options: options, BodyContext: bodyContext,
            Geometry: request.Media == ResponseMedia.GeoJson ? geometryProperty : null), static (writer, state) =>
        {
            var (renderer, shown, flat, options, bodyContext, geometry) = state;
            if (geometry is not null)
            {
                var features = new GeoJsonRenderer(renderer, geometry);
                if (flat is null) features.WriteFeature(writer, shown, bodyContext);
                else features.WriteFeatureCollection(writer, [(shown, options.Fields), .. flat], bodyContext);
            }
            else if (flat is null) renderer.WriteEntity(writer, shown, bodyContext);
            else
            {
                writer.WriteStartArray();
                renderer.WriteEntity(writer, shown, bodyContext);
                foreach (var (linked, projection) in flat) renderer.WriteEntity(writer, linked, projection, bodyContext);
                writer.WriteEndArray();
            }
        });
    }

    /// <summary>An entity written straight from its stored document (a plain Retrieve Entity; see RetrieveEntity.RendersStored).</summary>
    public static async Task WriteEntityAsync(NgsiRequest request, StoredEntity entity, RenderOptions options)
    {
        var bodyContext = await PrepareAsync(request);
        SizedBody.WriteJson(request.Http.Response, (Renderer: new EntityRenderer(request.Context, options), Entity: entity, BodyContext: bodyContext),
            static (writer, state) => state.Renderer.WriteEntity(writer, state.Entity, state.BodyContext));
    }

    /// <summary>
    /// Sets status, content type, tenant, context and preference headers; returns the @context to embed in the body, if
    /// any. Clause 6.3.6: JSON-LD and GeoJSON carry the @context in the body (GeoJSON in a Link header instead when the
    /// client sends Prefer: body=json), JSON in a Link header.
    /// </summary>
    public static async ValueTask<JsonNode?> PrepareAsync(NgsiRequest request, int status = StatusCodes.Status200OK)
    {
        var http = request.Http;
        http.Response.StatusCode = status;
        if (request.Prefer.Version is { } version) http.Response.Headers.Append("Preference-Applied", "ngsi-ld=" + version);
        var coreUrl = request.Services.GetRequiredService<IOptions<KontextOptions>>().Value.Contexts.CoreContextUrl;
        var userContext = request.Context.UserContext;
        http.Response.ContentType = request.Media switch
        {
            ResponseMedia.JsonLd => "application/ld+json",
            ResponseMedia.GeoJson => "application/geo+json",
            _ => "application/json",
        };
        if (request.Media == ResponseMedia.JsonLd || (request.Media == ResponseMedia.GeoJson && !request.Prefer.BodyJson))
            return userContext?.DeepClone() ?? JsonValue.Create(coreUrl);
        if (request.Media == ResponseMedia.GeoJson) http.Response.Headers.Append("Preference-Applied", "body=json");
        var url = await ContextUrlAsync(request, userContext, coreUrl);
        http.Response.Headers.Append("Link", ContextLink(url));
        return null;
    }

    // Most answers name the same @context (the core one): its Link header value is built once, not per response. One
    // immutable pair swapped whole, so a reader never sees one request's URL with another's header.
    private sealed record ContextLinkHeader(string Url, string Header);

    private static ContextLinkHeader? _lastLink;

    private static string ContextLink(string url)
    {
        if (_lastLink is { } last && last.Url == url) return last.Header;
        var header = $"<{HeaderIri.Uri(url)}>; rel=\"{NgsiRequest.JsonLdContextRel}\"; type=\"application/ld+json\"";
        _lastLink = new ContextLinkHeader(url, header);
        return header;
    }

    /// <summary>The URL naming the request's @context: the core URL, the caller's URL, or a hosted URL for inline contexts.</summary>
    public static Task<string> ContextUrlAsync(NgsiRequest request) =>
        ContextUrlAsync(request, request.Context.UserContext,
            request.Services.GetRequiredService<IOptions<KontextOptions>>().Value.Contexts.CoreContextUrl).AsTask();

    // A ValueTask: most answers name the core or the caller's URL, known without waiting.
    private static async ValueTask<string> ContextUrlAsync(NgsiRequest request, JsonNode? userContext, string coreUrl)
    {
        if (userContext is null) return coreUrl;
        if (userContext is JsonValue v && v.TryGetValue<string>(out var single)) return single;
        // ["url"] names the same context as "url": the Link header can name it as it is, not a hosted copy.
        if (userContext is JsonArray { Count: 1 } list && list[0] is JsonValue item && item.TryGetValue<string>(out var only)) return only;
        var hosted = request.Services.GetRequiredService<HostedContexts>();
        var id = await hosted.RegisterAsync(request.Tenant, userContext, ContextKind.ImplicitlyCreated, request.Http.RequestAborted);
        var http = request.Http;
        return $"{http.Request.Scheme}://{http.Request.Host}/ngsi-ld/v1/jsonldContexts/{id}";
    }

    public static void NoContent(NgsiRequest request)
    {
        request.Http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>207 Multi-Status with the UpdateResult of clause 5.2.18; names as expanded IRIs, as the conformance suite expects.</summary>
    public static async Task WriteUpdateResultAsync(NgsiRequest request, UpdateResult result)
    {
        var http = request.Http;
        http.Response.StatusCode = StatusCodes.Status207MultiStatus;
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartArray("updated");
        foreach (var name in result.Updated) writer.WriteStringValue(name);
        writer.WriteEndArray();
        writer.WriteStartArray("notUpdated");
        foreach (var item in result.NotUpdated)
        {
            writer.WriteStartObject();
            writer.WriteString("attributeName", item.AttributeName);
            writer.WriteString("reason", item.Reason);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(http.RequestAborted);
    }
}
