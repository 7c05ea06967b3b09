using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kontext.Adapters.Tests;

/// <summary>Envelope → mapping → entities, with the shipped mappings and schemas: the module alone, no broker.</summary>
public sealed class MappingEngineTests
{
    private static readonly SchemaRegistry Schemas = new(Path.Combine(RepoPaths.Root, "schemas"));
    private static readonly MappingCatalog Catalog = new(Path.Combine(RepoPaths.Root, "mappings"), NullLogger<MappingCatalog>.Instance);

    private static JsonObject ShippedTtsUplink() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "vendor-payloads", "tts-v3", "COMPOSED.uplink-message.decentlab-dl-mbx.json")))!.AsObject();

    [Fact]
    public void Every_shipped_mapping_loads()
    {
        Catalog.Errors.Should().BeEmpty();
        Catalog.Mappings.Should().HaveCount(Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "mappings"), "*.yaml").Count());
    }

    [Fact]
    public void The_shipped_TTS_uplink_maps_to_FloodMonitoring_WaterObserved_and_Device()
    {
        var uplink = AdapterIngest.ParseEnvelope("tts", ShippedTtsUplink());
        var mapping = Catalog.Find(uplink);

        var entities = new MappingEngine(Schemas).Map(uplink, mapping!);

        entities.Select(e => e.Type).Should().BeEquivalentTo(["Device", "FloodMonitoring", "WaterObserved"]);
        var flood = entities.Single(e => e.Type == "FloodMonitoring");
        flood.Subject.Should().Be("Environment");
        flood.Normalized["measuredDistance"]!["value"]!.GetValue<double>().Should().Be(1.234);
        flood.Normalized["measuredDistance"]!["unitCode"]!.GetValue<string>().Should().Be("MTR");
        flood.Normalized["measuredDistance"]!["observedAt"]!.GetValue<string>().Should().Be("2025-05-20T08:15:02.010Z");
        flood.Normalized["currentLevel"]!["value"]!.GetValue<double>().Should().Be(1.266);
        flood.Normalized["refDevice"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Device:70B3D57BA0000001");
        flood.KeyValues["currentLevel"]!.GetValue<double>().Should().Be(1.266, "the keyValues form is what the schema checks");
    }

    [Fact]
    public void A_required_field_missing_from_the_payload_is_a_mapping_failure()
    {
        var envelope = ShippedTtsUplink();
        envelope["uplink_message"]!["decoded_payload"] = new JsonObject { ["unrelated"] = 1 };
        var uplink = AdapterIngest.ParseEnvelope("tts", envelope);

        var map = () => new MappingEngine(Schemas).Map(uplink, Catalog.Find(uplink)!);

        map.Should().Throw<MappingException>().WithMessage("*required field 'distance.value' is not in the payload*");
    }

    [Fact]
    public void An_envelope_without_device_ids_is_malformed()
    {
        var envelope = ShippedTtsUplink();
        envelope.Remove("end_device_ids");

        var parse = () => AdapterIngest.ParseEnvelope("tts", envelope);

        parse.Should().Throw<EnvelopeException>().WithMessage("*end_device_ids*");
    }
}
