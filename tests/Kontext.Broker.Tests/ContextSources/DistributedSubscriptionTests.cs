using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Two real Kontext processes on 127.0.0.1: a region that registers a municipality as a context source. Both run as
/// processes because the municipality notifies the region over HTTP (the in-memory test server has no address).
/// </summary>
public sealed class SubscribingBrokers : IAsyncLifetime
{
    private readonly string _regionData = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
    private readonly string _municipalData = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));

    internal BrokerProcess Region { get; private set; } = null!;
    internal BrokerProcess Municipal { get; private set; } = null!;
    public HttpClient RegionClient { get; private set; } = null!;
    public HttpClient MunicipalClient { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        var region = BrokerProcess.StartAsync(_regionData, new Dictionary<string, string> { ["Kontext__Federation__ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:region" });
        var municipal = BrokerProcess.StartAsync(_municipalData, new Dictionary<string, string> { ["Kontext__Federation__ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:municipality" });
        (Region, Municipal) = (await region, await municipal);
        RegionClient = new HttpClient { BaseAddress = new Uri(Region.Url) };
        MunicipalClient = new HttpClient { BaseAddress = new Uri(Municipal.Url) };
    }

    Task IAsyncLifetime.DisposeAsync()
    {
        // Null when a broker did not start: the failure to report is the start's, not the clean-up's.
        RegionClient?.Dispose();
        MunicipalClient?.Dispose();
        Region?.Dispose();
        Municipal?.Dispose();
        foreach (var data in new[] { _regionData, _municipalData })
            try { Directory.Delete(data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Distributed subscriptions (clauses 5.8.1.4, 5.8.5.4, 5.8.6): a subscription at the region is copied, reduced, to the
/// municipality it registered; the municipality's changes reach the region's subscriber; the copy follows the local
/// subscription and the registrations. Each test uses its own entity type, so the legs of other tests never match.
/// </summary>
public sealed class DistributedSubscriptionTests(SubscribingBrokers fx) : IClassFixture<SubscribingBrokers>, IAsyncLifetime
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";
    private const string Inbound = "/ngsi-ld/ex/remote-notify";
    private readonly string _type = "Bus" + Guid.NewGuid().ToString("N")[..8];
    private NotificationReceiver _receiver = null!;

    async Task IAsyncLifetime.InitializeAsync() => _receiver = await NotificationReceiver.StartAsync();

    async Task IAsyncLifetime.DisposeAsync() => await _receiver.DisposeAsync();

    private string Entity(string id, int speed) => $$"""{"id":"{{id}}","type":"{{_type}}","speed":{"type":"Property","value":{{speed}}} }""";

    private async Task RegisterMunicipalityAsync(string information = "")
    {
        var info = information.Length > 0 ? information : $$"""[{"entities":[{"type":"{{_type}}"}]}]""";
        var response = await fx.RegionClient.Send(HttpMethod.Post, RegistrationApiTests.Registrations,
            FederatedBrokers.Registration(fx.Municipal.Url, info));
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> SubscribeAtRegionAsync(string extra = "")
    {
        var id = Api.NewId("Subscription");
        var response = await fx.RegionClient.Send(HttpMethod.Post, Subscriptions,
            $$"""{"id":"{{id}}","type":"Subscription","entities":[{"type":"{{_type}}"}]{{extra}},"notification":{"endpoint":{"uri":"{{_receiver.Url}}"} } }""");
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return id;
    }

    /// <summary>The municipality's copies of region subscriptions for this test's type (polled: they are made in the background).</summary>
    private async Task<List<JsonObject>> CopiesAsync(int expected)
    {
        List<JsonObject> copies = [];
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var all = await FederatedBrokers.ArrayAsync(await fx.MunicipalClient.Send(HttpMethod.Get, Subscriptions + "?limit=1000"));
            copies = all.OfType<JsonObject>().Where(s => s.ToJsonString().Contains(_type, StringComparison.Ordinal)).ToList();
            if (copies.Count == expected) return copies;
            await Task.Delay(100);
        }
        return copies;
    }

    [Fact]
    public async Task A_subscription_at_the_region_is_forwarded_to_the_municipality_with_the_region_as_notification_endpoint()
    {
        await RegisterMunicipalityAsync();

        var id = await SubscribeAtRegionAsync(""","q":"speed>50" """);

        var copy = (await CopiesAsync(1)).Should().ContainSingle().Subject;
        copy["id"]!.GetValue<string>().Should().Contain("distsub");
        copy["notification"]!["endpoint"]!["uri"]!.GetValue<string>().Should().Be(fx.Region.Url + Inbound);
        copy["q"]!.GetValue<string>().Should().Be("speed>50");
        copy.ToJsonString().Should().NotContain(_receiver.Url, "the original subscriber is never told to a source");
        var kept = await FederatedBrokers.ArrayAsync(await fx.RegionClient.Send(HttpMethod.Get, "/ngsi-ld/v1/csourceSubscriptions"));
        kept.Should().Contain(s => s!["id"]!.GetValue<string>().EndsWith(id), "the region keeps a registration subscription for it (clause 5.8.1.4)");
    }

    [Fact]
    public async Task A_change_at_the_municipality_notifies_the_region_subscriber_under_the_region_subscription_id()
    {
        await RegisterMunicipalityAsync();
        var id = await SubscribeAtRegionAsync();
        await CopiesAsync(1);
        var entity = Api.NewId(_type);

        await fx.MunicipalClient.CreateOkAsync(Entity(entity, 42));

        var received = await _receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        received.Should().NotBeEmpty(fx.Region.RecentLog);
        received[0].Body["subscriptionId"]!.GetValue<string>().Should().Be(id);
        received[0].Entity["id"]!.GetValue<string>().Should().Be(entity);
        received[0].Entity["speed"]!["value"]!.GetValue<int>().Should().Be(42);
    }

    [Fact]
    public async Task Deleting_the_subscription_deletes_its_copy_at_the_municipality()
    {
        await RegisterMunicipalityAsync();
        var id = await SubscribeAtRegionAsync();
        (await CopiesAsync(1)).Should().ContainSingle();

        var response = await fx.RegionClient.Send(HttpMethod.Delete, $"{Subscriptions}/{id}");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await CopiesAsync(0)).Should().BeEmpty();
        var kept = await FederatedBrokers.ArrayAsync(await fx.RegionClient.Send(HttpMethod.Get, "/ngsi-ld/v1/csourceSubscriptions"));
        kept.Should().NotContain(s => s!["id"]!.GetValue<string>().EndsWith(id));
    }

    [Fact]
    public async Task An_inbound_notification_naming_an_unknown_subscription_is_refused_and_never_delivered()
    {
        await RegisterMunicipalityAsync();
        await SubscribeAtRegionAsync();
        await CopiesAsync(1);

        var forged = await fx.RegionClient.Send(HttpMethod.Post, Inbound, $$"""
            {"id":"urn:ngsi-ld:Notification:forged","type":"Notification","subscriptionId":"urn:ngsi-ld:Subscription:distsub:unknown",
             "notifiedAt":"2026-01-01T00:00:00Z","data":[{{Entity(Api.NewId(_type), 31337)}}]}
            """);

        forged.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _receiver.SettleAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_registration_created_after_the_subscription_wires_the_copy()
    {
        var id = await SubscribeAtRegionAsync();
        (await CopiesAsync(0)).Should().BeEmpty();

        await RegisterMunicipalityAsync();

        (await CopiesAsync(1)).Should().ContainSingle();
        var entity = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(entity, 64));
        var received = await _receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        received.Should().NotBeEmpty(fx.Region.RecentLog);
        received[0].Body["subscriptionId"]!.GetValue<string>().Should().Be(id);
    }

    [Fact]
    public async Task A_registration_naming_only_some_attributes_gets_a_copy_watching_only_those()
    {
        await RegisterMunicipalityAsync($$"""[{"entities":[{"type":"{{_type}}"}],"propertyNames":["speed"]}]""");

        await SubscribeAtRegionAsync();

        var copy = (await CopiesAsync(1)).Should().ContainSingle().Subject;
        copy["watchedAttributes"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("speed");
    }

    [Fact]
    public async Task A_local_only_subscription_is_not_forwarded()
    {
        await RegisterMunicipalityAsync();

        var id = await SubscribeAtRegionAsync(""","localOnly":true""");

        var kept = await FederatedBrokers.ArrayAsync(await fx.RegionClient.Send(HttpMethod.Get, "/ngsi-ld/v1/csourceSubscriptions"));
        kept.Should().NotContain(s => s!["id"]!.GetValue<string>().EndsWith(id), "a localOnly subscription is not distributed (clause 5.2.12)");
    }
}
