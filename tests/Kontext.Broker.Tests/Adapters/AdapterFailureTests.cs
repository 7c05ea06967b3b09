using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Adapters;

/// <summary>Nothing lost: dead letters and replay, schema enforcement and warnings.</summary>
[Collection(AdapterCollection.Name)]
public sealed class AdapterFailureTests(AdapterFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task SetModeAsync(string tenant, string type, string mode)
    {
        var request = Api.Request(HttpMethod.Put, $"/adapters/validation/{type}", $$"""{"mode": "{{mode}}"}""", tenant: tenant);
        (await _client.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Dead_letters_live_in_the_tenants_own_store_not_in_an_adapters_db()
    {
        var (fPort, bytes, data) = VendorPayloads.CodecExample("elsys/ers-co2-codec.yaml");
        var envelope = VendorPayloads.Tts(VendorPayloads.NewEui(), "nobody/unmapped-model", 3, fPort, bytes, data);
        var id = (await (await _client.PostTts("replay", envelope)).OkJson(HttpStatusCode.Accepted))["deadLetter"]!.GetValue<string>();

        var storage = fixture.Factory.Services.GetRequiredService<IEntityStorage>();
        var own = (await storage.GetTenantAsync("replay", false, default))!.Adapters!;
        (await own.GetDeadLetterAsync(id, default))!.Tenant.Should().Be("replay");
        var fallback = (await storage.GetTenantAsync(null, true, default))!.Adapters!;
        (await fallback.GetDeadLetterAsync(id, default)).Should().BeNull();
        File.Exists(Path.Combine(fixture.Factory.DataDirectory, "adapters.db")).Should().BeFalse();
        (await _client.Send(HttpMethod.Get, $"/adapters/deadletters/{id}", tenant: "city")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await _client.Send(HttpMethod.Get, "/adapters/deadletters", tenant: "no-such-tenant")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unmapped_device_is_dead_lettered_then_replayed_after_adding_a_mapping()
    {
        // Elsys ERS CO2: no mapping ships for it.
        var (fPort, bytes, data) = VendorPayloads.CodecExample("elsys/ers-co2-codec.yaml");
        var eui = VendorPayloads.NewEui();
        var envelope = VendorPayloads.Tts(eui, "elsys/ers-co2", 5, fPort, bytes, data, (48.2, 16.37));
        var result = await (await _client.PostTts("replay", envelope)).OkJson(HttpStatusCode.Accepted);
        result["status"]!.GetValue<string>().Should().Be("deadLettered");
        result["reason"]!.GetValue<string>().Should().Be("unmapped");
        var id = result["deadLetter"]!.GetValue<string>();

        var list = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, "/adapters/deadletters", tenant: "replay")).Content.ReadAsStringAsync())!.AsArray();
        var letter = list.Single(l => l!["id"]!.GetValue<string>() == id)!;
        letter["reason"]!.GetValue<string>().Should().Be("unmapped");
        letter["status"]!.GetValue<string>().Should().Be("pending");
        letter["device"]!.GetValue<string>().Should().Be(eui);
        letter["payload"]!["uplink_message"]!["decoded_payload"]!["co2"].Should().NotBeNull();

        // Replaying before the fix fails again, with the attempt counted.
        var again = await (await _client.Send(HttpMethod.Post, $"/adapters/deadletters/{id}/replay", tenant: "replay")).OkJson(HttpStatusCode.Accepted);
        again["reason"]!.GetValue<string>().Should().Be("unmapped");

        // The operator adds a mapping for the model, reloads, and replays.
        await File.WriteAllTextAsync(Path.Combine(fixture.MappingDirectory, "elsys-ers-co2.yaml"), """
            match:
              models: [elsys/ers-co2]
            device:
              id: "urn:ngsi-ld:Device:{devEui}"
              controlledProperty: [co2, temperature, humidity]
            entities:
              - type: AirQualityObserved
                id: "urn:ngsi-ld:AirQualityObserved:{devEui}"
                attributes:
                  co2:              { value: "co2", unitCode: "59" }
                  temperature:      { value: "temperature", unitCode: CEL }
                  relativeHumidity: { value: "humidity / 100", unitCode: C62 }
                  dateObserved:     { value: "receivedAt", observed: false }
            """);
        var reload = await (await _client.Send(HttpMethod.Post, "/adapters/mappings/reload")).OkJson();
        reload["errors"]!.AsArray().Should().BeEmpty();

        var replayed = await (await _client.Send(HttpMethod.Post, $"/adapters/deadletters/{id}/replay", tenant: "replay")).OkJson();
        replayed["status"]!.GetValue<string>().Should().Be("stored");
        var entity = await _client.GetEntityAsync($"urn:ngsi-ld:AirQualityObserved:{eui}", link: fixture.ContextLink("Environment"), tenant: "replay");
        entity["co2"]!["value"]!.GetValue<double>().Should().Be(data["co2"]!.GetValue<double>());

        var after = await (await _client.Send(HttpMethod.Get, $"/adapters/deadletters/{id}", tenant: "replay")).OkJson();
        after["status"]!.GetValue<string>().Should().Be("replayed");
        after["attempts"]!.GetValue<int>().Should().Be(3);
        File.Delete(Path.Combine(fixture.MappingDirectory, "elsys-ers-co2.yaml"));
        await _client.Send(HttpMethod.Post, "/adapters/mappings/reload");
    }

    [Fact]
    public async Task Uplink_without_the_required_field_is_dead_lettered_as_a_mapping_failure()
    {
        // DL-MBX Example 2 has no distance (sensor error): measuredDistance is required.
        var (fPort, bytes, data) = VendorPayloads.CodecExample("decentlab/dl-mbx-codec.yaml", 1);
        var result = await (await _client.PostTts("replay", VendorPayloads.Tts(VendorPayloads.NewEui(), "decentlab/dl-mbx", 3, fPort, bytes, data))).OkJson(HttpStatusCode.Accepted);
        result["reason"]!.GetValue<string>().Should().Be("mapping");
        result["detail"]!.GetValue<string>().Should().Contain("distance");
    }

    [Fact]
    public async Task Schema_violation_under_enforce_is_400_with_each_violation_and_a_dead_letter()
    {
        await SetModeAsync("strict", "WasteContainer", "enforce");
        // No location anywhere (not in the envelope, not in the mapping): WasteContainer requires one.
        var (fPort, bytes, data) = VendorPayloads.CodecExample("milesight-iot/em310-udl-codec.yaml");
        var eui = VendorPayloads.NewEui();
        var response = await _client.PostTts("strict", VendorPayloads.Tts(eui, "milesight-iot/em310-udl", 9, fPort, bytes, data));
        var body = await response.OkJson(HttpStatusCode.BadRequest);
        body["type"]!.GetValue<string>().Should().Be("https://uri.etsi.org/ngsi-ld/errors/BadRequestData");
        var violations = body["violations"]!.AsArray();
        violations.Should().Contain(v => v!["path"]!.GetValue<string>().Contains("location") || v["message"]!.GetValue<string>().Contains("location"));
        violations.Should().OnlyContain(v => v!["type"]!.GetValue<string>() == "WasteContainer");
        body["deadLetter"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        (await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/entities/urn:ngsi-ld:WasteContainer:{eui}", tenant: "strict")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var letter = await (await _client.Send(HttpMethod.Get, $"/adapters/deadletters/{body["deadLetter"]}", tenant: "strict")).OkJson();
        letter["reason"]!.GetValue<string>().Should().Be("validation");

        // Turning enforcement off for the type and replaying stores it.
        await SetModeAsync("strict", "WasteContainer", "off");
        var replayed = await (await _client.Send(HttpMethod.Post, $"/adapters/deadletters/{body["deadLetter"]}/replay", tenant: "strict")).OkJson();
        replayed["status"]!.GetValue<string>().Should().Be("stored");
    }

    [Fact]
    public async Task Schema_violation_under_warn_is_stored_with_findings_in_the_warning_header()
    {
        await SetModeAsync("lenient", "WasteContainer", "warn");
        var (fPort, bytes, data) = VendorPayloads.CodecExample("milesight-iot/em310-udl-codec.yaml");
        var eui = VendorPayloads.NewEui();
        var response = await _client.PostTts("lenient", VendorPayloads.Tts(eui, "milesight-iot/em310-udl", 9, fPort, bytes, data));
        var body = await response.OkJson();
        body["status"]!.GetValue<string>().Should().Be("stored");
        body["warnings"]!.AsArray().Should().NotBeEmpty();
        response.Headers.GetValues("NGSILD-Warning").Single().Should().Contain("WasteContainer").And.Contain("location");
        var entity = await _client.GetEntityAsync($"urn:ngsi-ld:WasteContainer:{eui}", link: fixture.ContextLink("WasteManagement"), tenant: "lenient");
        entity["fillingLevel"]!["value"]!.GetValue<double>().Should().Be(0);
    }

    [Fact]
    public async Task Validation_mode_must_be_known()
    {
        var request = Api.Request(HttpMethod.Put, "/adapters/validation/WasteContainer", """{"mode": "loud"}""", tenant: "strict");
        await (await _client.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
