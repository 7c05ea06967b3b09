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
        return new Pagination(offset, limit, count);
    }

    private static int? Integer(NgsiRequest request, string name)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw NgsiException.BadRequestData($"'{name}' must be a non-negative integer, not '{text}'");
        return value;
    }

    /// <summary>Adds Link headers to the previous and next pages, keeping every other parameter of the request.</summary>
    public void WriteLinks(HttpContext http, int returned, long? total)
    {
        var hasNext = total is { } t ? Offset + returned < t : returned == Limit && Limit > 0;
        if (hasNext) http.Response.Headers.Append("Link", $"<{PageUrl(http, Offset + Limit)}>; rel=\"next\"");
        if (Offset > 0) http.Response.Headers.Append("Link", $"<{PageUrl(http, Math.Max(0, Offset - Limit))}>; rel=\"prev\"");
    }

    private string PageUrl(HttpContext http, int offset)
    {
        var query = http.Request.Query
            .Where(p => p.Key is not ("offset" or "limit"))
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")))
            .Append($"limit={Limit}")
            .Append($"offset={offset}");
        return http.Request.Path + "?" + string.Join("&", query);
    }
}
