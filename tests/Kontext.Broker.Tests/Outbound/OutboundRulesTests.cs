using System.Net;
using Kontext.Broker.Outbound;

namespace Kontext.Broker.Tests.Outbound;

/// <summary>The outbound policy's decision on addresses and names, without a network (docs/security-outbound.md).</summary>
public sealed class OutboundRulesTests
{
    private static OutboundRules Rules(string profile = "default", string[]? allow = null, string[]? deny = null) =>
        new(new OutboundOptions { Profile = profile, Allow = [.. allow ?? []], Deny = [.. deny ?? []] });

    [Theory]
    [InlineData("169.254.169.254")]           // cloud metadata (AWS, GCP, Azure)
    [InlineData("169.254.0.1")]
    [InlineData("fe80::1")]
    [InlineData("fe80::1%2")]
    [InlineData("::ffff:169.254.169.254")]    // IPv4-mapped
    [InlineData("::169.254.169.254")]         // IPv4-compatible
    [InlineData("64:ff9b::a9fe:a9fe")]        // NAT64 of 169.254.169.254
    [InlineData("2002:a9fe:a9fe::1")]         // 6to4 of 169.254.169.254
    [InlineData("fd00:ec2::254")]             // AWS metadata over IPv6
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("::")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("ff02::1")]
    [InlineData("255.255.255.255")]
    public void Never_permitted_addresses_are_refused_whatever_the_profile_and_lists(string address)
    {
        var ip = IPAddress.Parse(address);

        Rules().Judge(null, ip).Should().NotBeNull();
        Rules("strict").Judge(null, ip).Should().NotBeNull();
        Rules(allow: ["0.0.0.0/0", "::/0", address]).Judge("metadata.internal", ip).Should().Contain("never permitted");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.9")]
    [InlineData("192.168.1.20")]
    [InlineData("100.64.0.1")]
    [InlineData("fd12:3456::1")]
    [InlineData("::ffff:10.0.0.1")]
    public void Default_profile_permits_loopback_and_private_addresses_and_strict_refuses_them(string address)
    {
        var ip = IPAddress.Parse(address);

        Rules().Judge(null, ip).Should().BeNull();
        Rules("strict").Judge(null, ip).Should().Contain("strict profile");
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("2606:4700::6810:85e5")]
    public void Public_addresses_are_permitted_in_both_profiles(string address)
    {
        Rules().Judge("example.org", IPAddress.Parse(address)).Should().BeNull();
        Rules("strict").Judge("example.org", IPAddress.Parse(address)).Should().BeNull();
    }

    [Fact]
    public void Allow_list_overrides_strict_for_a_named_cidr_only()
    {
        var rules = Rules("strict", allow: ["10.20.0.0/16", "fd00:1::/32"]);

        rules.Judge(null, IPAddress.Parse("10.20.3.4")).Should().BeNull();
        rules.Judge(null, IPAddress.Parse("fd00:1::7")).Should().BeNull();
        rules.Judge(null, IPAddress.Parse("10.21.0.1")).Should().NotBeNull();
        rules.Judge(null, IPAddress.Parse("127.0.0.1")).Should().NotBeNull();
    }

    [Fact]
    public void Allow_list_by_host_name_permits_that_name_and_wildcard_subdomains()
    {
        var rules = Rules("strict", allow: ["ctx.internal", "*.corp.example"]);
        var privateAddress = IPAddress.Parse("10.0.0.5");

        rules.Judge("ctx.internal", privateAddress).Should().BeNull();
        rules.Judge("CTX.Internal.", privateAddress).Should().BeNull();
        rules.Judge("a.b.corp.example", privateAddress).Should().BeNull();
        rules.Judge("corp.example", privateAddress).Should().NotBeNull();
        rules.Judge("other.internal", privateAddress).Should().NotBeNull();
    }

    [Fact]
    public void Deny_list_refuses_ranges_and_names_in_the_default_profile_and_Allow_wins_over_it()
    {
        var rules = Rules(allow: ["10.9.9.9"], deny: ["10.0.0.0/8", "*.lan", "printer.office"]);

        rules.Judge(null, IPAddress.Parse("10.1.1.1")).Should().Contain("Deny");
        rules.Judge(null, IPAddress.Parse("10.9.9.9")).Should().BeNull();
        rules.Judge("nas.lan", IPAddress.Parse("192.168.0.2")).Should().Contain("Deny");
        rules.JudgeName("printer.office").Should().Contain("Deny");
        rules.JudgeName("example.org").Should().BeNull();
    }

    [Fact]
    public void An_allow_list_only_setup_is_possible()
    {
        var rules = Rules(allow: ["203.0.113.0/24"], deny: ["0.0.0.0/0", "::/0"]);

        rules.Judge(null, IPAddress.Parse("203.0.113.10")).Should().BeNull();
        rules.Judge(null, IPAddress.Parse("198.51.100.1")).Should().NotBeNull();
        rules.Judge(null, IPAddress.Parse("2606:4700::1")).Should().NotBeNull();
    }

    [Theory]
    [InlineData("strcit", "", "")]
    [InlineData("default", "10.0.0.0/33", "")]
    [InlineData("default", "", "not a host!")]
    public void Bad_settings_stop_the_start_rather_than_open_the_gate(string profile, string allow, string deny)
    {
        var act = () => Rules(profile, allow.Length > 0 ? [allow] : null, deny.Length > 0 ? [deny] : null);
        act.Should().Throw<InvalidOperationException>().WithMessage("*Kontext:Outbound*");
    }

    [Fact]
    public void One_setting_can_hold_several_entries()
    {
        var rules = Rules("strict", allow: ["10.1.0.0/16, 10.2.0.0/16 ctx.internal"]);

        rules.Judge(null, IPAddress.Parse("10.2.0.1")).Should().BeNull();
        rules.Judge("ctx.internal", IPAddress.Parse("10.3.0.1")).Should().BeNull();
    }
}
