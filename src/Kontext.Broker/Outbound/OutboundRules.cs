using System.Net;

namespace Kontext.Broker.Outbound;

/// <summary>
/// The pure decision of the outbound policy: may the broker connect to this address (reached under this host name)?
/// Order: never-permitted kinds are refused whatever the lists say; then an Allow entry permits; then a Deny entry
/// refuses; then the strict profile refuses loopback, private and reserved addresses; anything else is permitted.
/// Allow before Deny makes an allow-list possible: Deny 0.0.0.0/0 and ::/0, Allow the few ranges receivers live in.
/// </summary>
public sealed class OutboundRules
{
    private readonly bool _strict;
    private readonly List<IPNetwork> _allowNetworks = [], _denyNetworks = [];
    private readonly List<string> _allowNames = [], _denyNames = [];

    public OutboundRules(OutboundOptions options)
    {
        _strict = options.Profile.Trim().ToLowerInvariant() switch
        {
            OutboundProfiles.Default or "" => false,
            OutboundProfiles.Strict => true,
            var other => throw new InvalidOperationException($"Kontext:Outbound:Profile '{other}' is not one of default, strict"),
        };
        Read(options.Allow, "Allow", _allowNetworks, _allowNames);
        Read(options.Deny, "Deny", _denyNetworks, _denyNames);
    }

    public bool IsStrict => _strict;

    /// <summary>Null when permitted, else why not (for logs: it names the address).</summary>
    public string? Judge(string? host, IPAddress address)
    {
        var reached = AddressClassifier.Reached(address);
        var kind = AddressClassifier.Classify(reached);
        if (AddressClassifier.IsNeverPermitted(kind)) return $"{reached} is a {Describe(kind)} address, which is never permitted";
        var name = NormalizeHost(host);
        if (Matches(_allowNetworks, reached) || (name is not null && Matches(_allowNames, name))) return null;
        if (Matches(_denyNetworks, reached)) return $"{reached} is in a Kontext:Outbound:Deny range";
        if (name is not null && Matches(_denyNames, name)) return $"{name} is on the Kontext:Outbound:Deny list";
        if (_strict && kind is AddressKind.Loopback or AddressKind.Private or AddressKind.Reserved)
            return $"{reached} is a {Describe(kind)} address, refused by the strict profile";
        return null;
    }

    /// <summary>What can be decided from the host alone: a name on the Deny list (and not on Allow). Null otherwise.</summary>
    public string? JudgeName(string host)
    {
        var name = NormalizeHost(host);
        if (name is null || Matches(_allowNames, name)) return null;
        return Matches(_denyNames, name) ? $"{name} is on the Kontext:Outbound:Deny list" : null;
    }

    /// <summary>Lower case, no brackets around IPv6 literals, no trailing dot.</summary>
    public static string? NormalizeHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return null;
        var name = host.Trim().TrimStart('[').TrimEnd(']').TrimEnd('.').ToLowerInvariant();
        return name.Length == 0 ? null : name;
    }

    private static string Describe(AddressKind kind) => kind switch
    {
        AddressKind.LinkLocal => "link-local",
        AddressKind.CloudMetadata => "cloud metadata",
        AddressKind.Unspecified => "unspecified",
        AddressKind.Multicast => "multicast",
        AddressKind.Broadcast => "broadcast",
        AddressKind.Loopback => "loopback",
        AddressKind.Private => "private",
        AddressKind.Reserved => "reserved",
        _ => "public",
    };

    private static bool Matches(List<IPNetwork> networks, IPAddress address)
    {
        foreach (var network in networks)
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address)) return true;
        return false;
    }

    // "ctx.internal" matches that name; "*.corp.example" matches every name below corp.example.
    private static bool Matches(List<string> names, string host)
    {
        foreach (var entry in names)
        {
            if (entry.StartsWith("*.", StringComparison.Ordinal) ? host.EndsWith(entry[1..], StringComparison.Ordinal) : host == entry)
                return true;
        }
        return false;
    }

    // One entry may hold several values separated by commas or spaces (handy in one environment variable).
    private static void Read(List<string> entries, string list, List<IPNetwork> networks, List<string> names)
    {
        foreach (var raw in entries.SelectMany(e => e.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (IPNetwork.TryParse(raw, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(raw.TrimStart('[').TrimEnd(']'), out var single))
            {
                var reached = AddressClassifier.Reached(single);
                networks.Add(new IPNetwork(reached, reached.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else if (Uri.CheckHostName(raw.StartsWith("*.", StringComparison.Ordinal) ? raw[2..] : raw) == UriHostNameType.Dns)
                names.Add(NormalizeHost(raw)!);
            else throw new InvalidOperationException($"Kontext:Outbound:{list} entry '{raw}' is neither a CIDR range, an IP address nor a host name");
        }
    }
}
