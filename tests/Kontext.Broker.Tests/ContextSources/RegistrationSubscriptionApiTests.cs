using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Subscriptions to context source registrations (clause 5.11): /csourceSubscriptions, and the notifications of clause
/// 5.11.7 (newlyMatching, updated, noLongerMatching) delivered through the outbox over HTTP and MQTT.
/// </summary>
public sealed class RegistrationSubscriptionApiTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>, IAsyncLifetime
{
    public const string Subscriptions = "/ngsi-ld/v1/csourceSubscriptions";
    private const string Registrations = RegistrationApiTests.Registrations;
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "csub-" + Guid.NewGuid().ToString("N")[..8];
    private NotificationReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await NotificationReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private string Subscription(string id, string members, string? endpoint = null, string extraEndpoint = "") => $$$"""
        {"id":"{{{id}}}","type":"Subscription",{{{members}}},
         "notification":{"endpoint":{"uri":"{{{endpoint ?? _receiver.Url}}}","accept":"application/json"{{{extraEndpoint}}} } } }
        """;

    private async Task<string> SubscribeAsync(string members, string? endpoint = null, string extraEndpoint = "")
    {
        var id = Api.NewId("Subscription");
        var response = await _client.Send(HttpMethod.Post, Subscriptions, Subscription(id, members, endpoint, extraEndpoint), tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        response.Headers.Location!.ToString().Should().Be($"{Subscriptions}/{id}");
        return id;
    }

    private async Task<string> RegisterAsync(string type, string endpoint = "http://fleet.example:1026")
    {
        var id = Api.NewId("ContextSourceRegistration");
        var body = RegistrationApiTests.Registration(id, $$"""[{"entities":[{"type":"{{type}}"}]}]""").Replace("http://fleet.example:1026", endpoint);
        var response = await _client.Send(HttpMethod.Post, Registrations, body, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return id;
    }

    [Fact]
    public async Task Registering_a_matching_source_notifies_newlyMatching_with_the_registration()
    {
        var subscription = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");

        var registration = await RegisterAsync("Vehicle");
        await RegisterAsync("Building");
        var received = await _receiver.WaitForAsync(1);

        (await _receiver.SettleAsync(TimeSpan.FromMilliseconds(800))).Should().HaveCount(1, "the Building registration matches nothing");
        var notification = received[0];
        notification.Body["type"]!.GetValue<string>().Should().Be("ContextSourceNotification");
        notification.Body["subscriptionId"]!.GetValue<string>().Should().Be(subscription);
        notification.Body["triggerReason"]!.GetValue<string>().Should().Be("newlyMatching");
        notification.Entity["id"]!.GetValue<string>().Should().Be(registration);
        notification.Entity["information"]![0]!["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Vehicle");
        notification.Headers["NGSILD-Tenant"].Should().Be(_tenant);
        notification.Headers["Link"].Should().Contain("ngsi-ld-core-context");
    }

    private async Task<string> RegisterBuildingAndBusAsync()
    {
        var id = Api.NewId("ContextSourceRegistration");
        var body = RegistrationApiTests.Registration(id, """
            [{"entities":[{"type":"Building"}],"propertyNames":["height"]},
             {"entities":[{"type":"Bus"}],"propertyNames":["speed"],"relationshipNames":["route"]}]
            """);
        var response = await _client.Send(HttpMethod.Post, Registrations, body, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return id;
    }

    private static IEnumerable<string> InformationTypes(ReceivedNotification notification) =>
        notification.Entity["information"]!.AsArray().Select(info => info!["entities"]![0]!["type"]!.GetValue<string>());

    [Fact]
    public async Task A_notified_registration_carries_only_the_RegistrationInfos_the_entities_select()
    {
        // ETSI 047_03_01: clause 5.11.7 asks for "only matching RegistrationInfo elements", also when the registration goes.
        await SubscribeAsync("\"entities\":[{\"type\":\"Building\"}]");
        var registration = await RegisterBuildingAndBusAsync();
        await _client.Send(HttpMethod.Delete, $"{Registrations}/{registration}", tenant: _tenant);

        var received = await _receiver.WaitForAsync(2);

        received.Select(n => n.Body["triggerReason"]!.GetValue<string>()).Should().Equal("newlyMatching", "noLongerMatching");
        received.Should().AllSatisfy(n =>
        {
            n.Entity["id"]!.GetValue<string>().Should().Be(registration);
            InformationTypes(n).Should().Equal("Building");
            n.Entity["information"]![0]!["propertyNames"]!.AsArray().Select(p => p!.GetValue<string>()).Should().Equal("height");
            n.Entity["endpoint"]!.GetValue<string>().Should().Be("http://fleet.example:1026", "the rest of the registration is kept");
        });
    }

    [Fact]
    public async Task A_notified_registration_carries_only_the_RegistrationInfos_the_watched_attributes_select()
    {
        await SubscribeAsync("\"watchedAttributes\":[\"route\"]");
        await RegisterBuildingAndBusAsync();

        var notification = (await _receiver.WaitForAsync(1))[0];

        InformationTypes(notification).Should().Equal("Bus");
        notification.Entity["information"]![0]!["relationshipNames"]!.AsArray().Select(p => p!.GetValue<string>()).Should().Equal("route");
    }

    [Fact]
    public async Task Updating_and_deleting_a_matching_registration_notifies_updated_then_noLongerMatching()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}],\"csf\":\"endpoint==\\\"http://a.example\\\"\"");
        var registration = await RegisterAsync("Vehicle", "http://a.example");

        await _client.Send(HttpMethod.Patch, $"{Registrations}/{registration}", """{"registrationName":"fleet"}""", tenant: _tenant);
        await _client.Send(HttpMethod.Patch, $"{Registrations}/{registration}", """{"endpoint":"http://b.example"}""", tenant: _tenant);
        await _client.Send(HttpMethod.Delete, $"{Registrations}/{registration}", tenant: _tenant);
        var received = await _receiver.WaitForAsync(3);

        received.Select(n => n.Body["triggerReason"]!.GetValue<string>()).Should().Equal("newlyMatching", "updated", "noLongerMatching");
        (await _receiver.SettleAsync(TimeSpan.FromMilliseconds(800))).Should().HaveCount(3, "the deletion concerns a registration that no longer matched");
    }

    [Fact]
    public async Task A_new_subscription_is_notified_of_the_registrations_it_matches_at_once()
    {
        var registration = await RegisterAsync("Vehicle");

        await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");
        var received = await _receiver.WaitForAsync(1);

        received.Should().ContainSingle().Which.Body["triggerReason"]!.GetValue<string>().Should().Be("newlyMatching");
        received[0].Data.Select(r => r!["id"]!.GetValue<string>()).Should().Equal(registration);
    }

    [Fact]
    public async Task A_delivered_notification_updates_the_subscription_counters()
    {
        var subscription = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");
        await RegisterAsync("Vehicle");
        await _receiver.WaitForAsync(1);

        JsonObject body = new();
        // timesSent counts from sending; lastSuccess needs the receiver's answer, so wait for that.
        for (var i = 0; i < 50 && body["notification"]?["lastSuccess"] is null; i++)
        {
            body = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/{subscription}", tenant: _tenant)).JsonAsync();
            await Task.Delay(100);
        }

        body["notification"]!["timesSent"]!.GetValue<long>().Should().Be(1);
        body["notification"]!["status"]!.GetValue<string>().Should().Be("ok");
        body["notification"]!.AsObject().ContainsKey("lastSuccess").Should().BeTrue();
        body["notification"]!.AsObject().ContainsKey("lastNotification").Should().BeTrue();
        body["status"]!.GetValue<string>().Should().Be("active");
    }

    [Fact]
    public async Task A_paused_subscription_is_not_notified()
    {
        var subscription = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}],\"isActive\":false");

        await RegisterAsync("Vehicle");

        (await _receiver.SettleAsync(TimeSpan.FromMilliseconds(800))).Should().BeEmpty();
        var body = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/{subscription}", tenant: _tenant)).JsonAsync();
        body["status"]!.GetValue<string>().Should().Be("paused");
    }

    [Fact]
    public async Task Subscriptions_are_listed_updated_and_deleted()
    {
        var id = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");

        var list = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, Subscriptions, tenant: _tenant)).Content.ReadAsStringAsync())!.AsArray();
        list.Select(s => s!["id"]!.GetValue<string>()).Should().Contain(id);
        (await _client.Send(HttpMethod.Patch, $"{Subscriptions}/{id}", """{"isActive":false}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/{id}", tenant: _tenant)).JsonAsync())["isActive"]!.GetValue<bool>().Should().BeFalse();
        (await _client.Send(HttpMethod.Delete, $"{Subscriptions}/{id}", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Get, $"{Subscriptions}/{id}", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Subscriptions_to_registrations_and_to_entities_are_separate()
    {
        var id = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");

        (await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/subscriptions/{id}", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var entitySubscriptions = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions", tenant: _tenant)).Content.ReadAsStringAsync())!.AsArray();
        entitySubscriptions.Should().BeEmpty();
    }

    [Theory]
    [InlineData("\"entities\":[{\"type\":\"Vehicle\"}],\"csf\":\"(broken\"")]
    [InlineData("\"q\":\"speed>1\"")] // neither entities nor watchedAttributes
    public async Task An_invalid_subscription_returns_400(string members)
    {
        var response = await _client.Send(HttpMethod.Post, Subscriptions, Subscription(Api.NewId("Subscription"), members), tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task An_mqtt_endpoint_receives_the_notification_in_the_mqtt_envelope()
    {
        await using var mqtt = await MqttTestBroker.StartAsync();
        var topic = $"kontext/{_tenant}/registrations";
        await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]", mqtt.Url(topic));

        var registration = await RegisterAsync("Vehicle");
        var received = await mqtt.WaitForAsync(1);

        received.Should().ContainSingle().Which.Topic.Should().Be(topic);
        received[0].Body["triggerReason"]!.GetValue<string>().Should().Be("newlyMatching");
        received[0].Entity["id"]!.GetValue<string>().Should().Be(registration);
        received[0].Metadata["NGSILD-Tenant"]!.GetValue<string>().Should().Be(_tenant);
    }

    [Fact]
    public async Task A_subscription_is_shown_without_isActive_unless_given_and_without_counters_before_any_notification()
    {
        var id = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");

        var body = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/{id}", tenant: _tenant)).JsonAsync();

        body.ContainsKey("isActive").Should().BeFalse("status tells whether it runs (Table 5.2.12-1)");
        body["status"]!.GetValue<string>().Should().Be("active");
        body["notification"]!.AsObject().ContainsKey("timesSent").Should().BeFalse();
        body["notification"]!.AsObject().ContainsKey("timesFailed").Should().BeFalse();
    }

    [Fact]
    public async Task Update_subscription_with_a_null_or_another_type_is_BadRequestData()
    {
        var id = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");

        await (await _client.Send(HttpMethod.Patch, $"{Subscriptions}/{id}", """{"type":null}""", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Patch, $"{Subscriptions}/{id}", """{"type":"Registration"}""", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Updating_what_a_subscription_selects_notifies_every_registration_it_now_matches()
    {
        var id = await SubscribeAsync("\"entities\":[{\"type\":\"Vehicle\"}]");
        var bus = await RegisterAsync("Bus");
        (await _receiver.SettleAsync(TimeSpan.FromMilliseconds(500))).Should().BeEmpty("no registration matches yet");

        (await _client.Send(HttpMethod.Patch, $"{Subscriptions}/{id}", """{"entities":[{"type":"Bus"}]}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var notification = (await _receiver.WaitForAsync(1))[0];
        notification.Body["type"]!.GetValue<string>().Should().Be("ContextSourceNotification");
        notification.Body["triggerReason"]!.GetValue<string>().Should().Be("newlyMatching");
        notification.Body["data"]!.AsArray().Select(r => r!["id"]!.GetValue<string>()).Should().Equal(bus);
    }
}
