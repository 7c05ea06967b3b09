using System.Text;

namespace Kontext.Broker.Http;

/// <summary>
/// IRIs in HTTP headers (Location, Link). Header values are ASCII, and NGSI-LD ids are IRIs that may hold any Unicode
/// letter, so an IRI goes out as its URI (RFC 3987 clause 3.1): non-ASCII characters as percent-encoded UTF-8.
/// </summary>
internal static class HeaderIri
{
    /// <summary>An id as one path segment: also '/', '?', '#', '%' and space escaped, colons kept (urn:ngsi-ld:T:1).</summary>
    public static string PathSegment(string id) => Encode(id, c => c is '/' or '?' or '#' or '%');

    /// <summary>A whole IRI (e.g. a context URL in a Link header): only what cannot stand in a header or between &lt;&gt; is escaped.</summary>
    public static string Uri(string iri) => Encode(iri, c => c is '<' or '>' or '"');

    private static string Encode(string text, Func<char, bool> alsoEscape)
    {
        StringBuilder? escaped = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > ' ' && c < 0x7F && !alsoEscape(c))
            {
                escaped?.Append(c);
                continue;
            }
            escaped ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            var length = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            foreach (var b in Encoding.UTF8.GetBytes(text.Substring(i, length))) escaped.Append('%').Append(b.ToString("X2"));
            i += length - 1;
        }
        return escaped?.ToString() ?? text;
    }
}
