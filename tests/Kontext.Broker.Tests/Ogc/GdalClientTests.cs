using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Adapters;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>
/// The broker as a separate process on 127.0.0.1, its data written by the TTS adapter from Dragino LDDS75 ultrasonic
/// uplinks (the stormwater pilot), behind API keys and in a tenant; GDAL's OAPIF driver (ogrinfo, ogr2ogr) reads it
/// with the tenant and key in GDAL_HTTP_HEADERS. What GDAL gets must be what the NGSI-LD query of the same data gives.
/// </summary>
public sealed class GdalClientFixture : IAsyncLifetime
{
    public const string Tenant = "stormwater";
    public const string ReaderKey = "gis-reader-key-0123456789";
    private const string TtsSecret = "pilot-webhook-secret";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "kontext-tests", "gdal-" + Guid.NewGuid().ToString("N"));

    private BrokerProcess _broker = null!;

    public string BrokerLog => _broker.RecentLog;
    public HttpClient Client { get; private set; } = null!;
    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "kontext-tests", "gdal-out-" + Guid.NewGuid().ToString("N"));
    public string OgcUrl => _broker.Url + "/ogc";
    public IReadOnlyList<string> Headers => [$"NGSILD-Tenant: {Tenant}", $"X-Api-Key: {ReaderKey}"];

    /// <summary>Seven gauges along the Danube canal: (device EUI, longitude, latitude, distance in mm).</summary>
    public static readonly (string Eui, double Lon, double Lat, int DistanceMm)[] Gauges =
    [
        ("A84041000181A001", 16.3600, 48.2200, 3650),
        ("A84041000181A002", 16.3700, 48.2150, 3100),
        ("A84041000181A003", 16.3800, 48.2100, 2799),
        ("A84041000181A004", 16.3900, 48.2050, 1900),
        ("A84041000181A005", 16.4000, 48.2000, 1250),
        ("A84041000181A006", 16.4100, 48.1950, 800),
        ("A84041000181A007", 16.4200, 48.1900, 3990),
    ];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(WorkDirectory);
        _broker = await BrokerProcess.StartAsync(_data, new Dictionary<string, string>
        {
            ["Kontext__Adapters__SchemaDirectory"] = Path.Combine(RepoPaths.Root, "schemas"),
            ["Kontext__Adapters__MappingDirectory"] = Path.Combine(RepoPaths.Root, "mappings"),
            ["Kontext__Adapters__Sources__pilot__Kind"] = "tts",
            ["Kontext__Adapters__Sources__pilot__Header"] = "Authorization",
            ["Kontext__Adapters__Sources__pilot__Secret"] = TtsSecret,
            ["Kontext__Adapters__Sources__pilot__Tenant"] = Tenant,
            ["Kontext__Auth__Mode"] = "apikey",
            ["Kontext__Auth__ApiKeys__gis__Key"] = ReaderKey,
            ["Kontext__Auth__ApiKeys__gis__Tenants__0"] = Tenant,
            ["Kontext__Auth__ApiKeys__gis__Roles__0"] = "read",
        });
        Client = new HttpClient { BaseAddress = new Uri(_broker.Url) };
        var (fPort, bytes, data) = VendorPayloads.CodecExample("dragino/ldds75-114-codec.yaml");
        foreach (var (gauge, i) in Gauges.Select((g, i) => (g, i)))
        {
            var decoded = (JsonObject)data.DeepClone();
            decoded["Distance"] = $"{gauge.DistanceMm} mm";
            var uplink = VendorPayloads.Tts(gauge.Eui, "dragino/ldds75", 10 + i, fPort, bytes, decoded, (gauge.Lat, gauge.Lon),
                receivedAt: $"2025-05-20T08:{15 + i:D2}:00.000Z");
            var request = new HttpRequestMessage(HttpMethod.Post, "/adapters/tts/pilot") { Content = new StringContent(uplink.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TtsSecret);
            var response = await Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode || !body.Contains("\"stored\"")) throw new InvalidOperationException($"uplink not stored: {body}\n{_broker.RecentLog}");
        }
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        _broker.Dispose();
        try { Directory.Delete(_data, true); } catch (IOException) { }
        try { Directory.Delete(WorkDirectory, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    /// <summary>The NGSI-LD query of the same data: keyValues with the smart-data-models context inline, as the reader key.</summary>
    public async Task<List<JsonObject>> NgsiQueryAsync(string type, string? geoQ = null)
    {
        var body = $$"""{"type": "Query", "entities": [{"type": "{{type}}"}]{{(geoQ is null ? "" : ", \"geoQ\": " + geoQ)}}, "@context": {{Ogc.EnvironmentContext.ToJsonString()}}}""";
        var request = Api.Request(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?options=keyValues&limit=1000", body, "application/ld+json", tenant: Tenant);
        request.Headers.Add("X-Api-Key", ReaderKey);
        var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"NGSI-LD query failed: {text}");
        return JsonNode.Parse(text)!.AsArray().Select(e => e!.AsObject()).ToList();
    }
}

public sealed class GdalClientTests(GdalClientFixture fx) : IClassFixture<GdalClientFixture>
{
    private async Task<Gdal.Result> RunAsync(string tool, params string[] arguments)
    {
        var result = await Gdal.RunAsync(tool, arguments, fx.Headers);
        result.ExitCode.Should().Be(0, "{0} {1} failed: {2}\nbroker log: {3}", tool, string.Join(' ', arguments), result.Errors, fx.BrokerLog);
        return result;
    }

    /// <summary>ogr2ogr's GeoJSON of a layer (features sorted by id), read through the OGC API.</summary>
    private async Task<List<JsonObject>> ReadLayerAsync(string layer, params string[] options)
    {
        var file = Path.Combine(fx.WorkDirectory, Guid.NewGuid().ToString("N") + ".geojson");
        await RunAsync("ogr2ogr", [.. options, "-f", "GeoJSON", file, "OAPIF:" + fx.OgcUrl, layer]);
        return JsonNode.Parse(await File.ReadAllTextAsync(file))!["features"]!.AsArray().Select(f => f!.AsObject())
            .OrderBy(f => f["properties"]!["id"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Ogrinfo_lists_the_collections_of_the_tenant_as_point_layers()
    {
        // The adapters locate the Device entity too (from the uplink's location).
        var result = await RunAsync("ogrinfo", "-ro", "-q", "OAPIF:" + fx.OgcUrl);
        result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Should().Equal(
            "1: Device (title: Device) (Point)", "2: FloodMonitoring (title: FloodMonitoring) (Point)", "3: WaterObserved (title: WaterObserved) (Point)");
    }

    [Fact]
    public async Task Ogrinfo_summary_has_the_feature_count_and_the_extent_of_the_collection()
    {
        var result = await RunAsync("ogrinfo", "-ro", "-so", "OAPIF:" + fx.OgcUrl, "FloodMonitoring");
        result.Output.Should().Contain($"Feature Count: {GdalClientFixture.Gauges.Length}");
        result.Output.Should().Contain("Extent: (16.360000, 48.190000) - (16.420000, 48.220000)");
        result.Output.Should().Contain("currentLevel: Real");
    }

    [Fact]
    public async Task Ogr2ogr_reads_every_feature_with_the_attribute_values_of_the_ngsi_ld_query()
    {
        // Two features a page: GDAL walks the next links.
        var features = await ReadLayerAsync("FloodMonitoring", "-oo", "PAGE_SIZE=2");
        var entities = (await fx.NgsiQueryAsync("FloodMonitoring")).OrderBy(e => e["id"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
        entities.Should().HaveCount(GdalClientFixture.Gauges.Length);
        features.Should().HaveCount(entities.Count);
        foreach (var (feature, entity) in features.Zip(entities))
        {
            var properties = feature["properties"]!.AsObject();
            properties["id"]!.GetValue<string>().Should().Be(entity["id"]!.GetValue<string>());
            foreach (var name in new[] { "measuredDistance", "referenceLevel", "currentLevel" })
                properties[name]!.GetValue<double>().Should().Be(entity[name]!.GetValue<double>(), "{0} of {1}", name, entity["id"]);
            properties["refDevice"]!.GetValue<string>().Should().Be(entity["refDevice"]!.GetValue<string>());
            DateTimeOffset.Parse(properties["observationDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture)
                .Should().Be(DateTimeOffset.Parse(entity["observationDateTime"]!.GetValue<string>(), CultureInfo.InvariantCulture));
            var position = feature["geometry"]!["coordinates"]!.AsArray().Select(c => c!.GetValue<double>());
            position.Should().Equal(entity["location"]!["coordinates"]!.AsArray().Select(c => c!.GetValue<double>()));
        }
    }

    [Fact]
    public async Task Ogr2ogr_spatial_filter_is_sent_as_bbox_and_matches_the_ngsi_ld_geo_query()
    {
        var features = await ReadLayerAsync("FloodMonitoring", "-spat", "16.365", "48.19", "16.405", "48.23");
        var entities = await fx.NgsiQueryAsync("FloodMonitoring",
            """{"georel": "intersects", "geometry": "Polygon", "coordinates": [[[16.365,48.19],[16.405,48.19],[16.405,48.23],[16.365,48.23],[16.365,48.19]]]}""");
        entities.Should().HaveCount(4);
        features.Select(f => f["properties"]!["id"]!.GetValue<string>()).Should().BeEquivalentTo(entities.Select(e => e["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Ogr2ogr_attribute_filter_on_a_declared_property_is_evaluated_by_the_broker()
    {
        var device = $"urn:ngsi-ld:Device:{GdalClientFixture.Gauges[2].Eui}";
        var result = await Gdal.RunAsync("ogr2ogr", ["-where", $"refDevice = '{device}'", "-f", "GeoJSON", "/vsistdout/", "OAPIF:" + fx.OgcUrl, "FloodMonitoring"],
            fx.Headers, debug: true);
        result.ExitCode.Should().Be(0, result.Errors);
        result.Errors.Should().Contain("refDevice=" + Uri.EscapeDataString(device), "GDAL finds refDevice among the parameters the API definition declares");
        var features = JsonNode.Parse(result.Output)!["features"]!.AsArray();
        features.Should().ContainSingle().Which!["properties"]!["currentLevel"]!.GetValue<double>().Should().Be(1.201);
    }

    [Fact]
    public async Task Ogr2ogr_copies_a_collection_into_a_geopackage_with_every_feature()
    {
        var geopackage = Path.Combine(fx.WorkDirectory, "stormwater.gpkg");
        await RunAsync("ogr2ogr", "-f", "GPKG", geopackage, "OAPIF:" + fx.OgcUrl, "WaterObserved");
        var summary = await Gdal.RunAsync("ogrinfo", ["-ro", "-so", geopackage, "WaterObserved"], []);
        summary.ExitCode.Should().Be(0, summary.Errors);
        summary.Output.Should().Contain($"Feature Count: {GdalClientFixture.Gauges.Length}").And.Contain("waterLevel: Real");
    }

    [Fact]
    public async Task Gdal_without_the_reader_key_is_refused()
    {
        var result = await Gdal.RunAsync("ogrinfo", ["-ro", "-q", "OAPIF:" + fx.OgcUrl], [$"NGSILD-Tenant: {GdalClientFixture.Tenant}"]);
        result.ExitCode.Should().NotBe(0);
        result.Errors.Should().Contain("401");
    }
}
