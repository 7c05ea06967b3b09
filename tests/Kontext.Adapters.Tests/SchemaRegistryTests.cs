using System.Text.Json.Nodes;
using Kontext.Adapters;

namespace Kontext.Adapters.Tests;

public sealed class SchemaRegistryTests
{
    [Theory]
    [InlineData("Environment", "FloodMonitoring")]
    [InlineData("Environment", "WaterObserved")]
    [InlineData("Weather", "WeatherObserved")]
    [InlineData("Parking", "ParkingSpot")]
    [InlineData("WasteManagement", "WasteContainer")]
    public async Task Upstream_keyValues_examples_validate_offline_against_shipped_and_upstream_schemas(string subject, string type)
    {
        var example = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "smart-data-models", subject, type, "examples", "example.jsonld")))!.AsObject();
        example.Remove("@context");
        foreach (var root in new[] { Path.Combine(RepoPaths.Root, "schemas"), Path.Combine(RepoPaths.Fixtures, "smart-data-models") })
        {
            var registry = new SchemaRegistry(root);
            var findings = await registry.ValidateAsync(type, example).WaitAsync(TimeSpan.FromSeconds(30));
            findings.Should().BeEmpty(string.Join("; ", findings));
        }
    }

    [Fact]
    public async Task A_violation_names_its_path()
    {
        var registry = new SchemaRegistry(Path.Combine(RepoPaths.Root, "schemas"));
        var findings = await registry.ValidateAsync("WasteContainer", JsonNode.Parse("""{"id": "urn:ngsi-ld:WasteContainer:1", "type": "WasteContainer", "fillingLevel": 1.5}""")!.AsObject()).WaitAsync(TimeSpan.FromSeconds(30));
        findings.Select(f => f.Path + " " + f.Message).Should().Contain(f => f.Contains("fillingLevel")).And.Contain(f => f.Contains("location"));
    }

    [Fact]
    public void Context_lookups_of_unknown_subjects_are_not_remembered()
    {
        var registry = new SchemaRegistry(Path.Combine(RepoPaths.Root, "schemas"));

        for (var i = 0; i < 1000; i++) registry.ContextOf("NoSuchSubject" + i).Should().BeNull();
        registry.ContextOf("Environment").Should().NotBeNull();

        registry.CachedContextCount.Should().Be(1);
    }
}
