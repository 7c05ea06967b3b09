using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;

namespace Kontext.Ngsi.Tests.JsonLd;

public class SmartDataModelsContextTests
{
    private const string Url = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld";

    private static (FakeContextLoader Loader, JsonObject Terms) RealEnvironmentContext()
    {
        var path = Fixtures.File("contexts", "smart-data-models", "dataModel.Environment", "context.jsonld");
        var document = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        var terms = document["@context"]!.AsObject();
        return (new FakeContextLoader().Serve(Url, terms.DeepClone()), terms);
    }

    [Fact]
    public async Task Real_smart_data_models_terms_expand_to_the_iris_the_file_defines()
    {
        var (loader, terms) = RealEnvironmentContext();
        var ctx = await new ContextProcessor(loader).ProcessAsync(JsonValue.Create(Url), default);

        foreach (var term in new[] { "AirQualityObserved", "temperature", "airQualityIndex", "address", "refDevice", "dateObserved" })
            ctx.ExpandTerm(term).Should().Be(terms[term]!.GetValue<string>(), term);

        ctx.ExpandTerm("AirQualityObserved").Should().Be("https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
        ctx.ExpandTerm("address").Should().Be("https://smartdatamodels.org/address");
        ctx.ExpandTerm("description").Should().Be("http://purl.org/dc/terms/description");
        ctx.ExpandTerm("location").Should().Be("https://uri.etsi.org/ngsi-ld/location");
        loader.Calls[Url].Should().Be(1);
    }

    [Fact]
    public async Task Every_real_smart_data_models_term_survives_expand_then_compact()
    {
        var (loader, terms) = RealEnvironmentContext();
        var ctx = await new ContextProcessor(loader).ProcessAsync(
            new JsonArray(JsonValue.Create(Url), JsonValue.Create(CoreContext.V18Url)), default);

        foreach (var (term, _) in terms)
        {
            if (term.StartsWith('@')) continue;
            var iri = ctx.ExpandTerm(term);
            if (iri.StartsWith('@')) continue; // id, type
            ctx.ExpandTerm(ctx.CompactIri(iri)).Should().Be(iri, term);
        }
    }

    [Fact]
    public async Task A_real_smart_data_models_entity_keeps_its_terms_through_parse_and_render()
    {
        var (loader, _) = RealEnvironmentContext();
        var ctx = await new ContextProcessor(loader).ProcessAsync(JsonValue.Create(Url), default);
        var entity = Kontext.Ngsi.Model.EntityParser.ParseEntity(T.Obj("""
            {
              "id": "urn:ngsi-ld:AirQualityObserved:Madrid-1",
              "type": "AirQualityObserved",
              "airQualityIndex": { "type": "Property", "value": 65 },
              "refDevice": { "type": "Relationship", "object": "urn:ngsi-ld:Device:d1" },
              "location": { "type": "GeoProperty", "value": { "type": "Point", "coordinates": [-3.7, 40.4] } }
            }
            """), ctx, Kontext.Ngsi.Model.ParseMode.Full);

        entity.Types.Should().Equal("https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
        entity.Attributes.Keys.Should().BeEquivalentTo(
            "https://smartdatamodels.org/dataModel.Environment/airQualityIndex",
            "https://smartdatamodels.org/dataModel.Environment/refDevice",
            "https://uri.etsi.org/ngsi-ld/location");

        var rendered = T.Render(entity, ctx, new Kontext.Ngsi.Formats.RenderOptions());
        rendered.Select(p => p.Key).Should().Equal("id", "type", "airQualityIndex", "refDevice", "location");
        rendered["type"]!.GetValue<string>().Should().Be("AirQualityObserved");
    }
}
