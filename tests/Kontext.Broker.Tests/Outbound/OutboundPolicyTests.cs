using Kontext.Broker.Hosting;
using Kontext.Broker.Outbound;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Tests.Outbound;

/// <summary>The policy service: resolve, check every address, connect to the checked one (only 127.0.0.1 is contacted).</summary>
public sealed class OutboundPolicyTests
{
    private static OutboundPolicy Policy(string profile = "default", params string[] allow) =>
        new(Options.Create(new KontextOptions { Outbound = new OutboundOptions { Profile = profile, Allow = [.. allow] } }), NullLogger<OutboundPolicy>.Instance);

    [Fact]
    public async Task A_name_is_checked_on_every_address_it_resolves_to()
    {
        // localhost resolves (from the hosts file, no network) to loopback addresses only.
        var act = () => Policy("strict").ResolveAsync("localhost", default);

        (await act.Should().ThrowAsync<OutboundRefusedException>()).Which.Reason.Should().Contain("loopback");
        (await Policy().ResolveAsync("localhost", default)).Should().NotBeEmpty();
    }

    [Fact]
    public async Task Connect_reaches_a_permitted_address_and_counts_no_refusal()
    {
        await using var server = await ContextServer.StartAsync();
        var policy = Policy("strict", "127.0.0.1");

        await using var stream = await policy.ConnectAsync("127.0.0.1", new Uri(server.BaseUrl).Port, default);

        stream.CanWrite.Should().BeTrue();
        policy.Refusals.Should().Be(0);
    }

    [Theory]
    [InlineData("http://169.254.169.254/x", true)]
    [InlineData("mqtt://[ff02::1]/topic", true)]
    [InlineData("http://127.0.0.1:1234/x", false)]
    [InlineData("http://receiver.example/x", false)]
    public void Precheck_decides_literal_addresses_without_dns(string url, bool refused)
    {
        (Policy().Precheck(new Uri(url)) is not null).Should().Be(refused);
    }

    [Fact]
    public void Precheck_in_the_strict_profile_refuses_a_loopback_literal_but_leaves_names_to_delivery()
    {
        Policy("strict").Precheck(new Uri("http://127.0.0.1:8080/x")).Should().Contain("strict");
        Policy("strict").Precheck(new Uri("http://localhost:8080/x")).Should().BeNull();
    }
}
