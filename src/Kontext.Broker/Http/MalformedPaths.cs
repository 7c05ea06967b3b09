using Kontext.Ngsi.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Kontext.Broker.Http;

/// <summary>
/// Request paths that routing would take for another resource, answered as the malformed requests they are:
/// an empty entity id (/entities//attrs) or temporal attribute name (/attrs//instanceId), and a dot segment ("..", or
/// percent-encoded "%2e%2e"), which the server resolves away before routing (IETF RFC 3986 clause 5.2.4) so that
/// /attrs/.. would reach the entity itself. A name valid per clause 4.6.2 is never "." or "..".
/// </summary>
internal static class MalformedPaths
{
    private static readonly (string Root, bool Temporal)[] EntityRoots = [("/ngsi-ld/v1/entities", false), ("/ngsi-ld/v1/temporal/entities", true)];

    public static void Check(HttpContext http)
    {
        var path = http.Request.Path;
        foreach (var (root, temporal) in EntityRoots)
        {
            // The rest of the path after the root, as a span of it: no substring per request.
            if (!path.StartsWithSegments(root) || path.Value is not { } value) continue;
            var tail = value.AsSpan(root.Length);
            if (tail.StartsWith("//", StringComparison.Ordinal)) throw NgsiException.BadRequestData("The entity id is missing from the URL");
            // A temporal attribute instance without its attribute name: PATCH has no route without the name, so
            // /attrs//{instanceId} names no resource that allows it.
            if (temporal && tail.Contains("/attrs//", StringComparison.Ordinal))
                throw HttpMethods.IsPatch(http.Request.Method)
                    ? new NgsiException(NgsiError.MethodNotAllowed("PATCH needs an attribute name in the URL"))
                    : NgsiException.BadRequestData("The attribute name is missing from the URL");
        }
        // The raw target: the server resolves dot segments, sent as such or percent-encoded, before routing; the
        // decoded path still holds those encoded twice.
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is not null)
        {
            var end = raw.IndexOf('?');
            RefuseDotSegments(end < 0 ? raw : raw.AsSpan(0, end));
        }
        RefuseDotSegments(path.Value ?? "");
    }

    private static void RefuseDotSegments(ReadOnlySpan<char> path)
    {
        if (!path.ContainsAny('.', '%')) return; // most paths: nothing to split
        foreach (var segment in path.ToString().Split('/'))
        {
            var decoded = segment;
            for (var i = 0; i < 3 && decoded.Contains('%'); i++) decoded = Uri.UnescapeDataString(decoded);
            if (decoded is "." or "..") throw NgsiException.BadRequestData($"'{segment}' is a dot segment, not a name");
        }
    }
}
