using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Http;

/// <summary>limit, offset and count (clause 6.3.10, 6.3.13) and the Link rel=next/prev headers of a page.</summary>
internal sealed record Pagination(int Offset, int Limit, bool Count)
{
    public static Pagination Read(NgsiRequest request)
    {
        var limits = request.Http.RequestServices.GetRequiredService<IOptions<KontextOptions>>().Value.Limits;
        var count = QueryParameters.Flag(request, "count");
        var limit = Integer(request, "limit") ?? limits.DefaultPageSize;
        var offset = Integer(request, "offset") ?? 0;
        if (limit > limits.MaxPageSize)
            throw new NgsiException(NgsiError.TooManyResults($"limit {limit} is above the maximum page size {limits.MaxPageSize}; page through the results with offset"));
        if (limit == 0 && !count) throw NgsiException.BadRequestData("limit=0 is only meaningful together with count=true");
        return new Pagination(offset, limit, count) { Media = request.Media };
    }

    /// <summary>The page's media type, which the Link headers name (as they would name any representation they link to).</summary>
    public ResponseMedia Media { get; init; }

    private static int? Integer(NgsiRequest request, string name)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw NgsiException.BadRequestData($"'{name}' must be a non-negative integer, not '{text}'");
        return value;
    }

    /// <summary>
    /// Adds Link headers to the previous and next pages (clause 6.3.13): the request's path and every other parameter of
    /// the request, in name order and escaped only where a URL or the header needs it, so equal pages have equal links.
    /// </summary>
    public void WriteLinks(HttpContext http, int returned, long? total)
    {
        var hasNext = total is { } t ? Offset + returned < t : returned == Limit && Limit > 0;
        var type = Media switch { ResponseMedia.JsonLd => "application/ld+json", ResponseMedia.GeoJson => "application/geo+json", _ => "application/json" };
        if (Offset > 0) http.Response.Headers.Append("Link", $"<{PageUrl(http, Math.Max(0, Offset - Limit))}>; rel=\"prev\"; type=\"{type}\"");
        if (hasNext) http.Response.Headers.Append("Link", $"<{PageUrl(http, Offset + Limit)}>; rel=\"next\"; type=\"{type}\"");
    }

    private string PageUrl(HttpContext http, int offset)
    {
        var query = http.Request.Query
            .Where(p => p.Key is not ("offset" or "limit"))
            .SelectMany(p => p.Value.Select(v => (p.Key, Value: v ?? "")))
            .Append((Key: "limit", Value: Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Append((Key: "offset", Value: offset.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => Escape(p.Key) + "=" + Escape(p.Value));
        var path = http.Request.Path.Value is { Length: > 1 } p && p.EndsWith('/') ? p.TrimEnd('/') : http.Request.Path.Value;
        return path + "?" + string.Join("&", query);
    }

    /// <summary>Percent-encodes what a query component or a Link header cannot hold as it is; keeps ':', '/', '*', ',' and the like readable.</summary>
    private static string Escape(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || "-._~!$'()*,;:@/?".Contains(c)) builder.Append(c);
            else builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }
}
