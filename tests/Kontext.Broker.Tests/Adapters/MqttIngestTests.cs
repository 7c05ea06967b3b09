using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>
/// MQTT ingest end to end: an MQTTnet server on 127.0.0.1 (started before the broker), the broker's MQTT ingest
/// subscribed to the TTS v3 and ChirpStack v4 uplink topics, uplinks published there and read back as NGSI-LD entities.
/// Each test has its own MQTT server, broker and data directory.
/// </summary>
public sealed class MqttIngestTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string TtsTopic = "v3/stormwater-pilot@ttn/devices/dl-mbx-stormwater-01/up";

    private static JsonObject ShippedTts() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!.AsObject();

    private static JsonObject ShippedChirpStack() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "chirpstack-v4", "COMPOSED.up-event.decentlab-dl-mbx.json")))!.AsObject();

    private static string ChirpStackTopic(string eui) => $"application/17c82e96-be03-4f38-aef3-f83d48582d97/device/{eui.ToLowerInvariant()}/event/up";

    [Fact]
    public async Task Tts_and_ChirpStack_uplinks_over_MQTT_give_the_same_entities_as_the_webhooks()
    {
        await using var h = await MqttIngestHarness.StartAsync();

        // The shipped TTS uplink, as is, on the TTS topic; and the same envelope through the webhook (another tenant).
        var tts = ShippedTts();
        await h.PublishAsync(TtsTopic, tts.ToJsonString());
        (await (await h.Client.PostTts("ttn", tts)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");

        var floodId = "urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001";
        var flood = await h.WaitForEntityAsync(floodId, "Environment", MqttIngestHarness.MqttTenant);
        VendorPayloads.ShouldBeTheShippedStormwaterReading(flood);
        var water = await h.WaitForEntityAsync("urn:ngsi-ld:WaterObserved:70B3D57BA0000001", "Environment", MqttIngestHarness.MqttTenant);
        water["waterLevel"]!["value"]!.GetValue<double>().Should().Be(1.266);
        foreach (var (id, subject) in new[] { (floodId, "Environment"), ("urn:ngsi-ld:WaterObserved:70B3D57BA0000001", "Environment"), ("urn:ngsi-ld:Device:70B3D57BA0000001", "Device") })
            await h.ShouldBeSameAsWebhookAsync(id, subject);

        // A ChirpStack v4 up event of the same reading from another device on the ChirpStack topic (default mounting height 3.0 m).
        var eui = VendorPayloads.NewEui();
        var cs = ShippedChirpStack();
        cs["deviceInfo"]!["devEui"] = eui.ToLowerInvariant();
        cs["deviceInfo"]!["tags"] = new JsonObject { ["latitude"] = "48.2", ["longitude"] = "16.37" };
        await h.PublishAsync(ChirpStackTopic(eui), cs.ToJsonString());
        (await (await h.Client.PostChirpStack("cs", cs)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");

        var csFlood = await h.WaitForEntityAsync($"urn:ngsi-ld:FloodMonitoring:{eui}", "Environment", MqttIngestHarness.MqttTenant);
        csFlood["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);
        csFlood["referenceLevel"]!["value"]!.GetValue<double>().Should().Be(3.0);
        csFlood["currentLevel"]!["value"]!.GetValue<double>().Should().Be(1.766);
        csFlood["currentLevel"]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");
        csFlood["stationID"]!["value"]!.GetValue<string>().Should().Be("dl-mbx-stormwater-01");
        await h.WaitForEntityAsync($"urn:ngsi-ld:WaterObserved:{eui}", "Environment", MqttIngestHarness.MqttTenant);
        foreach (var (id, subject) in new[] { ($"urn:ngsi-ld:FloodMonitoring:{eui}", "Environment"), ($"urn:ngsi-ld:WaterObserved:{eui}", "Environment"), ($"urn:ngsi-ld:Device:{eui}", "Device") })
            await h.ShouldBeSameAsWebhookAsync(id, subject);

        // Nothing was dead-lettered on the way.
        (await h.DeadLettersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Uplink_on_the_topic_that_cannot_be_mapped_is_dead_lettered()
    {
        await using var h = await MqttIngestHarness.StartAsync();

        // Elsys ERS CO2 over TTS and an unknown device profile over ChirpStack: no mapping ships for either.
        var (fPort, bytes, data) = VendorPayloads.CodecExample("elsys/ers-co2-codec.yaml");
        var ttsEui = VendorPayloads.NewEui();
        await h.PublishAsync($"v3/office@ttn/devices/dev-{ttsEui.ToLowerInvariant()}/up",
            VendorPayloads.Tts(ttsEui, "elsys/ers-co2", 5, fPort, bytes, data, (48.2, 16.37)).ToJsonString());
        var csEui = VendorPayloads.NewEui();
        await h.PublishAsync(ChirpStackTopic(csEui),
            VendorPayloads.ChirpStack(csEui, "Acme Gizmo 9000", 6, fPort, bytes, data, (48.2, 16.37)).ToJsonString());

        var letters = await Poll.UntilAsync(h.DeadLettersAsync, l => l.Count >= 2, Wait);
        letters.Should().HaveCount(2);
        var tts = letters.Single(l => l["device"]!.GetValue<string>() == ttsEui);
        tts["reason"]!.GetValue<string>().Should().Be("unmapped");
        tts["status"]!.GetValue<string>().Should().Be("pending");
        tts["source"]!.GetValue<string>().Should().Be(MqttIngestHarness.MqttSource);
        tts["kind"]!.GetValue<string>().Should().Be("tts");
        tts["payload"]!["uplink_message"]!["decoded_payload"]!["co2"].Should().NotBeNull();
        var cs = letters.Single(l => l["device"]!.GetValue<string>() == csEui);
        cs["reason"]!.GetValue<string>().Should().Be("unmapped");
        cs["kind"]!.GetValue<string>().Should().Be("chirpstack");
        cs["detail"]!.GetValue<string>().Should().Contain("Acme Gizmo 9000");
        (await h.Client.Send(HttpMethod.Get, $"/ngsi-ld/v1/entities/urn:ngsi-ld:Device:{ttsEui}", tenant: MqttIngestHarness.MqttTenant))
            .StatusCode.Should().Be(HttpStatusCode.NotFound);

        // The letter replays through the kind it came with (still unmapped: the attempt is counted).
        var replay = await (await h.Client.Send(HttpMethod.Post, $"/adapters/deadletters/{cs["id"]}/replay", tenant: MqttIngestHarness.MqttTenant)).OkJson(HttpStatusCode.Accepted);
        replay["reason"]!.GetValue<string>().Should().Be("unmapped");
    }

    [Fact]
    public async Task Malformed_message_on_an_uplink_topic_is_kept_as_a_dead_letter()
    {
        await using var h = await MqttIngestHarness.StartAsync();

        await h.PublishAsync(TtsTopic, "{ this is not json");

        IReadOnlyList<JsonObject> letters = [];
        for (var i = 0; i < 100 && letters.Count == 0; i++)
        {
            letters = await h.DeadLettersAsync();
            if (letters.Count == 0) await Task.Delay(100);
        }
        var letter = letters.Should().ContainSingle().Subject;
        letter["reason"]!.GetValue<string>().Should().Be("malformed");
        letter["payload"]!.GetValue<string>().Should().Be("{ this is not json");
    }

    [Fact]
    public async Task Ingest_reconnects_when_the_MQTT_server_restarts()
    {
        await using var h = await MqttIngestHarness.StartAsync();
        var floodId = "urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001";

        await h.PublishAsync(TtsTopic, ShippedTts().ToJsonString());
        (await h.WaitForEntityAsync(floodId, "Environment", MqttIngestHarness.MqttTenant))["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);

        // The MQTT server goes away for a while (the ingest's reconnect attempts fail), then comes back on the same port.
        await h.StopMqttAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await h.StartMqttAsync();

        // The next frame, with a new reading: published once the ingest has subscribed again.
        var next = ShippedTts();
        var message = next["uplink_message"]!.AsObject();
        message["f_cnt"] = 43;
        message["decoded_payload"]!["distance"]!["value"] = 1500;
        message["received_at"] = "2025-05-20T08:25:02.010Z";
        await h.PublishAsync(TtsTopic, next.ToJsonString());

        var flood = await h.WaitForEntityAsync(floodId, "Environment", MqttIngestHarness.MqttTenant,
            e => e["measuredDistance"]?["value"]?.GetValue<double>() == 1.5);
        flood["measuredDistance"]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:25:02.010Z");
        flood["currentLevel"]!["value"]!.GetValue<double>().Should().Be(1.0);
        (await h.DeadLettersAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Refused_subscription_is_retried_until_the_server_grants_it()
    {
        // A server that refuses every subscription of the first session (no rights yet), then grants them.
        var port = NotificationReceiver.FreePort();
        var sessions = 0;
        var server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder().WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback).WithDefaultEndpointBoundIPV6Address(IPAddress.None).WithDefaultEndpointPort(port).Build());
        server.ValidatingConnectionAsync += e =>
        {
            if (e.ClientId.StartsWith("kontext-adapters", StringComparison.Ordinal)) Interlocked.Increment(ref sessions);
            return Task.CompletedTask;
        };
        server.InterceptingSubscriptionAsync += e =>
        {
            if (Volatile.Read(ref sessions) < 2) e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            return Task.CompletedTask;
        };
        await server.StartAsync();
        try
        {
            await using var h = await MqttIngestHarness.StartAsync(port);
            await h.PublishAsync(TtsTopic, ShippedTts().ToJsonString());
            (await h.WaitForEntityAsync("urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001", "Environment", MqttIngestHarness.MqttTenant))
                ["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);
            Volatile.Read(ref sessions).Should().BeGreaterThanOrEqualTo(2, "the ingest should have dropped the useless session and connected again");
        }
        finally
        {
            await server.StopAsync();
            server.Dispose();
        }
    }

    [Theory]
    [InlineData("v3/app1/devices/dev1/up", "tts")]
    [InlineData("v3/app1@ttn/devices/dev1/up", "tts")]
    [InlineData("application/17c82e96-be03-4f38-aef3-f83d48582d97/device/70b3d57ba0000001/event/up", "chirpstack")]
    [InlineData("v3/app1/devices/dev1/join", null)]
    [InlineData("v3/app1/devices/dev1/down/sent", null)]
    [InlineData("application/1/device/70b3d57ba0000001/event/status", null)]
    [InlineData("application/1/device/70b3d57ba0000001/command/down", null)]
    [InlineData("up", null)]
    public void Envelope_kind_follows_the_topic(string topic, string? kind) =>
        Kontext.Broker.Adapters.MqttIngestService.KindOf(topic).Should().Be(kind);
}

/// <summary>Bounded polling.</summary>
internal static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow >= deadline) return value;
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// An MQTT server on 127.0.0.1 (free port, restartable on the same port), a broker whose MQTT ingest points at it
/// (source "mqtt", tenant "mqtt"), webhook sources "ttn"/"cs" on tenant "http" for comparison, and a context server
/// with the SDM subject contexts.
/// </summary>
internal sealed class MqttIngestHarness : IAsyncDisposable
{
    public const string MqttSource = "mqtt";
    public const string MqttTenant = "mqtt";
    public const string HttpTenant = "http";

    private MqttTestBroker? _mqtt;
    private IMqttClient? _publisher;

    public int Port { get; private init; }
    public BrokerFactory Factory { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public ContextServer Contexts { get; private set; } = null!;

    /// <summary>With <paramref name="port"/>, the test runs its own MQTT server there (started before this); else a <see cref="MqttTestBroker"/>.</summary>
    public static async Task<MqttIngestHarness> StartAsync(int? port = null)
    {
        // The MQTT server first, so the ingest's first connect succeeds; its own test subscriber listens on an unused topic.
        var mqtt = port is null ? await MqttTestBroker.StartAsync(topicFilter: "kontext-tests/unused") : null;
        var h = new MqttIngestHarness { Port = port ?? mqtt!.Port, _mqtt = mqtt };
        var settings = new Dictionary<string, string?>
        {
            ["Kontext:Adapters:MappingDirectory"] = Path.Combine(RepoPaths.Root, "mappings"),
            ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext:Adapters:DefaultValidation"] = "warn",
            ["Kontext:Adapters:Sources:mqtt:Kind"] = "tts",
            ["Kontext:Adapters:Sources:mqtt:Tenant"] = MqttTenant,
            ["Kontext:Adapters:Sources:ttn:Kind"] = "tts",
            ["Kontext:Adapters:Sources:ttn:Secret"] = AdapterFixture.TtsSecret,
            ["Kontext:Adapters:Sources:ttn:Header"] = "Authorization",
            ["Kontext:Adapters:Sources:ttn:Tenant"] = HttpTenant,
            ["Kontext:Adapters:Sources:cs:Kind"] = "chirpstack",
            ["Kontext:Adapters:Sources:cs:Secret"] = AdapterFixture.CsSecret,
            ["Kontext:Adapters:Sources:cs:Tenant"] = HttpTenant,
            ["Kontext:Adapters:Mqtt:Host"] = "127.0.0.1",
            ["Kontext:Adapters:Mqtt:Port"] = h.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kontext:Adapters:Mqtt:ClientId"] = "kontext-adapters-test-" + Guid.NewGuid().ToString("N")[..6],
            ["Kontext:Adapters:Mqtt:Topics:0"] = "v3/+/devices/+/up",
            ["Kontext:Adapters:Mqtt:Topics:1"] = "application/+/device/+/event/up",
            ["Kontext:Adapters:Mqtt:Source"] = MqttSource,
            ["Kontext:Adapters:AdminApiKey"] = AdapterFixture.AdminKey, // the admin endpoints are closed without it
        };
        h.Factory = new BrokerFactory(settings: settings);
        h.Client = h.Factory.CreateClient();
        h.Client.DefaultRequestHeaders.Add("X-Admin-Key", AdapterFixture.AdminKey);
        h.Contexts = await ContextServer.StartAsync();
        foreach (var subject in new[] { "Environment", "Device" })
            h.Contexts.Serve($"/{subject}.jsonld", File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "contexts", "smart-data-models", $"dataModel.{subject}", "context.jsonld")));
        return h;
    }

    public string ContextLink(string subject) => Api.Link(Contexts.BaseUrl + $"/{subject}.jsonld");

    public async Task StopMqttAsync()
    {
        await DisposePublisherAsync();
        if (_mqtt is not null) await _mqtt.DisposeAsync();
        _mqtt = null;
    }

    /// <summary>Starts the MQTT server again on the same port (retrying briefly while the port is still being released).</summary>
    public async Task StartMqttAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            try
            {
                _mqtt = await MqttTestBroker.StartAsync(topicFilter: "kontext-tests/unused", port: Port);
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>
    /// Publishes at QoS 1 over MQTT 5 once the ingest has subscribed: the server answers NoMatchingSubscribers until then
    /// (the test server's own subscriber listens elsewhere), so retry on that, bounded.
    /// </summary>
    public async Task PublishAsync(string topic, string payload)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        while (true)
        {
            if (_publisher is not { IsConnected: true })
            {
                await DisposePublisherAsync();
                _publisher = new MqttClientFactory().CreateMqttClient();
                await _publisher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", Port)
                    .WithProtocolVersion(MqttProtocolVersion.V500).WithClientId("test-publisher-" + Guid.NewGuid().ToString("N")[..6]).WithCleanSession().Build());
            }
            var result = await _publisher.PublishAsync(message);
            if (result.ReasonCode == MqttClientPublishReasonCode.Success) return;
            result.ReasonCode.Should().Be(MqttClientPublishReasonCode.NoMatchingSubscribers);
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"nobody subscribed to {topic} within 10 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls GET /ngsi-ld/v1/entities/{id} (SDM context) until it exists and satisfies <paramref name="condition"/>.</summary>
    public async Task<JsonObject> WaitForEntityAsync(string id, string subject, string tenant, Func<JsonObject, bool>? condition = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var response = await Client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", link: ContextLink(subject), tenant: tenant);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var entity = JsonNode.Parse(last[4..])!.AsObject();
                if (condition is null || condition(entity)) return entity;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{id} in tenant {tenant} did not appear (or not as expected) within 10 s; last answer: {last}");
    }

    /// <summary>The entity the MQTT ingest wrote equals the one the webhook wrote from the same envelope.</summary>
    public async Task ShouldBeSameAsWebhookAsync(string id, string subject)
    {
        var viaMqtt = await WaitForEntityAsync(id, subject, MqttTenant);
        var viaHttp = await Client.GetEntityAsync(id, link: ContextLink(subject), tenant: HttpTenant);
        JsonNode.DeepEquals(viaMqtt, viaHttp).Should().BeTrue("MQTT gave {0}, the webhook {1}", viaMqtt.ToJsonString(), viaHttp.ToJsonString());
    }

    public async Task<IReadOnlyList<JsonObject>> DeadLettersAsync()
    {
        var response = await Client.Send(HttpMethod.Get, "/adapters/deadletters", tenant: MqttTenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray().Select(l => l!.AsObject()).ToList();
    }

    private async Task DisposePublisherAsync()
    {
        if (_publisher is null) return;
        try { if (_publisher.IsConnected) await _publisher.DisconnectAsync(); } catch (Exception) { }
        _publisher.Dispose();
        _publisher = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DisposePublisherAsync();
        Client?.Dispose();
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
            Factory.DeleteData();
        }
        if (Contexts is not null) await Contexts.DisposeAsync();
        if (_mqtt is not null) await _mqtt.DisposeAsync();
    }
}
