using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>
/// A subscription's jsonldContext is fetched when the subscription is created; a stored subscription whose context
/// later becomes unavailable is set aside on its own, without failing the listing or holding up the tenant's other
/// subscriptions, and without a fetch per reload.
/// </summary>
public sealed class SubscriptionContextTests : IAsyncLifetime
{
    private const string Context = """{"@context":{"ex":"https://example.org/ns#","speed":"ex:speed","Car":"ex:Car"}}""";
    private readonly string _tenant = "subctx-" + Guid.NewGuid().ToString("N")[..8];
    private ContextServer _server = null!;
    private NotificationReceiver _receiver = null!;
    private BrokerFactory _broker = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ContextServer.StartAsync();
        _receiver = await NotificationReceiver.StartAsync();
        _broker = new BrokerFactory(settings: new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
        {
            ["Kontext:Notifications:SubscriptionRefresh"] = "00:00:00.200",
        });
        _client = _broker.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
        _broker.DeleteData();
        await _receiver.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<string> SubscribeAsync(string members)
    {
        var body = $$$$"""
            {"type":"Subscription","entities":[{"type":"Car"}]{{{{members}}}},
             "notification":{"format":"keyValues","endpoint":{"uri":"{{{{_receiver.Url}}}}"}}}
            """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    [Fact]
    public async Task Subscription_with_a_fetchable_jsonldContext_is_created_and_notifies_with_its_terms()
    {
        var url = _server.Serve("/sub-terms.jsonld", Context);
        await SubscribeAsync($$$""","jsonldContext":"{{{url}}}" """);

        await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","https://example.org/ns#speed":3}""", tenant: _tenant);
        var received = await _receiver.WaitForAsync(1);

        received.Should().ContainSingle();
        received[0].Entity["speed"]!.GetValue<int>().Should().Be(3);
    }

    [Fact]
    public async Task Stored_subscription_whose_jsonldContext_became_unavailable_blocks_neither_the_listing_nor_the_other_subscriptions()
    {
        var url = _server.Serve("/goes-away.jsonld", Context);
        var poisoned = await SubscribeAsync($$$""","jsonldContext":"{{{url}}}" """);
        var healthy = await SubscribeAsync("");
        // The context disappears from the server and from the broker's cache.
        _server.Serve("/goes-away.jsonld", "gone", status: 404);
        (await _client.Send(HttpMethod.Delete, "/ngsi-ld/v1/jsonldContexts/" + Uri.EscapeDataString(url))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        // Any subscription write makes the registry reload the tenant's subscriptions.
        (await _client.Send(HttpMethod.Patch, healthy, """{"description":"reload"}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var hitsBefore = _server.Hits("/goes-away.jsonld");

        for (var i = 0; i < 5; i++)
        {
            var list = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions", tenant: _tenant);
            list.StatusCode.Should().Be(HttpStatusCode.OK, await list.Content.ReadAsStringAsync());
            JsonNode.Parse(await list.Content.ReadAsStringAsync())!.AsArray().Select(s => "/ngsi-ld/v1/subscriptions/" + s!["id"]!.GetValue<string>())
                .Should().BeEquivalentTo([poisoned, healthy]);
            (await _client.Send(HttpMethod.Get, poisoned, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.OK);
            await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId("Car")}}}","type":"Car","speed":{{{i}}}}""", tenant: _tenant);
        }
        (await _receiver.WaitForEntitiesAsync(5)).Should().HaveCount(5);

        _receiver.Received.Should().OnlyContain(n => "/ngsi-ld/v1/subscriptions/" + n.Body["subscriptionId"]!.GetValue<string>() == healthy);
        (_server.Hits("/goes-away.jsonld") - hitsBefore).Should().BeLessThanOrEqualTo(2, "one load attempt (and its one retry) before the back-off, not one per reload");
    }
}
