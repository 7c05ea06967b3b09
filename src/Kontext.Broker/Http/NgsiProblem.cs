using System.Text.Json;
using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Http;

/// <summary>Writes an <see cref="NgsiError"/> as an NGSI-LD ProblemDetails body: the one place errors become HTTP.</summary>
internal static class NgsiProblem
{
    public static async Task WriteAsync(HttpContext http, NgsiError error)
    {
        if (http.Response.HasStarted) return;
        // What went wrong with context sources stays on the error (clause 6.3.17: a distributed retrieve that found nothing is 404 with its warnings).
        var warnings = http.Response.Headers["NGSILD-Warning"];
        http.Response.Clear();
        if (warnings.Count > 0) http.Response.Headers["NGSILD-Warning"] = warnings;
        http.Response.StatusCode = error.Status;
        if (error.RetryAfter is { } retryAfter)
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(http.Response.Body, NgsiJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("type", error.Type);
        writer.WriteString("title", error.Title);
        writer.WriteNumber("status", error.Status);
        writer.WriteString("detail", error.Detail);
        // An extension member: the X-Request-Id of this answer, to find the request in the broker's log.
        writer.WriteString("requestId", http.TraceIdentifier);
        writer.WriteEndObject();
        await writer.FlushAsync();
    }
}

/// <summary>
/// Maps every failure to a ProblemDetails body: no stack trace and no bare 500 ever leaves the broker. A 404 or 405 that
/// nothing answered (no route, or a route without that method) gets one too. Both in this one middleware, not in it and
/// the framework's status-code pages around each other: one asynchronous layer per request fewer.
/// </summary>
internal sealed class NgsiErrorMiddleware(RequestDelegate next, ILogger<NgsiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await next(http);
        }
        catch (NgsiException ex)
        {
            await NgsiProblem.WriteAsync(http, ex.Error);
            return;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await NgsiProblem.WriteAsync(http, NgsiError.RequestEntityTooLarge("The request body is larger than the broker accepts"));
            return;
        }
        catch (BadHttpRequestException ex)
        {
            await NgsiProblem.WriteAsync(http, NgsiError.InvalidRequest(ex.Message));
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
            return;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
            await NgsiProblem.WriteAsync(http, NgsiError.InternalError("The broker failed to process the request; the failure is logged."));
            return;
        }
        if (UnansweredError(http.Response) is { } error) await NgsiProblem.WriteAsync(http, error);
    }

    /// <summary>The problem for a 404 or 405 without a body (a response with a length, a type or already sent is left as it is).</summary>
    internal static NgsiError? UnansweredError(HttpResponse response)
    {
        if (response.HasStarted || response.ContentLength is not null || !string.IsNullOrEmpty(response.ContentType)) return null;
        var request = response.HttpContext.Request;
        return response.StatusCode switch
        {
            StatusCodes.Status404NotFound => NgsiError.ResourceNotFound($"No resource at {request.Path}"),
            StatusCodes.Status405MethodNotAllowed => NgsiError.MethodNotAllowed($"{request.Method} is not allowed on {request.Path}"),
            _ => null,
        };
    }
}
