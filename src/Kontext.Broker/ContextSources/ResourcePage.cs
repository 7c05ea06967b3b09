using System.Globalization;
using Kontext.Broker.Http;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// One page of a listed resource (registrations, registration subscriptions): the count header and the prev/next Link
/// headers of clause 6.3.13. These links carry type="application/ld+json", as the clause's examples and the conformance
/// suite's registration tests have them.
/// </summary>
internal static class ResourcePage
{
    public static IReadOnlyList<T> Select<T>(NgsiRequest request, Pagination page, IReadOnlyList<T> all)
    {
        var http = request.Http;
        var selected = all.Skip(page.Offset).Take(page.Limit).ToList();
        if (page.Count) http.Response.Headers["NGSILD-Results-Count"] = all.Count.ToString(CultureInfo.InvariantCulture);
        if (page.Offset + selected.Count < all.Count) http.Response.Headers.Append("Link", Link(http, page, page.Offset + page.Limit, "next"));
        if (page.Offset > 0) http.Response.Headers.Append("Link", Link(http, page, Math.Max(0, page.Offset - page.Limit), "prev"));
        return selected;
    }

    private static string Link(HttpContext http, Pagination page, int offset, string rel)
    {
        var query = http.Request.Query
            .Where(p => p.Key is not ("offset" or "limit"))
            .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")))
            .Append($"limit={page.Limit}")
            .Append($"offset={offset}");
        return $"<{http.Request.Path}?{string.Join("&", query)}>; rel=\"{rel}\"; type=\"application/ld+json\"";
    }
}
