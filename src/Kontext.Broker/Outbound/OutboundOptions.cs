namespace Kontext.Broker.Outbound;

/// <summary>The "Kontext:Outbound" section: which addresses the broker may connect to (docs/security-outbound.md).</summary>
public sealed class OutboundOptions
{
    /// <summary>
    /// "default": everything but the never-permitted addresses (link-local and cloud metadata, unspecified, multicast,
    /// broadcast), so receivers and context servers on a developer's machine work. "strict": also refuses loopback,
    /// private (RFC 1918, CGNAT, unique-local) and reserved ranges; the Docker image sets it.
    /// </summary>
    public string Profile { get; set; } = OutboundProfiles.Default;

    /// <summary>CIDR ranges (10.1.0.0/16, fd12::/48, 192.0.2.7) or host names (ctx.internal, *.corp.example) always permitted.</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>CIDR ranges or host names refused, unless Allow names them too.</summary>
    public List<string> Deny { get; set; } = [];

    /// <summary>Redirect hops followed when fetching an @context; each hop is checked like the first address.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>How long connecting to one resolved address may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public static class OutboundProfiles
{
    public const string Default = "default";
    public const string Strict = "strict";
}
