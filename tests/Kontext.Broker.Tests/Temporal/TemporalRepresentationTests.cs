using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>
/// The Temporal Representation (clause 4.5.7), the Simplified Temporal Representation (4.5.9) and deletions in the
/// temporal evolution (NGSI-LD Null of clause 5.2.1) over HTTP.
/// </summary>
public sealed class TemporalRepresentationTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateAsync(JsonObject entity)
    {
        var response = await _client.CreateTemporalAsync(entity);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return entity["id"]!.GetValue<string>();
    }

    private static JsonArray Evolution(params JsonObject[] instances) => new(instances.Select(i => (JsonNode)i).ToArray());

    [Fact]
    public async Task An_attribute_with_one_instance_is_still_an_array_of_instances()
    {
        var id = await CreateAsync(Vehicle(Api.NewId("Vehicle"), ("speed", 120, T(3))));
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        body["speed"].Should().BeOfType<JsonArray>();
        body["speed"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task Simplified_pairs_carry_the_time_in_whole_seconds_when_it_has_no_fraction()
    {
        var id = Api.NewId("Vehicle");
        var entity = Vehicle(id, ("speed", 120, T(3)));
        entity["speed"]!.AsArray().Add(new JsonObject { ["type"] = "Property", ["value"] = 80, ["observedAt"] = "2020-08-01T12:05:00.250Z" });
        await CreateAsync(entity);
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?options=temporalValues");
        body["speed"]!["values"]!.ToJsonString().Should().Be("""[[120,"2020-08-01T12:03:00Z"],[80,"2020-08-01T12:05:00.250Z"]]""");
    }

    [Fact]
    public async Task Simplified_JsonProperty_VocabProperty_and_LanguageProperty_keep_their_payload_member()
    {
        var id = Api.NewId("Vehicle");
        await CreateAsync(new JsonObject
        {
            ["id"] = id, ["type"] = "Vehicle",
            ["settings"] = Evolution(new JsonObject { ["type"] = "JsonProperty", ["json"] = new JsonObject { ["value"] = 1 }, ["observedAt"] = T(0) }),
            ["category"] = Evolution(
                new JsonObject { ["type"] = "VocabProperty", ["vocab"] = "monument", ["observedAt"] = T(0) },
                new JsonObject { ["type"] = "VocabProperty", ["vocab"] = new JsonArray("monument", "park"), ["observedAt"] = T(1) }),
            ["street"] = Evolution(new JsonObject { ["type"] = "LanguageProperty", ["languageMap"] = new JsonObject { ["fr"] = "Grand Place" }, ["observedAt"] = T(0) }),
        });

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?options=temporalValues");

        body["settings"]!["jsons"]!.ToJsonString().Should().Be("""[[{"json":{"value":1}},"2020-08-01T12:00:00Z"]]""");
        body["category"]!["vocabs"]!.ToJsonString().Should().Be("""[[{"vocab":"monument"},"2020-08-01T12:00:00Z"],[{"vocab":["monument","park"]},"2020-08-01T12:01:00Z"]]""");
        body["street"]!["languageMaps"]!.ToJsonString().Should().Be("""[[{"languageMap":{"fr":"Grand Place"}},"2020-08-01T12:00:00Z"]]""");
    }

    [Fact]
    public async Task An_attribute_deleted_through_the_entity_API_shows_NGSI_LD_Null_in_the_form_of_its_type_with_deletedAt()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$"""
            {"id":"{{{id}}}","type":"Vehicle",
             "speed":{"type":"Property","value":1},
             "parkedIn":{"type":"Relationship","object":"urn:ngsi-ld:Parking:1"},
             "name":{"type":"LanguageProperty","languageMap":{"en":"car"} } }
            """);
        foreach (var attr in new[] { "speed", "parkedIn", "name" })
            (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/{attr}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?timeproperty=deletedAt");

        var speed = body["speed"]!.AsArray().Single()!.AsObject();
        speed["value"]!.GetValue<string>().Should().Be("urn:ngsi-ld:null");
        speed["deletedAt"].Should().NotBeNull("deletedAt is the time of a deletion instance, shown without sysAttrs");
        speed["instanceId"].Should().NotBeNull();
        var parkedIn = body["parkedIn"]!.AsArray().Single()!;
        parkedIn["type"]!.GetValue<string>().Should().Be("Relationship");
        parkedIn["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:null");
        var name = body["name"]!.AsArray().Single()!;
        name["type"]!.GetValue<string>().Should().Be("LanguageProperty");
        name["languageMap"]!.ToJsonString().Should().Be("""{"@none":"urn:ngsi-ld:null"}""");

        var (_, simplified) = await _client.GetTemporalAsync($"{Root}/{id}?timeproperty=deletedAt&options=temporalValues");
        simplified["parkedIn"]!["objects"]![0]![0]!.GetValue<string>().Should().Be("urn:ngsi-ld:null");
        simplified["name"]!["languageMaps"]![0]![0]!.ToJsonString().Should().Be("""{"languageMap":{"@none":"urn:ngsi-ld:null"}}""");
    }

    [Fact]
    public async Task A_temporal_instance_holding_NGSI_LD_Null_is_a_deletion_in_the_evolution()
    {
        var id = await CreateAsync(Vehicle(Api.NewId("Vehicle"), ("speed", 1, "2026-01-01T00:00:00Z")));
        var again = new JsonObject
        {
            ["id"] = id, ["type"] = new JsonArray("Vehicle", "Truck"),
            ["speed"] = Evolution(new JsonObject { ["type"] = "Property", ["value"] = "urn:ngsi-ld:null", ["observedAt"] = "2026-01-02T00:00:00Z" }),
        };
        (await _client.CreateTemporalAsync(again)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?timerel=before&timeAt=2030-01-01T00:00:00Z");

        body["type"]!.AsArray().Select(t => t!.GetValue<string>()).Should().BeEquivalentTo("Vehicle", "Truck");
        var speed = Instances(body, "speed");
        speed.Should().HaveCount(2);
        speed[1]["value"]!.GetValue<string>().Should().Be("urn:ngsi-ld:null");
        speed[1]["observedAt"]!.GetValue<string>().Should().Be("2026-01-02T00:00:00Z");
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.GetEntityAsync(id)).ContainsKey("speed").Should().BeFalse("the latest instance removed the attribute");
    }

    [Fact]
    public async Task Timerel_after_is_an_inclusive_bound_whatever_the_spelling_of_the_instant()
    {
        var id = await CreateAsync(Vehicle(Api.NewId("Vehicle"), ("speed", 1, T(3)), ("speed", 2, T(5)), ("speed", 3, T(7))));
        foreach (var at in new[] { "2020-08-01T12:05:00Z", "2020-08-01T12:05:00.000Z" })
        {
            var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?timerel=after&timeAt={at}");
            Instances(body, "speed").Select(i => i["value"]!.GetValue<int>()).Should().Equal(2, 3);
        }
        var (_, before) = await _client.GetTemporalAsync($"{Root}/{id}?timerel=before&timeAt=2020-08-01T12:05:00Z");
        Instances(before, "speed").Select(i => i["value"]!.GetValue<int>()).Should().Equal(1);
    }

    [Fact]
    public async Task The_format_parameter_takes_precedence_over_options()
    {
        var id = await CreateAsync(Vehicle(Api.NewId("Vehicle"), ("speed", 1, T(3))));
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?format=temporalValues&options=aggregatedValues&aggrMethods=sum");
        body["speed"]!["values"].Should().NotBeNull();
        body["speed"]!["sum"].Should().BeNull();
    }
}
