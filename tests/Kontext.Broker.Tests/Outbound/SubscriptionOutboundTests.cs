using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Outbound;

/// <summary>A broker with the strict outbound profile and quick notification retries.</summary>
public sealed class StrictOutboundFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Outbound:Profile"] = "strict",
});

/// <summary>Subscription endpoints and receiverInfo under the outbound policy (default profile).</summary>
public sealed class SubscriptionOutboundTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "outbound-" + Guid.NewGuid().ToString("N")[..8];

    internal static string Subscription(string endpoint, string endpointMembers = "", string members = "") => $$$$"""
        {"type":"Subscription","entities":[{"type":"Car"}]{{{{members}}}},
         "notification":{"endpoint":{"uri":"{{{{endpoint}}}}"{{{{endpointMembers}}}}}}}
        """;

    private Task<HttpResponseMessage> SubscribeAsync(string body) =>
        _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);

    [Theory]
    [InlineData("Host")]
    [InlineData("host")]
    [InlineData("Connection")]
    [InlineData("Keep-Alive")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Upgrade")]
    [InlineData("TE")]
    [InlineData("Proxy-Authorization")]
    [InlineData("Content-Length")]
    public async Task ReceiverInfo_that_sets_Host_or_a_hop_by_hop_header_is_400(string header)
    {
        var response = await SubscribeAsync(Subscription("http://127.0.0.1:9/notify", $$$""","receiverInfo":[{"key":"{{{header}}}","value":"x"}]"""));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await response.JsonAsync())["detail"]!.GetValue<string>().Should().Contain(header);
    }

    [Fact]
    public async Task ReceiverInfo_with_an_ordinary_header_such_as_Authorization_is_accepted()
    {
        var response = await SubscribeAsync(Subscription("http://127.0.0.1:9/notify", ""","receiverInfo":[{"key":"Authorization","value":"Bearer abc"}]"""));

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[fe80::1]:8080/notify")]
    [InlineData("https://[::ffff:169.254.169.254]/notify")]
    [InlineData("http://0.0.0.0:1026/notify")]
    [InlineData("http://224.0.0.1/notify")]
    [InlineData("mqtt://255.255.255.255/topic")]
    public async Task Endpoint_on_a_never_permitted_literal_address_is_400_at_creation(string endpoint)
    {
        var response = await SubscribeAsync(Subscription(endpoint));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await response.JsonAsync())["detail"]!.GetValue<string>().Should().Contain("outbound policy");
    }

    [Fact]
    public async Task Changing_the_endpoint_to_a_never_permitted_address_is_400()
    {
        var created = await SubscribeAsync(Subscription("http://127.0.0.1:9/notify"));
        created.StatusCode.Should().Be(HttpStatusCode.Created);

        var patched = await _client.Send(HttpMethod.Patch, created.Headers.Location!.ToString(),
            """{"notification":{"endpoint":{"uri":"http://169.254.169.254/"}}}""", tenant: _tenant);

        await patched.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Subscription_whose_jsonldContext_cannot_be_fetched_is_504_at_creation()
    {
        var unreachable = $"http://127.0.0.1:{NotificationReceiver.FreePort()}/ctx.jsonld";

        var response = await SubscribeAsync(Subscription("http://127.0.0.1:9/notify", members: $$$""","jsonldContext":"{{{unreachable}}}" """));

        await response.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
        var list = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions", tenant: _tenant);
        await list.ShouldBeProblemAsync(HttpStatusCode.NotFound, "NonexistentTenant"); // nothing was written, not even the tenant
    }
}

/// <summary>
/// Under the strict profile, an endpoint named by a host that resolves to a refused address (localhost → loopback) is
/// accepted at creation (names are not resolved then) and refused at delivery: no connection is made, the notification
/// is given up at once, and the subscription says why.
/// </summary>
public sealed class StrictSubscriptionOutboundTests(StrictOutboundFixture fixture) : IClassFixture<StrictOutboundFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "strict-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> SubscribeAsync(string endpoint)
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", SubscriptionOutboundTests.Subscription(endpoint), tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    /// <summary>Polls the subscription until its notification status is failed and the failure is counted (bounded), and returns its notification member.</summary>
    private async Task<JsonObject> FailedNotificationAsync(string location)
    {
        JsonObject notification = [];
        for (var i = 0; i < 150; i++)
        {
            var subscription = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
            notification = subscription["notification"]!.AsObject();
            if (notification["status"]?.GetValue<string>() == "failed" && notification["timesFailed"] is not null) break;
            await Task.Delay(100);
        }
        return notification;
    }

    [Fact]
    public async Task Endpoint_on_a_loopback_literal_is_400_at_creation_in_the_strict_profile()
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
            SubscriptionOutboundTests.Subscription("http://127.0.0.1:8080/notify"), tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Http_endpoint_whose_name_resolves_to_a_refused_address_fails_delivery_with_the_reason_in_the_status()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        var location = await SubscribeAsync($"http://localhost:{receiver.Port}/notify");

        await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","speed":1}""", tenant: _tenant);
        var notification = await FailedNotificationAsync(location);

        notification["status"]!.GetValue<string>().Should().Be("failed");
        notification["lastFailureReason"]!.GetValue<string>().Should().Contain("outbound policy").And.Contain("localhost");
        notification["timesFailed"]!.GetValue<long>().Should().Be(1, "a refusal is final: the notification is not retried");
        notification["lastFailure"].Should().NotBeNull();
        (await receiver.SettleAsync(TimeSpan.FromMilliseconds(300))).Should().BeEmpty();
    }

    [Fact]
    public async Task Mqtt_endpoint_whose_name_resolves_to_a_refused_address_is_never_connected_to()
    {
        await using var mqtt = await MqttTestBroker.StartAsync();
        var location = await SubscribeAsync($"mqtt://localhost:{mqtt.Port}/kontext/cars");

        await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","speed":1}""", tenant: _tenant);
        var notification = await FailedNotificationAsync(location);

        notification["lastFailureReason"]!.GetValue<string>().Should().Contain("outbound policy");
        mqtt.Connections.Should().BeEmpty();
    }
}
