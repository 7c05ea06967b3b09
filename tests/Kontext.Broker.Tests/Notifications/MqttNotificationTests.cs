using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>
/// MQTT notification binding (clause 7): an mqtt:// endpoint gets a {"metadata", "body"} message on the URI's topic,
/// with notifierInfo's MQTT-Version and MQTT-QoS. Every server here listens on 127.0.0.1 only.
/// </summary>
public sealed class MqttNotificationTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "mqtt-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> SubscribeAsync(string uri, string notifierInfo = "", string accept = "application/json", string receiverInfo = "")
    {
        var body = $$$$"""
            {"type":"Subscription","entities":[{"type":"Car"}],
             "notification":{"endpoint":{"uri":"{{{{uri}}}}","accept":"{{{{accept}}}}"{{{{receiverInfo}}}}{{{{notifierInfo}}}}}}}
            """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    private static string NotifierInfo(params (string Key, string Value)[] pairs) =>
        ",\"notifierInfo\":[" + string.Join(",", pairs.Select(p => $"{{\"key\":\"{p.Key}\",\"value\":\"{p.Value}\"}}")) + "]";

    private Task CreateAsync(string json) => _client.CreateOkAsync(json, tenant: _tenant);

    [Fact]
    public async Task Mqtt_3_1_1_QoS_0_publishes_the_spec_envelope_on_the_uri_topic()
    {
        await using var mqtt = await MqttTestBroker.StartAsync();
        var topic = $"kontext/{_tenant}/cars";
        await SubscribeAsync(mqtt.Url(topic), receiverInfo: ",\"receiverInfo\":[{\"key\":\"X-Api-Key\",\"value\":\"k-123\"}]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:m1","type":"Car","speed":10}""");
        var received = await mqtt.WaitForAsync(1);

        received.Should().HaveCount(1);
        var message = received[0];
        message.Topic.Should().Be(topic);
        message.Payload.Select(p => p.Key).Should().BeEquivalentTo("metadata", "body");
        message.Metadata["Content-Type"]!.GetValue<string>().Should().Be("application/json");
        message.Metadata["Link"]!.GetValue<string>().Should().Contain("ngsi-ld-core-context").And.Contain("rel=\"http://www.w3.org/ns/json-ld#context\"");
        message.Metadata["X-Api-Key"]!.GetValue<string>().Should().Be("k-123");
        message.Metadata["NGSILD-Tenant"]!.GetValue<string>().Should().Be(_tenant);
        message.Body["type"]!.GetValue<string>().Should().Be("Notification");
        message.Body["id"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:Notification:");
        message.Body["subscriptionId"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:Subscription:");
        message.Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Car:m1");
        message.Entity["speed"]!["value"]!.GetValue<int>().Should().Be(10);
        message.QoS.Should().Be(MqttQualityOfServiceLevel.AtMostOnce);
        mqtt.Published.Where(p => p.ClientId.StartsWith("kontext-")).Select(p => p.QoS).Should().Equal(MqttQualityOfServiceLevel.AtMostOnce);
        mqtt.Connections.Where(c => c.ClientId.StartsWith("kontext-")).Select(c => c.Version).Should().Equal(MqttProtocolVersion.V311);
    }

    [Fact]
    public async Task Mqtt_5_QoS_1_from_notifierInfo_reuses_one_connection()
    {
        await using var mqtt = await MqttTestBroker.StartAsync();
        var topic = $"kontext/{_tenant}/v5/cars";
        await SubscribeAsync(mqtt.Url(topic), NotifierInfo(("MQTT-Version", "mqtt5.0"), ("MQTT-QoS", "1")), accept: "application/ld+json");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:m5","type":"Car","speed":50}""");
        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Car:m5/attrs", """{"speed":55}""", tenant: _tenant);
        var received = await mqtt.WaitForAsync(2);

        received.Should().HaveCount(2);
        received.Should().OnlyContain(m => m.Topic == topic && m.QoS == MqttQualityOfServiceLevel.AtLeastOnce);
        var first = received[0];
        first.Metadata["Content-Type"]!.GetValue<string>().Should().Be("application/ld+json");
        first.Metadata.ContainsKey("Link").Should().BeFalse();
        first.Metadata["NGSILD-Tenant"]!.GetValue<string>().Should().Be(_tenant);
        first.Body["type"]!.GetValue<string>().Should().Be("Notification");
        first.Body["@context"].Should().NotBeNull();
        received.Select(m => m.Entity["speed"]!["value"]!.GetValue<int>()).Should().Equal(50, 55);
        mqtt.Published.Where(p => p.ClientId.StartsWith("kontext-")).Select(p => p.QoS).Should().Equal(MqttQualityOfServiceLevel.AtLeastOnce, MqttQualityOfServiceLevel.AtLeastOnce);
        mqtt.Connections.Where(c => c.ClientId.StartsWith("kontext-")).Select(c => c.Version).Should().Equal(MqttProtocolVersion.V500);
    }

    [Fact]
    public async Task Credentials_come_from_the_uri_user_info()
    {
        const string user = "kontext", password = "p@ss:w/rd";
        await using var mqtt = await MqttTestBroker.StartAsync(user: user, password: password);
        await SubscribeAsync(mqtt.Url($"kontext/{_tenant}/right", user, password));
        await SubscribeAsync(mqtt.Url($"kontext/{_tenant}/wrong", user, "nope"));

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:auth","type":"Car","speed":1}""");
        var received = await mqtt.WaitForAsync(1);
        await Task.Delay(500); // a rejected attempt or two at the wrong password

        received.Should().HaveCount(1);
        received[0].Topic.Should().Be($"kontext/{_tenant}/right");
        received[0].Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Car:auth");
        var attempts = mqtt.Connections.Where(c => c.ClientId.StartsWith("kontext-")).ToList();
        attempts.Should().Contain(c => c.Accepted && c.UserName == user && c.Password == password);
        attempts.Should().Contain(c => !c.Accepted && c.UserName == user && c.Password == "nope");
        mqtt.Received.Should().HaveCount(1);
    }

    [Fact]
    public async Task Notification_arrives_once_the_mqtt_server_comes_up()
    {
        var port = NotificationReceiver.FreePort(); // nothing listens here yet: publishing fails
        var topic = $"kontext/{_tenant}/late";
        var location = await SubscribeAsync($"mqtt://127.0.0.1:{port}/{topic}", NotifierInfo(("MQTT-QoS", "1")));
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:late","type":"Car","speed":7}""");

        // timesFailed counts the notification once (clause 5.2.14); each failed attempt moves lastFailure.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var failures = new HashSet<string>();
        while (failures.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            var subscription = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
            if (subscription["notification"]?["lastFailure"]?.GetValue<string>() is { } lastFailure) failures.Add(lastFailure);
        }
        failures.Should().HaveCountGreaterThanOrEqualTo(2, "the dispatcher should have tried and failed while the server was down");

        await using var mqtt = await MqttTestBroker.StartAsync(port: port);
        var received = await mqtt.WaitForAsync(1);

        received.Should().HaveCount(1);
        received[0].Topic.Should().Be(topic);
        received[0].Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Car:late");
        received[0].Entity["speed"]!["value"]!.GetValue<int>().Should().Be(7);
    }

    [Theory]
    [InlineData("mqtt://127.0.0.1:1883", "")]
    [InlineData("mqtt://127.0.0.1:1883/", "")]
    [InlineData("mqtt://127.0.0.1:1883/a/#", "")]
    [InlineData("mqtt://127.0.0.1:1883/a/+/b", "")]
    [InlineData("mqtt://127.0.0.1:1883/a?b", "")]
    [InlineData("mqtt://127.0.0.1:1883/a", "MQTT-QoS=3")]
    [InlineData("mqtt://127.0.0.1:1883/a", "MQTT-Version=mqtt3.1")]
    public async Task Invalid_mqtt_endpoints_are_rejected(string uri, string notifierInfo)
    {
        var info = notifierInfo.Length == 0 ? "" : NotifierInfo((notifierInfo.Split('=')[0], notifierInfo.Split('=')[1]));
        var body = $$$$"""
            {"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"{{{{uri}}}}"{{{{info}}}}}}}
            """;

        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
