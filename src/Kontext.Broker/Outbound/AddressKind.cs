using System.Net;
using System.Net.Sockets;

namespace Kontext.Broker.Outbound;

/// <summary>What an IP address is, as far as the outbound policy cares.</summary>
public enum AddressKind
{
    Public,

    // Never permitted: no Allow entry overrides these.
    LinkLocal,
    CloudMetadata,
    Unspecified,
    Multicast,
    Broadcast,

    // Refused by the strict profile unless an Allow entry names them.
    Loopback,
    Private,
    Reserved,
}

/// <summary>
/// Classifies IP addresses. An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64
/// 64:ff9b::/96, 6to4 2002::/16) is judged by the IPv4 address it reaches, so ::ffff:169.254.169.254 is as link-local
/// as 169.254.169.254.
/// </summary>
public static class AddressClassifier
{
    private static readonly IPNetwork[] LinkLocal = [Net("169.254.0.0/16"), Net("fe80::/10")];
    // fd00:ec2::254 is the IPv6 address of the AWS instance metadata service (inside the private fc00::/7).
    private static readonly IPAddress[] Metadata = [IPAddress.Parse("fd00:ec2::254")];
    private static readonly IPNetwork[] Unspecified = [Net("0.0.0.0/8")];
    private static readonly IPNetwork[] Multicast = [Net("224.0.0.0/4"), Net("ff00::/8")];
    private static readonly IPNetwork[] Loopback = [Net("127.0.0.0/8")];
    private static readonly IPNetwork[] Private =
    [
        Net("10.0.0.0/8"), Net("172.16.0.0/12"), Net("192.168.0.0/16"),
        Net("100.64.0.0/10"), // carrier-grade NAT, often a provider's internal network
        Net("fc00::/7"),      // unique local
        Net("fec0::/10"),     // site-local (deprecated, still routed by some)
    ];
    private static readonly IPNetwork[] Reserved =
    [
        Net("192.0.0.0/24"), Net("192.0.2.0/24"), Net("198.18.0.0/15"), Net("198.51.100.0/24"), Net("203.0.113.0/24"),
        Net("240.0.0.0/4"), Net("100::/64"), Net("2001:db8::/32"),
    ];
    private static readonly IPNetwork Nat64 = Net("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = Net("2002::/16");

    public static AddressKind Classify(IPAddress address)
    {
        address = Reached(address);
        if (address.Equals(IPAddress.Broadcast)) return AddressKind.Broadcast;
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Any)) return AddressKind.Unspecified;
        if (address.Equals(IPAddress.IPv6Loopback)) return AddressKind.Loopback;
        if (Metadata.Any(address.Equals)) return AddressKind.CloudMetadata;
        if (In(LinkLocal, address)) return AddressKind.LinkLocal;
        if (In(Unspecified, address)) return AddressKind.Unspecified;
        if (In(Multicast, address)) return AddressKind.Multicast;
        if (In(Loopback, address)) return AddressKind.Loopback;
        if (In(Private, address)) return AddressKind.Private;
        if (In(Reserved, address)) return AddressKind.Reserved;
        return AddressKind.Public;
    }

    /// <summary>True for the kinds no configuration can permit.</summary>
    public static bool IsNeverPermitted(AddressKind kind) =>
        kind is AddressKind.LinkLocal or AddressKind.CloudMetadata or AddressKind.Unspecified or AddressKind.Multicast or AddressKind.Broadcast;

    /// <summary>The address a connection to <paramref name="address"/> reaches: the embedded IPv4 address when there is one.</summary>
    public static IPAddress Reached(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        var bytes = address.GetAddressBytes();
        address = new IPAddress(bytes); // drops a scope id (fe80::1%eth0), which says nothing about the kind
        if (Nat64.Contains(address)) return new IPAddress(bytes.AsSpan(12, 4));
        if (SixToFour.Contains(address)) return new IPAddress(bytes.AsSpan(2, 4));
        // IPv4-compatible ::a.b.c.d (deprecated); :: and ::1 are themselves.
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback))
            return new IPAddress(bytes.AsSpan(12, 4));
        return address;
    }

    private static bool In(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address)) return true;
        return false;
    }

    private static IPNetwork Net(string cidr) => IPNetwork.Parse(cidr);
}
