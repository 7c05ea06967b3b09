namespace Kontext.Broker.Http;

/// <summary>
/// The preferences of an HTTP Prefer header (IETF RFC 7240) that NGSI-LD defines (clause 6.3.6):
/// <c>body=json</c> (a GeoJSON answer names its @context in a Link header instead of its body) and
/// <c>ngsi-ld=&lt;major.minor&gt;</c> (the specification version the client understands, clause 4.3.6.8).
/// Names are case-insensitive, values may be quoted, and a preference's own parameters (after ";") are ignored.
/// </summary>
internal sealed record PreferHeader(bool BodyJson, string? Version)
{
    public static readonly PreferHeader None = new(false, null);

    // StringValues, not an IEnumerable: enumerated as such it is neither boxed nor given an enumerator object per request.
    public static PreferHeader Parse(Microsoft.Extensions.Primitives.StringValues headers)
    {
        if (headers.Count == 0) return None;
        var bodyJson = false;
        string? version = null;
        foreach (var header in headers)
        {
            if (string.IsNullOrWhiteSpace(header)) continue;
            foreach (var preference in header.Split(','))
            {
                var token = preference.Split(';')[0];
                var eq = token.IndexOf('=');
                var name = (eq < 0 ? token : token[..eq]).Trim();
                var value = eq < 0 ? "" : token[(eq + 1)..].Trim().Trim('"');
                if (name.Equals("body", StringComparison.OrdinalIgnoreCase) && value.Equals("json", StringComparison.OrdinalIgnoreCase)) bodyJson = true;
                else if (name.Equals("ngsi-ld", StringComparison.OrdinalIgnoreCase) && IsVersion(value)) version ??= value;
            }
        }
        return bodyJson || version is not null ? new PreferHeader(bodyJson, version) : None;
    }

    /// <summary>True when the preferred version is older than <paramref name="major"/>.<paramref name="minor"/>.</summary>
    public bool PrefersBefore(int major, int minor)
    {
        if (Version is null) return false;
        var parts = Version.Split('.');
        var (ma, mi) = (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        return ma < major || (ma == major && mi < minor);
    }

    private static bool IsVersion(string value)
    {
        var parts = value.Split('.');
        return parts.Length == 2 && parts.All(p => p.Length is > 0 and <= 4 && p.All(char.IsAsciiDigit));
    }
}
