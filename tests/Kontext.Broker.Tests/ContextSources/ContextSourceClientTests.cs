using System.Net;
using Kontext.Broker.ContextSources;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.JsonLd;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>A broker whose answers from context sources are capped at 1 KiB, so a larger one can be tested.</summary>
public sealed class FederationFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Federation:MaxResponseBytes"] = "1024",
    ["Kontext:Federation:ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:test-broker",
});

/// <summary>
/// The forwarding client of the distributed operations (clause 4.3.6), against a context source on 127.0.0.1: what a
/// forwarded request carries (clauses 4.3.6.5, 6.3.18), and that a slow, failing or unreachable source gives an answer
/// without a response instead of an exception or a hang, and then cools down.
/// </summary>
public sealed class ContextSourceClientTests(FederationFixture fx) : IClassFixture<FederationFixture>, IAsyncLifetime
{
    private ContextSourceStub _source = null!;
    private ContextSourceClient Client => fx.Factory.Services.GetRequiredService<ContextSourceClient>();

    public async Task InitializeAsync() => _source = await ContextSourceStub.StartAsync();

    public async Task DisposeAsync() => await _source.DisposeAsync();

    private static Registration Registration(string endpoint, string extra = "") => RegistrationParser.Parse(
        Kontext.Ngsi.Formats.StoredJson.Parse($$"""
            {"id": "{{Api.NewId("ContextSourceRegistration")}}", "type": "ContextSourceRegistration", "endpoint": "{{endpoint}}",
             "information": [{"entities": [{"type": "Vehicle"}]}] {{extra}}}
            """)!.AsObject(), ContextProcessor.Core, DateTimeOffset.UtcNow);

    private static ContextSourceRequest Query(string? via = null) =>
        new(HttpMethod.Get, "entities?type=Vehicle&attrs=speed", ContextUrl: "http://contexts.example/fleet.jsonld", Via: via);

    [Fact]
    public async Task A_forwarded_request_carries_context_tenant_contextSourceInfo_and_via()
    {
        var registration = Registration(_source.BaseUrl, """, "tenant": "fleet", "contextSourceInfo": [{"key": "X-Auth-Token", "value": "abc"}]""");

        var response = await Client.SendAsync(registration, Query(via: "1.1 urn:ngsi-ld:ContextSource:upstream"), "city", default);

        response.Answered.Should().BeTrue(response.Detail);
        response.Status.Should().Be(200);
        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Method.Should().Be("GET");
        sent.PathAndQuery.Should().Be("/ngsi-ld/v1/entities?type=Vehicle&attrs=speed");
        sent.Headers["Link"].Should().Be("<http://contexts.example/fleet.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
        sent.Headers["NGSILD-Tenant"].Should().Be("fleet");
        sent.Headers["X-Auth-Token"].Should().Be("abc");
        sent.Headers["Via"].Should().Be("1.1 urn:ngsi-ld:ContextSource:upstream, 1.1 urn:ngsi-ld:ContextSource:test-broker:city");
        sent.Headers["Accept"].Should().Be("application/json");
    }

    [Fact]
    public async Task A_jsonldContext_in_contextSourceInfo_names_the_context_sent_to_the_source()
    {
        var registration = Registration(_source.BaseUrl, """, "contextSourceInfo": [{"key": "jsonldContext", "value": "http://contexts.example/source.jsonld"}]""");

        await Client.SendAsync(registration, Query(), null, default);

        var sent = _source.Requests.Single();
        sent.Headers["Link"].Should().Contain("<http://contexts.example/source.jsonld>");
        sent.Headers.ContainsKey("jsonldContext").Should().BeFalse();
        sent.Headers["Via"].Should().Be("1.1 urn:ngsi-ld:ContextSource:test-broker");
    }

    [Fact]
    public async Task A_jsonldContext_in_contextSourceInfo_sends_a_write_as_json_without_an_inline_context()
    {
        var registration = Registration(_source.BaseUrl, """, "contextSourceInfo": [{"key": "jsonldContext", "value": "http://contexts.example/source.jsonld"}]""");
        var write = new ContextSourceRequest(HttpMethod.Post, "entities", "http://contexts.example/fleet.jsonld",
            Body: """{"id":"urn:ngsi-ld:Vehicle:1","type":"Vehicle","@context":"http://contexts.example/fleet.jsonld"}""", ContentType: "application/ld+json");

        await Client.SendAsync(registration, write, null, default);

        var sent = _source.Requests.Single();
        sent.Headers["Content-Type"].Should().StartWith("application/json");
        sent.Headers["Link"].Should().Contain("<http://contexts.example/source.jsonld>");
        System.Text.Json.Nodes.JsonNode.Parse(sent.Body)!.AsObject().ContainsKey("@context").Should().BeFalse();
    }

    [Fact]
    public async Task Accept_and_contentType_in_contextSourceInfo_steer_the_forwarded_request()
    {
        var registration = Registration(_source.BaseUrl,
            """, "contextSourceInfo": [{"key": "accept", "value": "application/ld+json"}, {"key": "contentType", "value": "application/ld+json"}]""");
        var write = new ContextSourceRequest(HttpMethod.Post, "entities", "http://contexts.example/fleet.jsonld", Body: """{"id":"urn:ngsi-ld:Vehicle:1","type":"Vehicle"}""");

        await Client.SendAsync(registration, write, null, default);

        var sent = _source.Requests.Single();
        sent.Headers["Accept"].Should().Be("application/ld+json");
        sent.Headers["Content-Type"].Should().StartWith("application/ld+json");
        sent.Headers.ContainsKey("Link").Should().BeFalse("with application/ld+json the @context is in the payload");
        System.Text.Json.Nodes.JsonNode.Parse(sent.Body)!["@context"]!.GetValue<string>().Should().Be("http://contexts.example/fleet.jsonld");
    }

    [Fact]
    public async Task Without_a_cooldown_in_the_registration_a_failed_source_is_asked_again_at_once()
    {
        _source.Status = 503;
        var registration = Registration(_source.BaseUrl);

        await Client.SendAsync(registration, Query(), null, default);
        var second = await Client.SendAsync(registration, Query(), null, default);

        second.Failure.Should().BeNull("the broker has no cooldown of its own (Kontext:Federation:Cooldown is zero)");
        _source.Requests.Should().HaveCount(2);
    }

    [Theory]
    [InlineData("http://peer.example", "http://peer.example/ngsi-ld/v1/entities?type=V")]
    [InlineData("http://peer.example/ngsi-ld/v1", "http://peer.example/ngsi-ld/v1/entities?type=V")]
    [InlineData("http://peer.example/city/ngsi-ld/v1/", "http://peer.example/city/ngsi-ld/v1/entities?type=V")]
    [InlineData("http://peer.example/city", "http://peer.example/city/ngsi-ld/v1/entities?type=V")]
    public void The_request_goes_to_the_endpoints_NGSI_LD_root(string endpoint, string expected) =>
        ContextSourceClient.Target(new Uri(endpoint), "entities?type=V").ToString().Should().Be(expected);

    [Fact]
    public async Task A_source_slower_than_the_registration_timeout_gives_a_Timeout_answer_and_then_cools_down()
    {
        _source.Delay = TimeSpan.FromSeconds(30);
        var registration = Registration(_source.BaseUrl, """, "management": {"timeout": 200, "cooldown": 600000}""");

        var first = await Client.SendAsync(registration, Query(), null, default);
        var second = await Client.SendAsync(registration, Query(), null, default);

        first.Failure.Should().Be(ContextSourceFailure.Timeout);
        second.Failure.Should().Be(ContextSourceFailure.CoolingDown);
        _source.Requests.Should().HaveCount(1, "a source that failed is not contacted again while it cools down");
    }

    [Fact]
    public async Task A_source_answering_5xx_cools_down_and_is_asked_again_after_its_cooldown()
    {
        _source.Status = 503;
        var registration = Registration(_source.BaseUrl, """, "management": {"cooldown": 300}""");

        var failed = await Client.SendAsync(registration, Query(), null, default);
        _source.Status = 200;
        (await Client.SendAsync(registration, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.CoolingDown);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var recovered = await Client.SendAsync(registration, Query(), null, default);

        failed.Status.Should().Be(503);
        recovered.Status.Should().Be(200);
        _source.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task An_unreachable_source_gives_an_Unreachable_answer_not_an_exception()
    {
        var registration = Registration($"http://127.0.0.1:{NotificationReceiver.FreePort()}");

        (await Client.SendAsync(registration, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.Unreachable);
    }

    [Fact]
    public async Task An_answer_larger_than_the_cap_is_refused()
    {
        _source.Body = "[" + string.Join(",", Enumerable.Repeat("\"0123456789\"", 200)) + "]";
        var registration = Registration(_source.BaseUrl);

        (await Client.SendAsync(registration, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.TooLarge);
    }

    [Fact]
    public async Task The_outbound_policy_guards_the_forwarding()
    {
        var registration = Registration("http://169.254.169.254");

        (await Client.SendAsync(registration, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.Refused);
    }

    [Fact]
    public async Task A_registration_endpoint_the_outbound_policy_refuses_is_BadRequestData()
    {
        var response = await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations,
            RegistrationApiTests.Registration(Api.NewId("ContextSourceRegistration")).Replace("http://fleet.example:1026", "http://169.254.169.254"));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
