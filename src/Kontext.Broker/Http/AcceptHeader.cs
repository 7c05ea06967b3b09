using System.Globalization;

namespace Kontext.Broker.Http;

/// <summary>
/// Accept negotiation (clause 6.3.4 with IETF RFC 9110 clause 5.3.2): each representation an operation offers takes
/// the weight of the most specific media range that matches it (type/subtype, then type/*, then */*), a weight of 0
/// refuses it whatever a wildcard says, the highest weight wins and equal weights go to the one listed first in 6.3.4
/// (application/json, application/ld+json, application/geo+json). A weight that does not parse counts as the default 1.
/// </summary>
internal static class AcceptHeader
{
    /// <summary>The chosen media type among <paramref name="offered"/> (in 6.3.4 order); null when none is acceptable.</summary>
    public static string? Choose(string accept, IReadOnlyList<string> offered)
    {
        var ranges = Parse(accept);
        string? best = null;
        var bestWeight = 0.0;
        foreach (var media in offered)
        {
            var weight = WeightOf(media, ranges);
            if (weight > bestWeight)
            {
                best = media;
                bestWeight = weight;
            }
        }
        return best;
    }

    private static double WeightOf(string media, List<(string Type, string Subtype, double Weight)> ranges)
    {
        var slash = media.IndexOf('/');
        var (type, subtype) = (media[..slash], media[(slash + 1)..]);
        var specificity = -1;
        var weight = 0.0;
        foreach (var range in ranges)
        {
            var level = range.Type == type && range.Subtype == subtype ? 2
                : range.Type == type && range.Subtype == "*" ? 1
                : range.Type == "*" && range.Subtype == "*" ? 0
                : -1;
            // The most specific range decides; among equally specific ones the first listed.
            if (level > specificity)
            {
                specificity = level;
                weight = range.Weight;
            }
        }
        return weight;
    }

    private static List<(string Type, string Subtype, double Weight)> Parse(string accept)
    {
        var ranges = new List<(string, string, double)>();
        foreach (var element in accept.Split(','))
        {
            var parts = element.Split(';');
            var mediaRange = parts[0].Trim().ToLowerInvariant();
            var slash = mediaRange.IndexOf('/');
            if (slash <= 0 || slash == mediaRange.Length - 1) continue;
            var weight = 1.0;
            foreach (var parameter in parts.Skip(1))
            {
                var eq = parameter.IndexOf('=');
                if (eq < 0 || !parameter[..eq].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)) continue;
                if (double.TryParse(parameter[(eq + 1)..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) && q is >= 0 and <= 1)
                    weight = q;
            }
            ranges.Add((mediaRange[..slash].Trim(), mediaRange[(slash + 1)..].Trim(), weight));
        }
        return ranges;
    }
}
