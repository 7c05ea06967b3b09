using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>Temporal create/append/retrieve/delete (clauses 5.6.11–5.6.16, 5.7.3, 6.18–6.22) and history of ordinary writes.</summary>
public sealed class TemporalEntityTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateVehicleAsync()
    {
        var id = Api.NewId("Vehicle");
        var response = await _client.CreateTemporalAsync(Vehicle(id,
            ("speed", 120, T(3)), ("speed", 80, T(5)), ("speed", 100, T(7)),
            ("fuelLevel", 67, T(3)), ("fuelLevel", 53, T(65)), ("fuelLevel", 40, T(127))));
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        response.Headers.Location!.ToString().Should().Be($"{Root}/{id}");
        return id;
    }

    [Fact]
    public async Task Create_then_retrieve_gives_every_instance_in_time_order_and_the_current_state_is_the_latest()
    {
        var id = await CreateVehicleAsync();
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        body["id"]!.GetValue<string>().Should().Be(id);
        body["type"]!.GetValue<string>().Should().Be("Vehicle");
        Instances(body, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(120, 80, 100);
        Instances(body, "speed").Should().OnlyContain(i => i["instanceId"] != null && i["observedAt"] != null);
        Instances(body, "fuelLevel").Select(i => i["observedAt"]!.GetValue<string>()).Should().Equal("2020-08-01T12:03:00Z", "2020-08-01T13:05:00Z", "2020-08-01T14:07:00Z");

        var current = await _client.GetEntityAsync(id);
        current["speed"]!["value"]!.GetValue<double>().Should().Be(100);
        current["fuelLevel"]!["value"]!.GetValue<double>().Should().Be(40);
    }

    [Fact]
    public async Task Posting_again_appends_and_answers_204_and_an_older_instance_does_not_change_the_current_state()
    {
        var id = await CreateVehicleAsync();
        var again = await _client.CreateTemporalAsync(Vehicle(id, ("speed", 1, T(1))));
        again.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        Instances(body, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(1, 120, 80, 100);
        (await _client.GetEntityAsync(id))["speed"]!["value"]!.GetValue<double>().Should().Be(100);
    }

    [Fact]
    public async Task Append_attributes_adds_instances()
    {
        var id = await CreateVehicleAsync();
        var fragment = new JsonObject { ["speed"] = new JsonObject { ["type"] = "Property", ["value"] = 42, ["observedAt"] = T(9) } };
        var response = await _client.Send(HttpMethod.Post, $"{Root}/{id}/attrs", fragment.ToJsonString());
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed");
        Instances(body, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(120, 80, 100, 42);
        body["fuelLevel"].Should().BeNull();

        var missing = await _client.Send(HttpMethod.Post, $"{Root}/{Api.NewId()}/attrs", fragment.ToJsonString());
        await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Writes_through_the_entity_and_batch_api_appear_in_the_history()
    {
        var id = Api.NewId("Sensor");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Sensor","temperature":{"type":"Property","value":20,"observedAt":"{{{T(0)}}}"}}""");
        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", $$$"""{"temperature":{"type":"Property","value":21,"observedAt":"{{{T(1)}}}"}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert?options=update",
            $$$"""[{"id":"{{{id}}}","type":"Sensor","temperature":{"type":"Property","value":22,"observedAt":"{{{T(2)}}}"}}]""")).IsSuccessStatusCode.Should().BeTrue();
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        Instances(body, "temperature").Select(i => i["value"]!.GetValue<double>()).Should().Equal(20, 21, 22);
    }

    [Fact]
    public async Task Deleting_the_entity_keeps_its_history_with_deletedAt_and_temporal_delete_removes_everything()
    {
        var id = await CreateVehicleAsync();
        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        body["deletedAt"].Should().NotBeNull();
        Instances(body, "speed").Should().HaveCount(3);
        var (_, deletions) = await _client.GetTemporalAsync($"{Root}/{id}?timeproperty=deletedAt&options=sysAttrs");
        Instances(deletions, "speed").Should().ContainSingle().Which["value"]!.GetValue<string>().Should().Be("urn:ngsi-ld:null");
        Instances(deletions, "speed")[0]["deletedAt"].Should().NotBeNull();

        (await _client.Send(HttpMethod.Delete, $"{Root}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await _client.Send(HttpMethod.Get, $"{Root}/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Temporal_delete_of_a_live_entity_removes_the_entity_too()
    {
        var id = await CreateVehicleAsync();
        (await _client.Send(HttpMethod.Delete, $"{Root}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.Send(HttpMethod.Get, $"{Root}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_attribute_removes_its_history_by_datasetId_or_all()
    {
        var id = Api.NewId("Vehicle");
        var entity = new JsonObject
        {
            ["id"] = id, ["type"] = "Vehicle",
            ["speed"] = new JsonArray(
                new JsonObject { ["type"] = "Property", ["value"] = 1, ["observedAt"] = T(1) },
                new JsonObject { ["type"] = "Property", ["value"] = 2, ["observedAt"] = T(2), ["datasetId"] = "urn:ngsi-ld:Dataset:gps" },
                new JsonObject { ["type"] = "Property", ["value"] = 3, ["observedAt"] = T(3), ["datasetId"] = "urn:ngsi-ld:Dataset:gps" }),
            ["fuelLevel"] = new JsonObject { ["type"] = "Property", ["value"] = 9, ["observedAt"] = T(1) },
        };
        (await _client.CreateTemporalAsync(entity)).StatusCode.Should().Be(HttpStatusCode.Created);

        (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/speed?datasetId=urn:ngsi-ld:Dataset:gps")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        Instances(body, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(1);
        (await _client.GetEntityAsync(id))["speed"]!["value"]!.GetValue<double>().Should().Be(1);

        (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/fuelLevel?deleteAll=true")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetTemporalAsync($"{Root}/{id}")).Body["fuelLevel"].Should().BeNull();
        (await _client.GetEntityAsync(id))["fuelLevel"].Should().BeNull();
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/fuelLevel")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Modify_and_delete_one_instance_by_instanceId()
    {
        var id = await CreateVehicleAsync();
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed");
        var second = Instances(body, "speed")[1]["instanceId"]!.GetValue<string>();
        var patch = new JsonObject { ["speed"] = new JsonObject { ["type"] = "Property", ["value"] = 81, ["observedAt"] = T(5) } };
        (await _client.Send(HttpMethod.Patch, $"{Root}/{id}/attrs/speed/{second}", patch.ToJsonString())).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var after = Instances((await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed")).Body, "speed");
        after.Select(i => i["value"]!.GetValue<double>()).Should().Equal(120, 81, 100);
        after[1]["instanceId"]!.GetValue<string>().Should().Be(second);

        (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/speed/{second}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        Instances((await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed")).Body, "speed").Select(i => i["value"]!.GetValue<double>()).Should().Equal(120, 100);
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/speed/{second}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Patch, $"{Root}/{id}/attrs/speed/urn:ngsi-ld:attribute:instance:none", patch.ToJsonString())).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    /// <summary>Session 15: a JSON-LD body's @context is the request's context, not a member of the instance, wrapped or bare.</summary>
    [Theory]
    [InlineData("""{"@context":"CTX","speed":{"type":"Property","value":81,"observedAt":"T5"}}""")]
    [InlineData("""{"type":"Property","value":81,"@context":"CTX","observedAt":"T5"}""")]
    public async Task Modify_one_instance_in_json_ld_reads_the_body_without_its_context(string body)
    {
        var id = await CreateVehicleAsync();
        var (_, before) = await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed");
        var second = Instances(before, "speed")[1]["instanceId"]!.GetValue<string>();
        body = body.Replace("CTX", "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld").Replace("T5", T(5));

        var response = await _client.Send(HttpMethod.Patch, $"{Root}/{id}/attrs/speed/{second}", body, "application/ld+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var after = Instances((await _client.GetTemporalAsync($"{Root}/{id}?attrs=speed")).Body, "speed");
        after.Select(i => i["value"]!.GetValue<double>()).Should().Equal(120, 81, 100);
        after[1].AsObject().ContainsKey("@context").Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"type":"Vehicle","speed":{"type":"Property","value":1}}""")]
    [InlineData("""{"id":"not a uri","type":"Vehicle"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:Vehicle:x","type":"Vehicle","speed":[1,2]}""")]
    [InlineData("""{"id":"urn:ngsi-ld:Vehicle:x","type":"Vehicle","speed":{"type":"Property","value":1,"observedAt":"yesterday"}}""")]
    public async Task Invalid_temporal_entities_are_rejected(string json)
    {
        await (await _client.Send(HttpMethod.Post, Root, json)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task NGSI_LD_Null_as_a_first_level_member_of_a_temporal_entity_is_400_and_nothing_is_created()
    {
        var id = Api.NewId("Vehicle");
        var body = JsonNode.Parse($$"""
            {"id":"{{id}}","type":"Vehicle","expiresAt":"urn:ngsi-ld:null","speed":[{"type":"Property","value":1,"observedAt":"2026-01-01T00:00:00Z"}]}
            """)!.AsObject();
        await (await _client.CreateTemporalAsync(body)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, $"{Root}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Simplified_pairs_of_a_ListRelationship_hold_the_objects_alone()
    {
        var id = Api.NewId("Vehicle");
        var body = JsonNode.Parse($$"""
            {"id":"{{id}}","type":"Vehicle","roads":[{"type":"ListRelationship","objectList":[{"object":"urn:ngsi-ld:Road:1"},{"object":"urn:ngsi-ld:Road:2"}],"observedAt":"2026-01-01T00:00:00Z"}]}
            """)!.AsObject();
        (await _client.CreateTemporalAsync(body)).StatusCode.Should().Be(HttpStatusCode.Created);

        var temporal = await (await _client.Send(HttpMethod.Get, $"{Root}/{id}?options=temporalValues")).JsonAsync();

        temporal["roads"]!["objectLists"]![0]![0]!.AsArray().Select(o => o!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2");
    }
}
