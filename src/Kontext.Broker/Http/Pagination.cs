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
        if (hasNext) http.Response.Headers.Append("Link", Link(http, Offset + Limit, "next", mediaType));
        if (Offset > 0) http.Response.Headers.Append("Link", Link(http, Math.Max(0, Offset - Limit), "prev", mediaType));
    }

    private static string MediaType(ResponseMedia media) => media switch
    {
        ResponseMedia.JsonLd => "application/ld+json",
        ResponseMedia.GeoJson => "application/geo+json",
        _ => "application/json",
    };

    /// <summary>
    /// A Link header to the same request for another page: the path without a trailing slash, every other parameter
    /// kept, parameters in name order (one canonical URL per page; a name's values in their order), values escaped only
    /// where a URL or a Link header needs it. Written into one buffer: it is on every page answer.
    /// </summary>
    private string Link(HttpContext http, int offset, string rel, string mediaType)
    {
        var ordered = new List<(string Name, string Value, int Index)>();
        foreach (var (name, values) in http.Request.Query)
        {
            if (name is "offset" or "limit") continue;
            foreach (var value in values) ordered.Add((name, value ?? "", ordered.Count));
        }
        ordered.Add(("limit", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), ordered.Count));
        ordered.Add(("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture), ordered.Count));
        // By name, and stable: the values of one name keep their order.
        ordered.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name) is var c && c != 0 ? c : x.Index.CompareTo(y.Index));
        var link = new StringBuilder(128).Append('<').Append((http.Request.PathBase + http.Request.Path).ToString().TrimEnd('/')).Append('?');
        for (var i = 0; i < ordered.Count; i++)
        {
            if (i > 0) link.Append('&');
            Escape(link, ordered[i].Name);
            link.Append('=');
            Escape(link, ordered[i].Value);
        }
        return link.Append(">; rel=\"").Append(rel).Append("\"; type=\"").Append(mediaType).Append('"').ToString();
    }

    // Unreserved characters plus the sub-delimiters and ':' '/' '@' that are safe inside a query value.
    private static readonly System.Buffers.SearchValues<char> Safe =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/@!$'()*,;");

    private static void Escape(StringBuilder link, string text)
    {
        var span = text.AsSpan();
        Span<byte> bytes = stackalloc byte[8];
        while (span.Length > 0)
        {
            var unsafeAt = span.IndexOfAnyExcept(Safe);
            if (unsafeAt < 0) { link.Append(span); return; }
            link.Append(span[..unsafeAt]);
            // The character (a surrogate pair too) as UTF-8 bytes, each %XX.
            var length = unsafeAt + 1 < span.Length && char.IsSurrogatePair(span[unsafeAt], span[unsafeAt + 1]) ? 2 : 1;
            var written = Encoding.UTF8.GetBytes(span.Slice(unsafeAt, length), bytes);
            foreach (var b in bytes[..written]) link.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            span = span[(unsafeAt + length)..];
        }
    }
}
