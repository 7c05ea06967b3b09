namespace Kontext.Broker.Http;

/// <summary>
/// Clause 6.3.4: a POST, PATCH or PUT of the NGSI-LD API carries a Content-Length. A request without one (chunked
/// transfer, or none at all) is answered 411 Length Required with no body, before anything else about the request is
/// looked at: neither its tenant nor its parameters nor its credentials change that answer.
/// </summary>
internal static class LengthRequired
{
    /// <summary>True when the request lacks its length and has been answered 411.</summary>
    public static bool Answered(HttpContext http)
    {
        var method = http.Request.Method;
        if (http.Request.ContentLength is not null
            || !(HttpMethods.IsPost(method) || HttpMethods.IsPatch(method) || HttpMethods.IsPut(method))
            || !http.Request.Path.StartsWithSegments("/ngsi-ld/v1")) return false;
        http.Response.StatusCode = StatusCodes.Status411LengthRequired;
        http.Response.ContentLength = 0;
        return true;
    }
}
