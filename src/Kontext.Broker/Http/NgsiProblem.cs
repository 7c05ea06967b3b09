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

/// <summary>Maps every failure to a ProblemDetails body: no stack trace and no bare 500 ever leaves the broker.</summary>
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
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await NgsiProblem.WriteAsync(http, NgsiError.RequestEntityTooLarge("The request body is larger than the broker accepts"));
        }
        catch (BadHttpRequestException ex)
        {
            await NgsiProblem.WriteAsync(http, NgsiError.InvalidRequest(ex.Message));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
            await NgsiProblem.WriteAsync(http, NgsiError.InternalError("The broker failed to process the request; the failure is logged."));
        }
    }
}
