using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Adapters;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// docs/stormwater-demo.md, step by step: the pilot's DL-MBX ultrasonic uplink (the TTS fixture) through the TTS adapter,
/// read with NGSI-LD and with the OGC API, and a subscription that alerts when the level rises above 2 m. (The demo's
/// ogr2ogr step runs in <see cref="GdalClientTests"/>.)
/// </summary>
public sealed class StormwaterDemoTests : IAsyncLifetime
{
    private const string Tenant = "stormwater";
    private const string Secret = "pilot-webhook-secret";
    private const string Flood = "urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001";
    private BrokerFactory _factory = null!;
    private HttpClient _client = null!;
    private NotificationReceiver _alerts = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
        {
            ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext:Adapters:MappingDirectory"] = Path.Combine(RepoPaths.Root, "mappings"),
            ["Kontext:Adapters:Sources:pilot:Kind"] = "tts",
            ["Kontext:Adapters:Sources:pilot:Header"] = "Authorization",
            ["Kontext:Adapters:Sources:pilot:Secret"] = Secret,
            ["Kontext:Adapters:Sources:pilot:Tenant"] = Tenant,
        };
        _factory = new BrokerFactory(settings: settings);
        _client = _factory.CreateClient();
        _alerts = await NotificationReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _alerts.DisposeAsync();
        _factory.DeleteData();
    }

    /// <summary>The shipped TTS uplink of the pilot's DL-MBX, with another distance, frame counter and receive time.</summary>
    private async Task UplinkAsync(int distanceMm, int frame, string receivedAt)
    {
        var uplink = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Fixtures, "vendor-payloads", "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!;
        uplink["uplink_message"]!["decoded_payload"]!["distance"]!["value"] = distanceMm;
        uplink["uplink_message"]!["f_cnt"] = frame;
        uplink["uplink_message"]!["received_at"] = receivedAt;
        var request = new HttpRequestMessage(HttpMethod.Post, "/adapters/tts/pilot") { Content = new StringContent(uplink.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Secret);
        var response = await _client.SendAsync(request);
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"stored\"");
    }

    [Fact]
    public async Task Demo_uplink_to_ngsi_ld_to_ogc_features_and_an_alert_above_two_metres()
    {
        // 1. Alert when a FloodMonitoring level rises above 2 m (the smart-data-models context gives currentLevel its IRI).
        var subscription = new JsonObject
        {
            ["type"] = "Subscription",
            ["entities"] = new JsonArray(new JsonObject { ["type"] = "FloodMonitoring" }),
            ["watchedAttributes"] = new JsonArray("currentLevel"),
            ["q"] = "currentLevel>2.0",
            ["notification"] = new JsonObject
            {
                ["format"] = "keyValues",
                ["attributes"] = new JsonArray("currentLevel", "stationID"),
                ["endpoint"] = new JsonObject { ["uri"] = _alerts.Url, ["accept"] = "application/json" },
            },
            ["@context"] = Ogc.EnvironmentContext.DeepClone(),
        };
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription.ToJsonString(), "application/ld+json", tenant: Tenant))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        // 2. The pilot's uplink: 1234 mm below a sensor mounted 2.5 m above the channel bottom → 1.266 m of water.
        await UplinkAsync(1234, 42, "2025-05-20T08:15:02.010Z");

        // 3. NGSI-LD: the FloodMonitoring entity, read with the smart-data-models context (inline here: the test server
        // cannot fetch its own /adapters/contexts URL over the network as the demo's Link header lets the broker do).
        var query = $$"""{"type": "Query", "entities": [{"type": "FloodMonitoring"}], "@context": {{Ogc.EnvironmentContext.ToJsonString()}}}""";
        var found = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?options=keyValues", query, "application/ld+json", tenant: Tenant);
        var entity = JsonNode.Parse(await found.Content.ReadAsStringAsync())!.AsArray().Single()!;
        entity["id"]!.GetValue<string>().Should().Be(Flood);
        entity["measuredDistance"]!.GetValue<double>().Should().Be(1.234);
        entity["currentLevel"]!.GetValue<double>().Should().Be(1.266);

        // 4. OGC API: the same reading as a GeoJSON feature with smart-data-models names.
        var (status, feature, _) = await _client.OgcAsync("/collections/FloodMonitoring/items/" + Flood, Tenant);
        status.Should().Be(HttpStatusCode.OK);
        feature["properties"]!["currentLevel"]!.GetValue<double>().Should().Be(1.266);
        feature["properties"]!["stationID"]!.GetValue<string>().Should().Be("dl-mbx-stormwater-01");
        feature.Point().Should().Be((16.37208, 48.20849));
        (await _client.OgcOkAsync("/collections", Tenant))["collections"]!.AsArray().Select(c => c!["id"]!.GetValue<string>())
            .Should().Contain(["FloodMonitoring", "WaterObserved"]);
        (await _client.OgcOkAsync("/collections/WaterObserved/items", Tenant)).Features().Single()["properties"]!["waterLevel"]!.GetValue<double>().Should().Be(1.266);

        // 5. Rain: 300 mm below the sensor → 2.2 m, above the alert level: one notification, for this reading only.
        await UplinkAsync(300, 43, "2025-05-20T08:30:02.010Z");
        var alert = (await _alerts.WaitForAsync(1)).Single();
        alert.Entity["id"]!.GetValue<string>().Should().Be(Flood);
        alert.Entity["currentLevel"]!.GetValue<double>().Should().Be(2.2);
        alert.Entity["stationID"]!.GetValue<string>().Should().Be("dl-mbx-stormwater-01");
        (await _client.OgcOkAsync("/collections/FloodMonitoring/items?datetime=2025-05-20T08:20:00Z/..", Tenant)).FeatureIds().Should().Equal(Flood);
    }
}
