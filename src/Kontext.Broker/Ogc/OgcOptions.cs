using System.Text.RegularExpressions;

namespace Kontext.Broker.Ogc;

/// <summary>The "Kontext:Ogc" section: the OGC API – Features view of the entities that have a GeoProperty (docs/ogc.md).</summary>
public sealed partial class OgcOptions
{
    public const string Section = "Kontext:Ogc";

    /// <summary>Serve the OGC API at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the API is mounted: one path segment, e.g. /ogc or /features.</summary>
    public string BasePath { get; set; } = "/ogc";

    /// <summary>Features per page when the request gives no limit.</summary>
    public int DefaultLimit { get; set; } = 10;

    /// <summary>The largest page; a larger limit is answered with this many (OGC: never an error).</summary>
    public int MaxLimit { get; set; } = 1000;

    /// <summary>
    /// A collection's extent is computed by reading its features; above this many features the extent is the whole
    /// CRS84 range and an unbounded interval (still true, only less precise), so /collections stays cheap on large types.
    /// </summary>
    public int ExtentScanLimit { get; set; } = 5000;

    /// <summary>The mount's path segment without the slash ("ogc").</summary>
    public string Segment => BasePath.Trim('/');

    public bool IsValid(out string problem)
    {
        problem = "";
        if (!SegmentPattern().IsMatch(BasePath))
            problem = $"{Section}:BasePath '{BasePath}' must be a single path segment such as /ogc (letters, digits, - _ . ~)";
        else if (Segment is "ngsi-ld" or "adapters" or "health")
            problem = $"{Section}:BasePath '{BasePath}' is taken by another API of the broker";
        else if (DefaultLimit < 1 || MaxLimit < DefaultLimit)
            problem = $"{Section}: DefaultLimit must be at least 1 and MaxLimit at least DefaultLimit";
        else if (ExtentScanLimit < 0)
            problem = $"{Section}:ExtentScanLimit must not be negative";
        return problem.Length == 0;
    }

    [GeneratedRegex("^/[A-Za-z0-9._~-]+/?$")]
    private static partial Regex SegmentPattern();
}
