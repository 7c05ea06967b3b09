using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Broker.Contexts;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>
/// The smart-data-models @contexts shipped in schemas/contexts answer their published URLs without the network, and a
/// type that lands in the default vocabulary while an SDM context defines it is pointed out.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class BundledSdmContextTests(BrokerFixture fx)
{
    private static string Schemas => Path.Combine(RepoPaths.Root, "schemas", "contexts");

    [Theory]
    [InlineData("https://smart-data-models.github.io/dataModel.Environment/context.jsonld")]
    [InlineData("https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld")]
    public async Task Sdm_context_url_resolves_offline_and_expands_the_type_to_its_sdm_iri(string url)
    {
        var tenant = "sdm-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId("AirQualityObserved");
        var created = await fx.Client.CreateAsync($$"""{"id":"{{id}}","type":"AirQualityObserved","no2":{"type":"Property","value":22} }""",
            link: Api.Link(url), tenant: tenant);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        created.Headers.Contains(DefaultVocabularyHint.Header).Should().BeFalse();

        var types = await (await fx.Client.Send(HttpMethod.Get, "/ngsi-ld/v1/types", tenant: tenant)).JsonAsync();
        types["typeList"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
        var found = await fx.Client.Send(HttpMethod.Get, "/ngsi-ld/v1/entities?type=AirQualityObserved", link: Api.Link(url), tenant: tenant);
        (await found.Content.ReadAsStringAsync()).Should().Contain(id);
    }

    [Fact]
    public async Task Legacy_all_subjects_context_resolves_offline()
    {
        var created = await fx.Client.CreateAsync($$"""{"id":"{{Api.NewId("Streetlight")}}","type":"Streetlight"}""",
            link: Api.Link("https://smartdatamodels.org/context.jsonld"), tenant: "sdm-legacy");
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Every_sdm_url_of_the_reference_map_is_shipped_byte_for_byte()
    {
        var reference = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "contexts", "contexts.json")))!
            .Where(e => e.Value.StartsWith("smart-data-models/", StringComparison.Ordinal)).ToList();
        var bundled = new BundledContexts(Schemas);
        reference.Should().HaveCountGreaterThan(15);
        foreach (var (url, file) in reference)
            bundled.Find(url).Should().Be(File.ReadAllText(Path.Combine(RepoPaths.Fixtures, "contexts", file)), "{0} should be answered by its shipped copy", url);
        bundled.Urls.Should().BeEquivalentTo(reference.Select(e => e.Key));
    }

    [Fact]
    public void Bundled_map_can_be_turned_off_and_names_no_file_outside_its_directory()
    {
        new BundledContexts(Schemas, enabled: false).Find("https://smart-data-models.github.io/dataModel.Weather/context.jsonld").Should().BeNull();
        var directory = Directory.CreateTempSubdirectory("kontext-bundled-").FullName;
        File.WriteAllText(Path.Combine(directory, BundledContexts.MapFile), """{"https://example.org/c.jsonld": "../../../etc/passwd"}""");
        new BundledContexts(directory).Urls.Should().BeEmpty();
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Sdm_terms_point_to_their_subject_context()
    {
        var bundled = new BundledContexts(Schemas);
        bundled.SubjectContextDefining("WaterQualityObserved").Should().Be("https://smart-data-models.github.io/dataModel.WaterQuality/context.jsonld");
        bundled.SubjectContextDefining("Streetlight").Should().Be("https://smart-data-models.github.io/dataModel.Streetlighting/context.jsonld");
        bundled.SubjectContextDefining("NoSuchModel").Should().BeNull();
    }

    [Fact]
    public async Task Sdm_type_written_without_its_context_gets_a_warning_naming_the_context()
    {
        var tenant = "hint-" + Guid.NewGuid().ToString("N")[..8];
        var created = await fx.Client.CreateAsync($$"""{"id":"{{Api.NewId("WeatherObserved")}}","type":"WeatherObserved"}""", tenant: tenant);
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var warning = created.Headers.GetValues(DefaultVocabularyHint.Header).Single();
        warning.Should().StartWith("199 kontext \"Type 'WeatherObserved'")
            .And.Contain("https://uri.etsi.org/ngsi-ld/default-context/WeatherObserved")
            .And.Contain("https://smart-data-models.github.io/dataModel.Weather/context.jsonld");
    }

    [Fact]
    public async Task Sdm_type_in_a_batch_without_its_context_gets_a_warning_once()
    {
        var batch = $$"""[{"id":"{{Api.NewId("ParkingSpot")}}","type":"ParkingSpot"},{"id":"{{Api.NewId("Thing")}}","type":"Thing"},{"id":"{{Api.NewId("ParkingSpot")}}","type":"ParkingSpot"}]""";
        var response = await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", batch, tenant: "hint-batch");
        response.IsSuccessStatusCode.Should().BeTrue();
        var warning = response.Headers.GetValues(DefaultVocabularyHint.Header).Single();
        warning.Should().Contain("Type 'ParkingSpot'").And.NotContain("'Thing'");
        warning.Split("Type 'ParkingSpot'").Should().HaveCount(2, "each type is named once, however many entities have it");
    }

    [Fact]
    public async Task Query_for_an_sdm_type_without_its_context_gets_a_warning()
    {
        var response = await fx.Client.Send(HttpMethod.Get, "/ngsi-ld/v1/entities?type=WasteContainer,Thing");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues(DefaultVocabularyHint.Header).Single().Should().Contain("Type 'WasteContainer'")
            .And.Contain("https://smart-data-models.github.io/dataModel.WasteManagement/context.jsonld");
    }

    [Fact]
    public async Task Own_types_and_full_iris_get_no_warning()
    {
        var own = await fx.Client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""");
        own.Headers.Contains(DefaultVocabularyHint.Header).Should().BeFalse();
        var iri = await fx.Client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"https://example.org/WeatherObserved"}""");
        iri.Headers.Contains(DefaultVocabularyHint.Header).Should().BeFalse();
    }
}
