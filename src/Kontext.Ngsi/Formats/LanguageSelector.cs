using System.Globalization;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Formats;

/// <summary>The <c>lang</c> parameter: language tags in order of preference (q-values honoured), <c>*</c> for any.</summary>
public sealed class LanguageSelector
{
    private readonly List<string> _tags;

    private LanguageSelector(List<string> tags) => _tags = tags;

    public static LanguageSelector? Parse(string? lang)
    {
        if (string.IsNullOrWhiteSpace(lang)) return null;
        var ranked = new List<(string Tag, double Q, int Order)>();
        var order = 0;
        foreach (var part in lang.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(';', StringSplitOptions.TrimEntries);
            var q = 1.0;
            foreach (var p in pieces.Skip(1))
            {
                if (p.StartsWith("q=", StringComparison.OrdinalIgnoreCase)) double.TryParse(p[2..], NumberStyles.Float, CultureInfo.InvariantCulture, out q);
            }
            ranked.Add((pieces[0], q, order++));
        }
        return new LanguageSelector(ranked.OrderByDescending(r => r.Q).ThenBy(r => r.Order).Select(r => r.Tag).ToList());
    }

    /// <summary>
    /// Picks the best entry of a languageMap: for each preferred tag in turn, the same tag, a longer tag it is a prefix of
    /// (en → en-US), then the tag truncated (nl-BE → nl, RFC 4647 lookup); else @none, else the first. Tags compare
    /// case-insensitively.
    /// </summary>
    public (string Tag, JsonNode? Value) Choose(JsonObject languageMap)
    {
        foreach (var tag in _tags)
        {
            if (tag == "*") break;
            foreach (var (key, value) in languageMap)
                if (string.Equals(key, tag, StringComparison.OrdinalIgnoreCase)) return (key, value);
            foreach (var (key, value) in languageMap)
                if (key.StartsWith(tag + "-", StringComparison.OrdinalIgnoreCase)) return (key, value);
            for (var range = Truncate(tag); range is not null; range = Truncate(range))
                foreach (var (key, value) in languageMap)
                    if (string.Equals(key, range, StringComparison.OrdinalIgnoreCase)) return (key, value);
        }
        if (languageMap.TryGetPropertyValue("@none", out var none)) return ("@none", none);
        var first = languageMap.First();
        return (first.Key, first.Value);
    }

    // nl-BE-x → nl-BE → nl → null; a single-letter subtag (x-…, extensions) goes with the one after it.
    private static string? Truncate(string range)
    {
        var cut = range.LastIndexOf('-');
        if (cut <= 0) return null;
        var shorter = range[..cut];
        var last = shorter.LastIndexOf('-');
        return last >= 0 && shorter.Length - last == 2 ? Truncate(shorter) : shorter;
    }
}
