using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Adapters;
using Kontext.Broker.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Kontext.Broker.Tests.WebConsole;

/// <summary>
/// The built broker on a real Kestrel port (a browser needs one) with API keys on, a stormwater tenant seeded through the
/// API (sensors with locations and level history, a subscription, a dead letter), and one Chromium signed in as the
/// operator through the console's own sign-in dialog.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string Tenant = "city";
    public const string OperatorKey = "console-operator-key-1";
    public const string ViewerKey = "console-viewer-key-1"; // read on the city tenant only
    public const string SensorType = "FloodSensor";
    public const int Sensors = 24;
    public const int FaultySensors = 4; // status "fault": the q filter finds them
    public const string SubscriptionId = "urn:ngsi-ld:Subscription:console-levels";
    public static readonly DateTime HistoryStart = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public const int PointsPerSensor = 6;
    public static readonly string[] HistorySensors = [SensorId(1), SensorId(2)];

    private readonly string _data = Path.Combine(Path.GetTempPath(), "kontext-tests", "console-" + Guid.NewGuid().ToString("N"));
    private BrokerProcess? _broker;

    public HttpClient Client { get; private set; } = null!;
    public ConsoleBrowser Browser { get; private set; } = null!;
    public string DeadLetterId { get; private set; } = "";

    public static string SensorId(int n) => $"urn:ngsi-ld:{SensorType}:{n:D3}";

    /// <summary>Vienna, a grid of sensors 0.01° apart: sensors 1..12 west of 16.36°, 13..24 east of it.</summary>
    public static (double Lon, double Lat) Position(int n) => (16.30 + (n - 1) % 12 * 0.005 + (n > 12 ? 0.07 : 0), 48.20 + (n - 1) % 6 * 0.005);

    public async Task InitializeAsync()
    {
        if (ConsoleBrowser.MissingReason is not null) return; // every test of the class reports skipped
        _broker = await BrokerProcess.StartAsync(_data, new Dictionary<string, string>
        {
            ["Kontext__Auth__Mode"] = "apikey",
            ["Kontext__Auth__ApiKeys__operator__Key"] = OperatorKey,
            ["Kontext__Auth__ApiKeys__operator__Tenants__0"] = "*",
            ["Kontext__Auth__ApiKeys__operator__Roles__0"] = "admin",
            ["Kontext__Auth__ApiKeys__viewer__Key"] = ViewerKey,
            ["Kontext__Auth__ApiKeys__viewer__Tenants__0"] = Tenant,
            ["Kontext__Auth__ApiKeys__viewer__Roles__0"] = "read",
            ["Kontext__Adapters__SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext__Adapters__MappingDirectory"] = Path.Combine(RepoPaths.Root, "mappings"),
            ["Kontext__Adapters__Sources__ttn__Kind"] = "tts",
            ["Kontext__Adapters__Sources__ttn__Secret"] = AdapterFixture.TtsSecret,
            ["Kontext__Adapters__Sources__ttn__Tenant"] = Tenant,
            ["Kontext__Adapters__Sources__ttn__Header"] = "Authorization",
        });
        Client = new HttpClient { BaseAddress = new Uri(_broker.Url) };
        Client.DefaultRequestHeaders.Add("X-Api-Key", OperatorKey);
        await SeedAsync();
        Browser = new ConsoleBrowser(_broker.Url);
        SignIn();
    }

    private async Task SeedAsync()
    {
        var entities = new JsonArray();
        for (var n = 1; n <= Sensors; n++)
        {
            var (lon, lat) = Position(n);
            entities.Add(JsonNode.Parse($$"""
                {"id": "{{SensorId(n)}}", "type": "{{SensorType}}",
                 "level": {"type": "Property", "value": {{Level(n).ToString(CultureInfo.InvariantCulture)}}, "unitCode": "MTR", "observedAt": "{{Iso(HistoryStart.AddHours(PointsPerSensor - 1))}}"},
                 "status": {"type": "Property", "value": "{{(n % 6 == 0 ? "fault" : "ok")}}"},
                 "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:gauge-{{n:D3}}"},
                 "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [{{lon.ToString(CultureInfo.InvariantCulture)}}, {{lat.ToString(CultureInfo.InvariantCulture)}}]} } }
                """));
        }
        await Ok(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create", entities.ToJsonString(), HttpStatusCode.Created);
        await Ok(HttpMethod.Post, "/ngsi-ld/v1/entities", """{"id": "urn:ngsi-ld:Device:gauge-001", "type": "Device", "category": {"type": "Property", "value": ["sensor"]}}""", HttpStatusCode.Created);

        // History: five earlier readings each for two sensors, an hour apart, before the current one.
        foreach (var (id, i) in HistorySensors.Select((id, i) => (id, i)))
        {
            var readings = new JsonArray();
            for (var h = 0; h < PointsPerSensor - 1; h++)
                readings.Add(JsonNode.Parse($$"""{"type": "Property", "value": {{(i + 1) * 10 + h}}, "observedAt": "{{Iso(HistoryStart.AddHours(h))}}"}"""));
            var temporal = new JsonObject { ["id"] = id, ["type"] = SensorType, ["level"] = readings };
            await Ok(HttpMethod.Post, "/ngsi-ld/v1/temporal/entities", temporal.ToJsonString(), HttpStatusCode.NoContent);
        }

        await Ok(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", $$"""
            {"id": "{{SubscriptionId}}", "type": "Subscription", "subscriptionName": "Stormwater levels to the control room",
             "entities": [{"type": "{{SensorType}}"}], "watchedAttributes": ["level"],
             "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify", "accept": "application/json"} } }
            """, HttpStatusCode.Created);

        // A dead letter: a waste container uplink without a location, refused while WasteContainer is enforced.
        await Ok(HttpMethod.Put, "/adapters/validation/WasteContainer", """{"mode": "enforce"}""", HttpStatusCode.NoContent);
        var (fPort, bytes, decoded) = VendorPayloads.CodecExample("milesight-iot/em310-udl-codec.yaml");
        var refused = await Client.PostTts("ttn", VendorPayloads.Tts(VendorPayloads.NewEui(), "milesight-iot/em310-udl", 9, fPort, bytes, decoded));
        DeadLetterId = (await refused.OkJson(HttpStatusCode.BadRequest))["deadLetter"]!.GetValue<string>();
    }

    private async Task Ok(HttpMethod method, string path, string json, HttpStatusCode expected)
    {
        var response = await Client.Send(method, path, json, tenant: Tenant);
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"seeding {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The current level: the history sensors continue their series (10, 11, ... then 15), the others read 0.2x m.</summary>
    public static double Level(int n) => n <= HistorySensors.Length ? n * 10 + PointsPerSensor - 1 : 0.2 + n * 0.01;

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>Through the console's own dialog: the key is kept in the tab's sessionStorage, and the tenant chosen.</summary>
    private void SignIn()
    {
        Browser.Open("#/health");
        SignInAs(OperatorKey);
        Browser.Fill("#tenant", Tenant);
        Browser.Driver.FindElement(By.CssSelector("#tenant-form button")).Click();
        Browser.Until(d => d.FindElement(By.Id("type-counts")).Text.Contains(SensorType), "the health screen's counts after sign-in");
    }

    public void SignInAs(string key)
    {
        Browser.Element("#signin-open").Click();
        Browser.Fill("#cred-key", key);
        Browser.Element("#signin-submit").Click();
    }

    public async Task DisposeAsync()
    {
        Browser?.Dispose();
        Client?.Dispose();
        _broker?.Dispose();
        await Task.CompletedTask;
        try { Directory.Delete(_data, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
