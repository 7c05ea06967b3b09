using System.Text.Json;
using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Ogc;

/// <summary>
/// An OGC API error: the exception document of Part 1 ({"code", "description"}, schema exception.yaml) with its HTTP
/// status. The codes follow OGC Web Service usage (InvalidParameterValue, NotFound, …).
/// </summary>
internal sealed class OgcException(int status, string code, string description) : Exception(description)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    /// <summary>400: a parameter has a value the API cannot use (/req/core/query-param-invalid).</summary>
    public static OgcException InvalidParameter(string description) => new(StatusCodes.Status400BadRequest, "InvalidParameterValue", description);

    /// <summary>400: a parameter the API definition does not declare for this operation (/req/core/query-param-unknown).</summary>
    public static OgcException UnknownParameter(string name, string operation) =>
        new(StatusCodes.Status400BadRequest, "InvalidParameterValue", $"'{name}' is not a parameter of {operation} (see the API definition)");

    public static OgcException NotFound(string description) => new(StatusCodes.Status404NotFound, "NotFound", description);

    /// <summary>The same failure as an OGC exception, for errors raised by shared code (tenant, access check, rate limit).</summary>
    public static OgcException From(NgsiError error) => new(error.Status, error.Status switch
    {
        400 => "InvalidParameterValue",
        401 => "NotAuthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "OperationNotSupported",
        413 => "RequestTooLarge",
        429 => "TooManyRequests",
        _ => "ServerError",
    }, error.Detail);
}

/// <summary>Writes OGC exception documents: the one place OGC API failures become HTTP.</summary>
internal static class OgcExceptionWriter
{
    public static async Task WriteAsync(HttpContext http, OgcException error)
    {
        if (http.Response.HasStarted) return;
        // Keep the challenge and Retry-After headers the access check and the rate limiter set; drop everything else.
        var keep = new[] { "WWW-Authenticate", "Retry-After" }
            .Where(h => http.Response.Headers.ContainsKey(h)).ToDictionary(h => h, h => http.Response.Headers[h]);
        http.Response.Clear();
        foreach (var (name, value) in keep) http.Response.Headers[name] = value;
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("code", error.Code);
        writer.WriteString("description", error.Message);
        writer.WriteEndObject();
        await writer.FlushAsync();
    }
}

/// <summary>
/// Under the OGC mount every failure is an OGC exception document, also those raised before an OGC handler runs (the
/// access check's 401/403, the rate limiter's 429, an invalid NGSILD-Tenant) and unknown paths (404).
/// </summary>
internal sealed class OgcExceptionMiddleware(RequestDelegate next, Microsoft.Extensions.Options.IOptions<OgcOptions> options, ILogger<OgcExceptionMiddleware> logger)
{
    private readonly PathString _mount = options.Value.BasePath.TrimEnd('/');

    // Outside the mount (every NGSI-LD request) the request passes straight through: no asynchronous frame of this one.
    public Task InvokeAsync(HttpContext http) => http.Request.Path.StartsWithSegments(_mount) ? InvokeUnderMountAsync(http) : next(http);

    private async Task InvokeUnderMountAsync(HttpContext http)
    {
        try
        {
            await next(http);
            if (http.Response is { HasStarted: false, StatusCode: 404 or 405, ContentType: null })
                await OgcExceptionWriter.WriteAsync(http, http.Response.StatusCode == 404
                    ? OgcException.NotFound($"No resource at {http.Request.Path}")
                    : new OgcException(405, "OperationNotSupported", $"{http.Request.Method} is not allowed on {http.Request.Path}; this API is read-only"));
        }
        catch (OgcException error)
        {
            await OgcExceptionWriter.WriteAsync(http, error);
        }
        catch (NgsiException error)
        {
            await OgcExceptionWriter.WriteAsync(http, OgcException.From(error.Error));
        }
        catch (BadHttpRequestException error)
        {
            await OgcExceptionWriter.WriteAsync(http, new OgcException(error.StatusCode, error.StatusCode == 400 ? "InvalidParameterValue" : "BadRequest", error.Message));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            logger.LogError(error, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
            await OgcExceptionWriter.WriteAsync(http, new OgcException(500, "ServerError", "The broker failed to process the request; the failure is logged."));
        }
    }
}
