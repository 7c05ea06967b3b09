using System.Text;
using Kontext.Broker.Hosting;
using Kontext.Ngsi.Errors;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Http;

/// <summary>limit, offset and count (clause 6.3.10, 6.3.13) and the Link rel=next/prev headers of a page.</summary>
internal sealed record Pagination(int Offset, int Limit, bool Count)
{
    public static Pagination Read(NgsiRequest request)
    {
        var limits = request.Services.GetRequiredService<IOptions<KontextOptions>>().Value.Limits;
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

    /// <summary>Adds Link headers to the previous and next pages (clause 4.12), typed with the response's media type.</summary>
    public void WriteLinks(NgsiRequest request, int returned, long? total) => WriteLinks(request.Http, returned, total, MediaType(request.Media));

    /// <summary>Adds Link headers to the previous and next pages, typed with the page's media type.</summary>
    public void WriteLinks(HttpContext http, int returned, long? total) =>
        WriteLinks(http, returned, total, MediaType(Media));

    private void WriteLinks(HttpContext http, int returned, long? total, string mediaType)
    {
        if (Limit == 0) return;
        var hasNext = total is { } t ? Offset + returned < t : returned == Limit;
        if (hasNext) http.Response.Headers.Append("Link", $"<{PageUrl(http, Offset + Limit)}>; rel=\"next\"; type=\"{mediaType}\"");
        if (Offset > 0) http.Response.Headers.Append("Link", $"<{PageUrl(http, Math.Max(0, Offset - Limit))}>; rel=\"prev\"; type=\"{mediaType}\"");
    }

    private static string MediaType(ResponseMedia media) => media switch
    {
        ResponseMedia.JsonLd => "application/ld+json",
        ResponseMedia.GeoJson => "application/geo+json",
        _ => "application/json",
    };

    /// <summary>
    /// The same request for another page: the path without a trailing slash, every other parameter kept, parameters in
    /// name order (one canonical URL per page), values escaped only where a URL or a Link header needs it.
    /// </summary>
    private string PageUrl(HttpContext http, int offset)
    {
        var query = http.Request.Query
            .Where(p => p.Key is not ("offset" or "limit"))
            .SelectMany(p => p.Value.Select(v => (p.Key, Value: v ?? "")))
            .Append(("limit", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .Append(("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Item1, StringComparer.Ordinal)
            .Select(p => Escape(p.Item1) + "=" + Escape(p.Item2));
        var path = http.Request.PathBase + http.Request.Path;
        return path.ToString().TrimEnd('/') + "?" + string.Join("&", query);
    }

    // Unreserved characters plus the sub-delimiters and ':' '/' '@' that are safe inside a query value.
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "-._~:/@!$'()*,;".Contains(c))) sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
