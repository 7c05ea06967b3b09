namespace Kontext.Broker.Http;

/// <summary>
/// Clause 6.3.14: a response names the tenant its request named. One middleware does it for every response of the NGSI-LD
/// API and every error response (problem details on any path), just before the headers go out: no handler has to remember
/// it, and a response cleared on the way (an error mapped to a problem) still carries it. An invalid name is never copied.
/// </summary>
internal static class TenantEcho
{
    /// <summary>Registers the echo on the response; early in the pipeline, so that every answer gets it.</summary>
    public static void Register(HttpContext http) =>
        http.Response.OnStarting(static state =>
        {
            Echo((HttpContext)state);
            return Task.CompletedTask;
        }, http);

    private static void Echo(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments("/ngsi-ld") && http.Response.StatusCode < StatusCodes.Status400BadRequest) return;
        if (http.Request.Headers.TryGetValue(NgsiRequest.TenantHeader, out var values)
            && values.ToString().Trim() is var tenant && Kontext.Ngsi.Model.Validate.IsTenantName(tenant))
            http.Response.Headers[NgsiRequest.TenantHeader] = tenant;
    }
}
