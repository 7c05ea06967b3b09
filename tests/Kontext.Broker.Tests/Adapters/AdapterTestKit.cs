using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Adapters;
using Kontext.Broker.Adapters;
using Kontext.Broker.Tests.Infrastructure;
using YamlDotNet.Serialization;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>
/// A broker with adapter sources configured (secrets, tenants, limits), its own copy of the repository's mappings/
/// (so a test can add a mapping and reload), and a context server serving the SDM subject contexts from tests/fixtures.
/// </summary>
public sealed class AdapterFixture : IAsyncLifetime
{
    public const string TtsSecret = "tts-secret-1";
    public const string CsSecret = "cs-secret-1";
    public const string JsonSecret = "json-secret-1";
    public const string AdminKey = "adapter-admin-key-1";

    public string MappingDirectory { get; } = Path.Combine(Path.GetTempPath(), "kontext-tests", "mappings-" + Guid.NewGuid().ToString("N"));
    public BrokerFactory Factory { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public ContextServer Contexts { get; private set; } = null!;
    public SchemaRegistry Upstream { get; } = new(Path.Combine(RepoPaths.Fixtures, "smart-data-models"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(MappingDirectory);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "mappings")))
            File.Copy(file, Path.Combine(MappingDirectory, Path.GetFileName(file)));
        var settings = new Dictionary<string, string?>
        {
            ["Kontext:Adapters:MappingDirectory"] = MappingDirectory,
            ["Kontext:Adapters:SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext:Adapters:DefaultValidation"] = "warn",
            ["Kontext:Adapters:AdminApiKey"] = AdminKey, // the admin endpoints are closed without it
        };
        void Source(string name, string kind, string secret, string tenant, string? header = null, int? rate = null, long? max = null)
        {
            settings[$"Kontext:Adapters:Sources:{name}:Kind"] = kind;
            settings[$"Kontext:Adapters:Sources:{name}:Secret"] = secret;
            settings[$"Kontext:Adapters:Sources:{name}:Tenant"] = tenant;
            if (header is not null) settings[$"Kontext:Adapters:Sources:{name}:Header"] = header;
            if (rate is not null) settings[$"Kontext:Adapters:Sources:{name}:RequestsPerMinute"] = rate.Value.ToString(CultureInfo.InvariantCulture);
            if (max is not null) settings[$"Kontext:Adapters:Sources:{name}:MaxPayloadBytes"] = max.Value.ToString(CultureInfo.InvariantCulture);
        }
        Source("ttn", "tts", TtsSecret, "city", header: "Authorization");
        Source("cs", "chirpstack", CsSecret, "city");
        Source("vendor", "json", JsonSecret, "city");
        Source("strict", "tts", TtsSecret, "strict", header: "Authorization");
        Source("lenient", "tts", TtsSecret, "lenient", header: "Authorization");
        Source("replay", "tts", TtsSecret, "replay", header: "Authorization");
        Source("tiny", "json", JsonSecret, "city", max: 200);
        Source("slow", "json", JsonSecret, "city", rate: 2);
        Factory = new BrokerFactory(settings: settings);
        Client = Factory.CreateClient();
        Client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        Contexts = await ContextServer.StartAsync();
        foreach (var subject in new[] { "Environment", "Device", "Weather", "Parking", "WasteManagement" })
            Contexts.Serve($"/{subject}.jsonld", File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "contexts", "smart-data-models", $"dataModel.{subject}", "context.jsonld")));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Contexts.DisposeAsync();
        Factory.DeleteData();
        try { Directory.Delete(MappingDirectory, true); } catch (IOException) { }
    }

    public string ContextLink(string subject) => Api.Link(Contexts.BaseUrl + $"/{subject}.jsonld");
}

[CollectionDefinition(Name)]
public sealed class AdapterCollection : ICollectionFixture<AdapterFixture>
{
    public const string Name = "adapters";
}

/// <summary>Real device examples from tests/fixtures/vendor-payloads, and network-server envelopes around them.</summary>
public static class VendorPayloads
{
    /// <summary>The FloodMonitoring entity the shipped TTS DL-MBX uplink (distance 1234 mm) must produce, whatever the transport.</summary>
    public static void ShouldBeTheShippedStormwaterReading(System.Text.Json.Nodes.JsonObject flood)
    {
        flood["type"]!.GetValue<string>().Should().Be("FloodMonitoring");
        flood["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);
        flood["measuredDistance"]!["unitCode"]!.GetValue<string>().Should().Be("MTR");
        flood["measuredDistance"]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");
        flood["referenceLevel"]!["value"]!.GetValue<double>().Should().Be(2.5);
        flood["currentLevel"]!["value"]!.GetValue<double>().Should().Be(1.266);
        flood["refDevice"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Device:70B3D57BA0000001");
        flood["location"]!["value"]!["coordinates"]!.AsArray().Select(c => c!.GetValue<double>()).Should().Equal(16.37208, 48.20849);
    }

    public static string Dir => Path.Combine(RepoPaths.Fixtures, "vendor-payloads");

    public static string NewEui() => Convert.ToHexString(Guid.NewGuid().ToByteArray()[..8]);

    /// <summary>The n-th uplink example of a TTN device-repository codec YAML: (fPort, bytes, output.data).</summary>
    public static (int FPort, byte[] Bytes, JsonObject Data) CodecExample(string codec, int index = 0)
    {
        var yaml = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build()
            .Deserialize<Dictionary<object, object>>(File.ReadAllText(Path.Combine(Dir, "ttn-device-repository", codec)));
        var examples = (List<object>)((Dictionary<object, object>)yaml["uplinkDecoder"])["examples"];
        var example = (Dictionary<object, object>)examples[index];
        var input = (Dictionary<object, object>)example["input"];
        var bytes = ((List<object>)input["bytes"]).Select(b => b switch
        {
            string s when s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) => byte.Parse(s[2..], NumberStyles.HexNumber),
            _ => Convert.ToByte(b, CultureInfo.InvariantCulture),
        }).ToArray();
        var data = ToJson(((Dictionary<object, object>)example["output"])["data"])!.AsObject();
        return (Convert.ToInt32(input["fPort"], CultureInfo.InvariantCulture), bytes, data);
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        Dictionary<object, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key.ToString()!, ToJson(p.Value)))),
        List<object> list => new JsonArray(list.Select(ToJson).ToArray()),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create(double.Parse(f.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>The composed TTS fixture as template, with this device, model, frame, location and decoded payload.</summary>
    public static JsonObject Tts(string eui, string model, int fCnt, int fPort, byte[] bytes, JsonObject decoded,
        (double Lat, double Lon)? location = null, string receivedAt = "2025-05-20T08:15:02.010Z")
    {
        var envelope = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!.AsObject();
        envelope["end_device_ids"]!["dev_eui"] = eui;
        envelope["end_device_ids"]!["device_id"] = "dev-" + eui.ToLowerInvariant();
        var message = envelope["uplink_message"]!.AsObject();
        message["f_cnt"] = fCnt;
        message["f_port"] = fPort;
        message["frm_payload"] = Convert.ToBase64String(bytes);
        message["decoded_payload"] = decoded.DeepClone();
        message["received_at"] = receivedAt;
        var parts = model.Split('/');
        message["version_ids"]!["brand_id"] = parts[0];
        message["version_ids"]!["model_id"] = parts[1];
        if (location is { } l)
            message["locations"] = new JsonObject { ["user"] = new JsonObject { ["latitude"] = l.Lat, ["longitude"] = l.Lon, ["source"] = "SOURCE_REGISTRY" } };
        return envelope;
    }

    /// <summary>The composed ChirpStack v4 up event as template (device profile name selects the mapping).</summary>
    public static JsonObject ChirpStack(string eui, string profile, int fCnt, int fPort, byte[] bytes, JsonObject decoded,
        (double Lat, double Lon)? location = null, string time = "2025-05-20T08:15:02.010123456+00:00")
    {
        var envelope = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "chirpstack-v4", "COMPOSED.up-event.decentlab-dl-mbx.json")))!.AsObject();
        var info = envelope["deviceInfo"]!.AsObject();
        info["devEui"] = eui.ToLowerInvariant();
        info["deviceName"] = "dev-" + eui.ToLowerInvariant();
        info["deviceProfileName"] = profile;
        if (location is { } l)
            info["tags"] = new JsonObject { ["latitude"] = l.Lat.ToString(CultureInfo.InvariantCulture), ["longitude"] = l.Lon.ToString(CultureInfo.InvariantCulture) };
        envelope["fCnt"] = fCnt;
        envelope["fPort"] = fPort;
        envelope["data"] = Convert.ToBase64String(bytes);
        envelope["object"] = decoded.DeepClone();
        envelope["time"] = time;
        return envelope;
    }

    public static Task<HttpResponseMessage> PostTts(this HttpClient client, string source, JsonNode envelope, string? secret = AdapterFixture.TtsSecret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/adapters/tts/{source}") { Content = new StringContent(envelope.ToJsonString(), Encoding.UTF8, "application/json") };
        if (secret is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + secret);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostChirpStack(this HttpClient client, string source, JsonNode envelope, string? secret = AdapterFixture.CsSecret, string evt = "up")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/adapters/chirpstack/{source}?event={evt}") { Content = new StringContent(envelope.ToJsonString(), Encoding.UTF8, "application/json") };
        if (secret is not null) request.Headers.TryAddWithoutValidation("X-Api-Key", secret);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string source, string body, string? secret = AdapterFixture.JsonSecret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/adapters/json/{source}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (secret is not null) request.Headers.TryAddWithoutValidation("X-Api-Key", secret);
        return client.SendAsync(request);
    }

    public static async Task<JsonObject> OkJson(this HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).Should().Be((int)expected, "the body was {0}", text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
