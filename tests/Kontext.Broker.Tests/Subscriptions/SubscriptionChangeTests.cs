using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Subscriptions;

/// <summary>A broker whose matcher never reloads subscriptions on its own: only a subscription write makes it see a change.</summary>
public sealed class NoRefreshFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Notifications:SubscriptionRefresh"] = "01:00:00",
});

/// <summary>
/// Every subscription write (create, update, delete) is matched against at once: the matcher's parsed subscriptions are
/// invalidated by the write itself (Subscriptions/SubscriptionChanges), not found later by a periodic reload.
/// </summary>
public sealed class SubscriptionChangeTests(NoRefreshFixture fixture) : IClassFixture<NoRefreshFixture>, IAsyncLifetime
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "subchange-" + Guid.NewGuid().ToString("N")[..8];
    private NotificationReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await NotificationReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private async Task SubscribeAsync(string id, string type)
    {
        var body = new JsonObject
        {
            ["id"] = id, ["type"] = "Subscription", ["entities"] = new JsonArray(new JsonObject { ["type"] = type }),
            ["notification"] = new JsonObject { ["endpoint"] = new JsonObject { ["uri"] = _receiver.Url } },
        }.ToJsonString();
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    private Task CreateAsync(string id, string type) => _client.CreateOkAsync($$"""{"id":"{{id}}","type":"{{type}}","speed":1}""", tenant: _tenant);

    [Fact]
    public async Task A_subscription_created_after_the_matcher_loaded_the_tenants_subscriptions_is_matched_against()
    {
        await SubscribeAsync("urn:ngsi-ld:Subscription:cars", "Car");
        await CreateAsync("urn:ngsi-ld:Car:1", "Car");
        await _receiver.WaitForAsync(1); // the matcher has now loaded the tenant's subscriptions: [cars]

        await SubscribeAsync("urn:ngsi-ld:Subscription:bikes", "Bike");
        await CreateAsync("urn:ngsi-ld:Bike:1", "Bike");

        (await _receiver.WaitForAsync(2)).Select(n => n.Body["subscriptionId"]!.GetValue<string>())
            .Should().Equal("urn:ngsi-ld:Subscription:cars", "urn:ngsi-ld:Subscription:bikes");
    }

    [Fact]
    public async Task A_subscription_updated_or_deleted_after_the_matcher_loaded_it_is_matched_as_it_is_now()
    {
        await SubscribeAsync("urn:ngsi-ld:Subscription:watch", "Car");
        await SubscribeAsync("urn:ngsi-ld:Subscription:gone", "Car");
        await CreateAsync("urn:ngsi-ld:Car:1", "Car");
        await _receiver.WaitForAsync(2);

        (await _client.Send(HttpMethod.Patch, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:watch", """{"entities":[{"type":"Bike"}]}""", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Delete, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:gone", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);
        await CreateAsync("urn:ngsi-ld:Car:2", "Car");
        await CreateAsync("urn:ngsi-ld:Bike:1", "Bike");

        await _receiver.WaitForAsync(3);
        var received = await _receiver.SettleAsync(); // a stale match of Car:2 would arrive meanwhile
        received.Skip(2).Select(n => (n.Body["subscriptionId"]!.GetValue<string>(), n.Entity["id"]!.GetValue<string>()))
            .Should().Equal(("urn:ngsi-ld:Subscription:watch", "urn:ngsi-ld:Bike:1"));
    }
}
