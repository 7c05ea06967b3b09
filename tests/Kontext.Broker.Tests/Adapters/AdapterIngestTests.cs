using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>Real device examples wrapped in TTS v3 and ChirpStack v4 envelopes, posted, and checked as stored entities.</summary>
[Collection(AdapterCollection.Name)]
public sealed class AdapterIngestTests(AdapterFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;
    private static readonly (double, double) Vienna = (48.2082, 16.3738);

    private async Task<JsonObject> EntityAsync(string id, string subject, string tenant = "city", bool keyValues = false) =>
        await _client.GetEntityAsync(id, keyValues ? "?options=keyValues" : "", link: fixture.ContextLink(subject), tenant: tenant);

    /// <summary>The stored entity, read back in keyValues with the SDM context, validates against the upstream schema.</summary>
    private async Task ShouldValidateUpstreamAsync(string id, string type, string subject, string tenant = "city")
    {
        var keyValues = await EntityAsync(id, subject, tenant, keyValues: true);
        var findings = await fixture.Upstream.ValidateAsync(type, keyValues);
        findings.Should().BeEmpty("{0} should validate against the upstream {1} schema: {2}", keyValues.ToJsonString(), type, string.Join("; ", findings));
    }

    [Fact]
    public async Task Tts_stormwater_uplink_becomes_FloodMonitoring_WaterObserved_and_Device()
    {
        // The composed TTS fixture exactly as shipped: device 70B3D57BA0000001, whose location and mounting height (2.5 m) are in the mapping.
        var envelope = JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!;
        var result = await (await _client.PostTts("ttn", envelope)).OkJson();
        result["status"]!.GetValue<string>().Should().Be("stored");
        result["entities"]!.AsArray().Select(e => e!.GetValue<string>()).Should().BeEquivalentTo(
            "urn:ngsi-ld:Device:70B3D57BA0000001", "urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001", "urn:ngsi-ld:WaterObserved:70B3D57BA0000001");

        var flood = await EntityAsync("urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001", "Environment");
        VendorPayloads.ShouldBeTheShippedStormwaterReading(flood);

        var water = await EntityAsync("urn:ngsi-ld:WaterObserved:70B3D57BA0000001", "Environment");
        water["waterLevel"]!["value"]!.GetValue<double>().Should().Be(1.266);
        water["dateObserved"]!["value"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");

        var device = await EntityAsync("urn:ngsi-ld:Device:70B3D57BA0000001", "Device");
        device["controlledProperty"]!["value"]!.AsArray().Select(v => v!.GetValue<string>()).Should().Equal("waterLevel");

        await ShouldValidateUpstreamAsync("urn:ngsi-ld:FloodMonitoring:70B3D57BA0000001", "FloodMonitoring", "Environment");
        await ShouldValidateUpstreamAsync("urn:ngsi-ld:WaterObserved:70B3D57BA0000001", "WaterObserved", "Environment");
        await ShouldValidateUpstreamAsync("urn:ngsi-ld:Device:70B3D57BA0000001", "Device", "Device");
    }

    [Fact]
    public async Task ChirpStack_event_of_the_same_reading_gives_the_same_values()
    {
        // The composed ChirpStack fixture: same DL-MBX reading (1234 mm); a device not in the mapping's device table, so the default 3.0 m applies.
        var envelope = JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "chirpstack-v4", "COMPOSED.up-event.decentlab-dl-mbx.json")))!.AsObject();
        var eui = VendorPayloads.NewEui();
        envelope["deviceInfo"]!["devEui"] = eui.ToLowerInvariant();
        envelope["deviceInfo"]!["tags"] = new JsonObject { ["latitude"] = "48.2", ["longitude"] = "16.37" };
        var result = await (await _client.PostChirpStack("cs", envelope)).OkJson();
        result["status"]!.GetValue<string>().Should().Be("stored");

        var flood = await EntityAsync($"urn:ngsi-ld:FloodMonitoring:{eui}", "Environment");
        flood["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);
        flood["referenceLevel"]!["value"]!.GetValue<double>().Should().Be(3.0);
        flood["currentLevel"]!["value"]!.GetValue<double>().Should().Be(1.766);
        flood["currentLevel"]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");
        flood["stationID"]!["value"]!.GetValue<string>().Should().Be("dl-mbx-stormwater-01");
        await ShouldValidateUpstreamAsync($"urn:ngsi-ld:FloodMonitoring:{eui}", "FloodMonitoring", "Environment");
        await ShouldValidateUpstreamAsync($"urn:ngsi-ld:WaterObserved:{eui}", "WaterObserved", "Environment");
    }

    public static TheoryData<string, string, string, string, string, string, double, string> CodecCases => new()
    {
        // codec file, TTS model, ChirpStack profile, type, subject, attribute, expected value, unitCode
        { "decentlab/dl-pm-codec.yaml", "decentlab/dl-pm", "Decentlab DL-PM", "AirQualityObserved", "Environment", "pm10", 3.9, "GQ" },
        { "decentlab/dl-atm41-codec.yaml", "decentlab/dl-atm41", "Decentlab DL-ATM41", "WeatherObserved", "Weather", "atmosphericPressure", 959.6, "A97" },
        { "milesight-iot/em310-udl-codec.yaml", "milesight-iot/em310-udl", "Milesight EM310-UDL", "WasteContainer", "WasteManagement", "fillingLevel", 0, "C62" },
        { "dragino/ldds75-114-codec.yaml", "dragino/ldds75", "Dragino LDDS75", "FloodMonitoring", "Environment", "measuredDistance", 2.799, "MTR" },
        { "decentlab/dl-mbx-codec.yaml", "decentlab/dl-mbx", "Decentlab DL-MBX", "WaterObserved", "Environment", "waterLevel", 1.766, "MTR" },
    };

    [Theory]
    [MemberData(nameof(CodecCases))]
    public async Task Codec_example_via_TTS_and_ChirpStack_validates_upstream(string codec, string model, string profile, string type,
        string subject, string attribute, double expected, string unitCode)
    {
        var (fPort, bytes, data) = VendorPayloads.CodecExample(codec);
        foreach (var viaTts in new[] { true, false })
        {
            var eui = VendorPayloads.NewEui();
            var response = viaTts
                ? await _client.PostTts("ttn", VendorPayloads.Tts(eui, model, 7, fPort, bytes, data, Vienna))
                : await _client.PostChirpStack("cs", VendorPayloads.ChirpStack(eui, profile, 7, fPort, bytes, data, Vienna));
            var result = await response.OkJson();
            result["status"]!.GetValue<string>().Should().Be("stored", result.ToJsonString());
            result.ContainsKey("warnings").Should().BeFalse("the shipped schemas accept the output: {0}", result.ToJsonString());

            var id = $"urn:ngsi-ld:{type}:{eui}";
            var entity = await EntityAsync(id, subject);
            entity[attribute]!["value"]!.GetValue<double>().Should().BeApproximately(expected, 1e-9);
            entity[attribute]!["unitCode"]!.GetValue<string>().Should().Be(unitCode);
            entity[attribute]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");
            entity["refDevice"].Should().NotBeNull();
            await ShouldValidateUpstreamAsync(id, type, subject);
            await ShouldValidateUpstreamAsync($"urn:ngsi-ld:Device:{eui}", "Device", "Device");
        }
    }

    [Fact]
    public async Task Plain_vendor_json_parking_sensor_becomes_ParkingSpot()
    {
        var device = "ps-" + Guid.NewGuid().ToString("N")[..8];
        var body = $$$"""{"deviceId": "{{{device}}}", "model": "generic/parking-occupancy", "frameCounter": 1, "receivedAt": "2025-06-01T10:00:00Z", "location": {"lat": 48.2, "lon": 16.37}, "data": {"occupied": true, "battery": 87}}""";
        (await (await _client.PostJson("vendor", body)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");
        var spot = await EntityAsync($"urn:ngsi-ld:ParkingSpot:{device}", "Parking");
        spot["status"]!["value"]!.GetValue<string>().Should().Be("occupied");
        spot["status"]!["observedAt"]!.GetValue<string>().Should().Be("2025-06-01T10:00:00.000Z");
        await ShouldValidateUpstreamAsync($"urn:ngsi-ld:ParkingSpot:{device}", "ParkingSpot", "Parking");
        var dev = await EntityAsync($"urn:ngsi-ld:Device:{device}", "Device");
        dev["batteryLevel"]!["value"]!.GetValue<double>().Should().Be(0.87);
    }

    [Fact]
    public async Task Bad_secret_is_401()
    {
        var (fPort, bytes, data) = VendorPayloads.CodecExample("decentlab/dl-mbx-codec.yaml");
        var envelope = VendorPayloads.Tts(VendorPayloads.NewEui(), "decentlab/dl-mbx", 1, fPort, bytes, data);
        (await _client.PostTts("ttn", envelope, "wrong")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await _client.PostTts("ttn", envelope, null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await _client.PostTts("nosuchsource", envelope)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await _client.PostChirpStack("ttn", envelope, AdapterFixture.TtsSecret)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a TTS source is not a ChirpStack source");
        (await _client.PostChirpStack("cs", envelope, "wrong", evt: "status")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Malformed_envelope_is_400()
    {
        await (await _client.PostTts("ttn", JsonValue.Create("not an object")!)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.PostTts("ttn", new JsonObject { ["end_device_ids"] = new JsonObject { ["device_id"] = "x" } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.PostChirpStack("cs", new JsonObject { ["deviceInfo"] = new JsonObject { ["devEui"] = "nothex" } })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.PostJson("vendor", "{ not json")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.PostJson("vendor", """{"deviceId": "x"}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Payload_size_and_rate_are_bounded()
    {
        var big = $$$"""{"deviceId": "x", "data": {"pad": "{{{new string('a', 300)}}}"}}""";
        (await _client.PostJson("tiny", big)).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
            statuses.Add((await _client.PostJson("slow", $$$"""{"deviceId": "rate-{{{i}}}", "model": "generic/parking-occupancy", "data": {"occupied": false}}""")).StatusCode);
        statuses.Should().Contain((HttpStatusCode)429);
    }

    [Fact]
    public async Task ChirpStack_non_uplink_events_are_acknowledged_and_ignored()
    {
        var status = JsonNode.Parse(File.ReadAllText(Path.Combine(VendorPayloads.Dir, "chirpstack-v4", "status-event.docs-example.json")))!;
        var result = await (await _client.PostChirpStack("cs", status, evt: "status")).OkJson();
        result["status"]!.GetValue<string>().Should().Be("ignored");
    }

    [Fact]
    public async Task Duplicate_uplink_is_recognised_and_not_stored_twice()
    {
        var (fPort, bytes, data) = VendorPayloads.CodecExample("decentlab/dl-mbx-codec.yaml");
        var eui = VendorPayloads.NewEui();
        var envelope = VendorPayloads.Tts(eui, "decentlab/dl-mbx", 100, fPort, bytes, data, Vienna);
        (await (await _client.PostTts("ttn", envelope)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");
        (await (await _client.PostTts("ttn", envelope)).OkJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        // The same frame arriving through ChirpStack (a second network server / roaming) is the same uplink too.
        var viaCs = VendorPayloads.ChirpStack(eui, "Decentlab DL-MBX", 100, fPort, bytes, data, Vienna);
        (await (await _client.PostChirpStack("cs", viaCs)).OkJson())["status"]!.GetValue<string>().Should().Be("duplicate");
        // The next frame is stored.
        envelope["uplink_message"]!["f_cnt"] = 101;
        (await (await _client.PostTts("ttn", envelope)).OkJson())["status"]!.GetValue<string>().Should().Be("stored");

        var history = await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/entities/urn:ngsi-ld:FloodMonitoring:{eui}", tenant: "city");
        history.StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
