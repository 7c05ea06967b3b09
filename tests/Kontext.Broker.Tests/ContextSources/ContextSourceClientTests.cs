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
    ["Kontext:Federation:UnreachableCooldown"] = "00:00:01",
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

    [Theory]
    [InlineData("GET", "entities?type=Vehicle")]
    [InlineData("PUT", "entities/urn:ngsi-ld:Vehicle:A")]
    [InlineData("DELETE", "entities/urn:ngsi-ld:Vehicle:A")]
    [InlineData("POST", "entityOperations/query?options=sysAttrs")]
    public async Task A_repeatable_request_whose_answer_ended_early_is_sent_once_more(string method, string resource)
    {
        using var source = RawContextSource.Start(n => n == 0 ? RawContextSource.Reply.CloseWithoutAnswer : RawContextSource.Reply.Answer);

        var response = await Client.SendAsync(Registration(source.BaseUrl), Request(method, resource), null, default);

        response.Failure.Should().BeNull();
        response.Status.Should().Be(method is "GET" or "POST" ? 200 : 204);
        source.Requests.Should().HaveCount(2, "the request is sent again on a new connection after the first connection ended without an answer");
    }

    [Theory]
    [InlineData("PATCH", "entities/urn:ngsi-ld:Vehicle:A")]
    [InlineData("POST", "entityOperations/upsert")]
    [InlineData("POST", "entities")]
    public async Task A_request_that_is_not_repeatable_is_not_sent_again_after_its_answer_ended_early(string method, string resource)
    {
        using var source = RawContextSource.Start(n => n == 0 ? RawContextSource.Reply.CloseWithoutAnswer : RawContextSource.Reply.Answer);

        var response = await Client.SendAsync(Registration(source.BaseUrl), Request(method, resource), null, default);

        response.Failure.Should().Be(ContextSourceFailure.Unreachable);
        source.Requests.Should().ContainSingle("a write that may have reached the source is not sent twice");
    }

    [Fact]
    public async Task A_source_that_closes_its_connection_after_each_HTTP_1_0_answer_gets_a_connection_of_its_own_for_each_request()
    {
        using var source = RawContextSource.Start(_ => RawContextSource.Reply.AnswerAsHttp10ThenClose);
        var registration = Registration(source.BaseUrl);

        var first = await Client.SendAsync(registration, Request("PATCH", "entities/urn:ngsi-ld:Vehicle:A/attrs"), null, default);
        var second = await Client.SendAsync(registration, Request("PATCH", "entities/urn:ngsi-ld:Vehicle:B/attrs"), null, default);

        first.Status.Should().Be(204);
        second.Status.Should().Be(204, "the second request is not sent into the connection the source is about to close");
        source.Connections.Should().Be(2);
        source.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_source_that_refuses_connections_is_left_alone_for_the_unreachable_cooldown_then_asked_again()
    {
        var port = NotificationReceiver.FreePort();
        var registration = Registration($"http://127.0.0.1:{port}");

        var refused = await Client.SendAsync(registration, Query(), null, default);
        var cooling = await Client.SendAsync(registration, Query(), null, default);
        using var source = RawContextSource.Start(_ => RawContextSource.Reply.Answer, port);
        var stillCooling = await Client.SendAsync(registration, Query(), null, default);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var back = await Client.SendAsync(registration, Query(), null, default);

        refused.Failure.Should().Be(ContextSourceFailure.Unreachable);
        cooling.Failure.Should().Be(ContextSourceFailure.CoolingDown, "a source no connection could be opened to is not tried on every request");
        stillCooling.Failure.Should().Be(ContextSourceFailure.CoolingDown);
        back.Status.Should().Be(200, "after Kontext:Federation:UnreachableCooldown the source is asked again");
        source.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task A_registrations_own_cooldown_wins_over_the_unreachable_cooldown()
    {
        var port = NotificationReceiver.FreePort();
        var shorter = Registration($"http://127.0.0.1:{port}", """, "management": {"cooldown": 100}""");
        var longer = Registration($"http://127.0.0.1:{port}", """, "management": {"cooldown": 600000}""");

        (await Client.SendAsync(shorter, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.Unreachable);
        (await Client.SendAsync(longer, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.Unreachable);
        using var source = RawContextSource.Start(_ => RawContextSource.Reply.Answer, port);
        await Task.Delay(TimeSpan.FromMilliseconds(300));

        (await Client.SendAsync(shorter, Query(), null, default)).Status.Should().Be(200, "its cooldown of 100 ms is over, though the default of 1 s is not");
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        (await Client.SendAsync(longer, Query(), null, default)).Failure.Should().Be(ContextSourceFailure.CoolingDown, "its cooldown of 10 minutes is not over");
        source.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task A_new_registration_is_tried_at_once_on_an_endpoint_another_registration_found_down()
    {
        var port = NotificationReceiver.FreePort();
        (await Client.SendAsync(Registration($"http://127.0.0.1:{port}"), Query(), null, default)).Failure.Should().Be(ContextSourceFailure.Unreachable);
        using var source = RawContextSource.Start(_ => RawContextSource.Reply.Answer, port);

        var fresh = await Client.SendAsync(Registration($"http://127.0.0.1:{port}"), Query(), null, default);

        fresh.Status.Should().Be(200, "the cooldown belongs to the registration that failed, so a source registered anew works at once");
    }

    private static ContextSourceRequest Request(string method, string resource) =>
        new(new HttpMethod(method), resource, Body: method is "GET" or "DELETE" ? null : "{\"type\": \"Vehicle\"}");

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
