using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace Kontext.Broker.WebConsole; // not "Console": that would shadow System.Console for all of Kontext.Broker.*

/// <summary>
/// GET /console: the web console (docs/console.md), static files open to anyone like /docs. They carry no data: every
/// call the console makes goes to the API with the signed-in user's own credential, so it can do no more than its user.
/// Settings: Kontext:Console:Enabled (true), Kontext:Console:TileUrl (a base map, {z}/{x}/{y}; none by default, the map
/// works without), Kontext:Console:TileAttribution.
/// </summary>
public static class ConsoleEndpoints
{
    public const string Mount = "/console";

    public static WebApplication MapConsole(this WebApplication app)
    {
        var section = app.Configuration.GetSection("Kontext:Console");
        if (!section.GetValue("Enabled", true)) return app;
        var tileUrl = section["TileUrl"] is { Length: > 0 } url ? url : null;
        var assets = new ConsoleAssets(typeof(ConsoleEndpoints).Assembly);
        assets.Add("config.json", JsonSerializer.SerializeToUtf8Bytes(new { tileUrl, tileAttribution = section["TileAttribution"] }));
        var policy = ContentSecurityPolicy(tileUrl);

        IResult Serve(string? path) => assets.Find(string.IsNullOrEmpty(path) ? "index.html" : path) is { } asset
            ? new ConsoleFileResult(asset, policy) : Results.NotFound();
        // Routing ignores a trailing slash, so "/console/" arrives here too: the page's relative URLs need that slash.
        app.MapGet(Mount, (HttpContext http) => http.Request.Path.Value!.EndsWith('/') ? Serve(null) : Results.Redirect(Mount + "/"));
        app.MapGet(Mount + "/{*path}", (string? path) => Serve(path));
        return app;
    }

    /// <summary>No inline script or style, nothing from another origin but the configured tiles.</summary>
    internal static string ContentSecurityPolicy(string? tileUrl)
    {
        var tiles = tileUrl is not null && Uri.TryCreate(tileUrl.Replace("{", "").Replace("}", ""), UriKind.Absolute, out var uri)
            ? " " + uri.GetLeftPart(UriPartial.Authority) : "";
        return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:" + tiles
            + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    }

    private sealed class ConsoleFileResult(ConsoleAsset asset, string policy) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var response = http.Response;
            response.Headers.ContentSecurityPolicy = policy;
            response.Headers.XContentTypeOptions = "nosniff";
            response.Headers["Referrer-Policy"] = "no-referrer";
            response.Headers.CacheControl = "no-cache"; // revalidated with the ETag: a new broker version is seen at once
            response.Headers.ETag = asset.ETag;
            response.Headers.Vary = "Accept-Encoding";
            response.ContentType = asset.ContentType;
            if (http.Request.Headers.IfNoneMatch == asset.ETag)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            var gzip = AcceptsGzip(http.Request.Headers.AcceptEncoding);
            var body = gzip ? asset.Gzip : asset.Raw;
            if (gzip) response.Headers.ContentEncoding = "gzip";
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, http.RequestAborted);
        }

        private static bool AcceptsGzip(StringValues header) =>
            header.Any(v => v is not null && v.Split(',').Any(e => e.Trim().StartsWith("gzip", StringComparison.OrdinalIgnoreCase) && !e.Contains("q=0", StringComparison.Ordinal)));
    }
}
