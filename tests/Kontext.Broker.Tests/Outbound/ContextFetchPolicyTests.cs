using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Outbound;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Outbound;

/// <summary>
/// Remote @context fetches go through the outbound policy: on the resolved address, on every redirect hop, and with one
/// answer for every failure, so the broker cannot be used to map a network. Every server here is on 127.0.0.1; the
/// refused addresses are never contacted (that is the point), and the policy's refusal counter shows it acted.
/// </summary>
public sealed class ContextFetchPolicyTests : IAsyncLifetime
{
    private const string Context = """{"@context":{"ex":"https://example.org/ns#","speed":"ex:speed"}}""";
    private ContextServer _server = null!, _other = null!;
    private BrokerFactory _broker = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ContextServer.StartAsync();
        _other = await ContextServer.StartAsync();
        _server.Serve("/ctx.jsonld", Context);
        _other.Serve("/ctx.jsonld", Context);
        _broker = new BrokerFactory();
        _client = _broker.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
        _broker.DeleteData();
        await _server.DisposeAsync();
        await _other.DisposeAsync();
    }

    private long Refusals(BrokerFactory broker) => broker.Services.GetRequiredService<OutboundPolicy>().Refusals;

    private static Task<HttpResponseMessage> CreateWithContext(HttpClient client, string contextUrl) =>
        client.CreateAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","speed":1}""", link: Api.Link(contextUrl));

    private static async Task<string> DetailWithoutUrl(HttpResponseMessage response, string url)
    {
        await response.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
        return (await response.JsonAsync())["detail"]!.GetValue<string>().Replace(url, "<url>");
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/ctx.jsonld")]
    [InlineData("http://[fe80::1]/ctx.jsonld")]
    [InlineData("http://[::ffff:169.254.169.254]/ctx.jsonld")]
    [InlineData("http://224.0.0.1/ctx.jsonld")]
    [InlineData("http://0.0.0.0:{port}/ctx.jsonld")]
    public async Task Context_url_on_a_never_permitted_address_is_refused_with_a_detail_that_reveals_no_network_state(string template)
    {
        // 0.0.0.0 reaches this machine on Linux: the context server would answer if the gate let the request through.
        var url = template.Replace("{port}", new Uri(_server.BaseUrl).Port.ToString());
        var closedPort = $"http://127.0.0.1:{NotificationReceiver.FreePort()}/ctx.jsonld";
        var notFound = _server.BaseUrl + "/no-such.jsonld";
        var refusalsBefore = Refusals(_broker);
        var hitsBefore = _server.Hits("/ctx.jsonld");

        var refused = await DetailWithoutUrl(await CreateWithContext(_client, url), url);
        var connectionRefused = await DetailWithoutUrl(await CreateWithContext(_client, closedPort), closedPort);
        var answered404 = await DetailWithoutUrl(await CreateWithContext(_client, notFound), notFound);

        Refusals(_broker).Should().BeGreaterThan(refusalsBefore, "the policy, not the network, stopped the request");
        _server.Hits("/ctx.jsonld").Should().Be(hitsBefore);
        refused.Should().Be(connectionRefused).And.Be(answered404);
        refused.Should().NotContainAny("refused (", "Connection refused", "404", "169.254", "link-local");
    }

    [Fact]
    public async Task Redirect_from_a_permitted_server_to_the_metadata_address_is_refused_at_the_hop()
    {
        var url = _server.Redirect("/to-metadata.jsonld", "http://169.254.169.254/latest/meta-data/iam");
        var before = Refusals(_broker);

        await DetailWithoutUrl(await CreateWithContext(_client, url), url);

        _server.Hits("/to-metadata.jsonld").Should().BeGreaterThan(0);
        Refusals(_broker).Should().BeGreaterThan(before);
    }

    [Fact]
    public async Task Redirect_between_permitted_servers_is_followed()
    {
        var url = _server.Redirect("/moved.jsonld", _other.BaseUrl + "/ctx.jsonld", 301);
        var id = Api.NewId("Car");

        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Car","speed":7}""", link: Api.Link(url));

        (await _client.GetEntityAsync(id))["https://example.org/ns#speed"].Should().NotBeNull();
        _other.Hits("/ctx.jsonld").Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Redirects_beyond_the_hop_cap_are_refused()
    {
        var url = _server.Redirect("/loop.jsonld", "/loop.jsonld", 307);

        await DetailWithoutUrl(await CreateWithContext(_client, url), url);

        _server.Hits("/loop.jsonld").Should().Be(6, "the first request and 5 hops (Kontext:Outbound:MaxRedirects), with no retry of a final failure");
    }

    [Fact]
    public async Task Fetched_context_document_is_kept_and_served_back_as_only_its_context_member()
    {
        var url = _server.Serve("/with-extras.jsonld", """
            {"@context":{"wheels":"https://example.org/wheels"},"secret":"internal-token","@graph":[{"@id":"x"}]}
            """);
        await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","wheels":4}""", link: Api.Link(url));

        var served = await _client.GetAsync("/ngsi-ld/v1/jsonldContexts/" + Uri.EscapeDataString(url));

        served.StatusCode.Should().Be(HttpStatusCode.OK);
        var document = JsonNode.Parse(await served.Content.ReadAsStringAsync())!.AsObject();
        document.Select(p => p.Key).Should().Equal("@context");
        document["@context"]!["wheels"]!.GetValue<string>().Should().Be("https://example.org/wheels");
    }

    [Fact]
    public async Task Strict_profile_refuses_a_loopback_context_server()
    {
        await using var strict = new BrokerFactory(settings: new Dictionary<string, string?> { ["Kontext:Outbound:Profile"] = "strict" });
        using var client = strict.CreateClient();
        var url = _server.BaseUrl + "/ctx.jsonld";
        var before = _server.Hits("/ctx.jsonld");

        await DetailWithoutUrl(await CreateWithContext(client, url), url);

        _server.Hits("/ctx.jsonld").Should().Be(before);
        Refusals(strict).Should().BeGreaterThan(0);
        strict.DeleteData();
    }

    [Fact]
    public async Task Allow_list_overrides_the_strict_profile_for_a_named_cidr()
    {
        await using var strict = new BrokerFactory(settings: new Dictionary<string, string?>
        {
            ["Kontext:Outbound:Profile"] = "strict",
            ["Kontext:Outbound:Allow:0"] = "127.0.0.0/8",
        });
        using var client = strict.CreateClient();

        var response = await CreateWithContext(client, _server.BaseUrl + "/ctx.jsonld");

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        strict.DeleteData();
    }

    [Fact]
    public async Task Redirect_from_a_permitted_loopback_server_to_a_denied_host_is_refused_at_the_hop()
    {
        // The target serves a good context: only the check at the hop keeps the broker from fetching it.
        await using var broker = new BrokerFactory(settings: new Dictionary<string, string?> { ["Kontext:Outbound:Deny:0"] = "localhost" });
        using var client = broker.CreateClient();
        var target = $"http://localhost:{new Uri(_other.BaseUrl).Port}/hop-target.jsonld";
        _other.Serve("/hop-target.jsonld", Context);
        var url = _server.Redirect("/to-denied.jsonld", target);

        await DetailWithoutUrl(await CreateWithContext(client, url), url);

        _server.Hits("/to-denied.jsonld").Should().BeGreaterThan(0);
        _other.Hits("/hop-target.jsonld").Should().Be(0);
        Refusals(broker).Should().BeGreaterThan(0);
        broker.DeleteData();
    }
}
