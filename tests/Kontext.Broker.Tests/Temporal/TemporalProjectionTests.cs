using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>Temporal queries with geoQ (judged on the window's locations), pick/omit and lang.</summary>
public sealed class TemporalProjectionTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private readonly HttpClient _client;
    private readonly string _tenant = "temporal-proj-" + Guid.NewGuid().ToString("N")[..8];

    public TemporalProjectionTests(BrokerFixture fixture) => _client = fixture.Client;

    public async Task InitializeAsync()
    {
        var madrid = Vehicle("urn:ngsi-ld:Vehicle:madrid", ("speed", 10, T(0)), ("speed", 20, T(1)));
        madrid["location"] = new JsonObject { ["type"] = "GeoProperty", ["value"] = JsonNode.Parse("""{"type":"Point","coordinates":[-3.70,40.41]}"""), ["observedAt"] = T(0) };
        // Instances without observedAt fall outside the default timeproperty (observedAt), so this one carries it.
        madrid["name"] = new JsonObject { ["type"] = "LanguageProperty", ["languageMap"] = new JsonObject { ["es"] = "Coche", ["en"] = "Car" }, ["observedAt"] = T(0) };
        var bilbao = Vehicle("urn:ngsi-ld:Vehicle:bilbao", ("speed", 30, T(0)));
        bilbao["location"] = new JsonObject { ["type"] = "GeoProperty", ["value"] = JsonNode.Parse("""{"type":"Point","coordinates":[-2.93,43.26]}"""), ["observedAt"] = T(0) };
        (await _client.CreateTemporalAsync(madrid, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.CreateTemporalAsync(bilbao, _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task GeoQ_selects_entities_by_their_location_in_the_window()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}?type=Vehicle&georel=near;maxDistance==5000&geometry=Point&coordinates=[-3.70,40.41]&timerel=after&timeAt=2020-01-01T00:00:00Z", _tenant);

        var list = body.AsArray();
        list.Select(e => e!["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Vehicle:madrid");
        Instances(list[0]!, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(10, 20);
    }

    [Fact]
    public async Task Pick_and_omit_project_the_temporal_entity()
    {
        var (_, picked) = await _client.GetTemporalAsync($"{Root}/urn:ngsi-ld:Vehicle:madrid?pick=id,speed", _tenant);
        var (_, omitted) = await _client.GetTemporalAsync($"{Root}/urn:ngsi-ld:Vehicle:madrid?omit=speed,location", _tenant);

        picked.AsObject().Select(p => p.Key).Should().BeEquivalentTo("id", "speed");
        omitted.AsObject().ContainsKey("speed").Should().BeFalse();
        omitted.AsObject().ContainsKey("location").Should().BeFalse();
        omitted.AsObject().ContainsKey("name").Should().BeTrue();
    }

    [Fact]
    public async Task Lang_picks_one_language_of_each_LanguageProperty_instance()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}/urn:ngsi-ld:Vehicle:madrid?attrs=name&lang=en", _tenant);

        var name = Instances(body, "name").Single();
        name["value"]!.GetValue<string>().Should().Be("Car");
        name["lang"]!.GetValue<string>().Should().Be("en");
    }
}
