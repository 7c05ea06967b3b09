using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using static Kontext.Ngsi.Tests.T;

namespace Kontext.Ngsi.Tests.Model;

public class ValueCoercionTests
{
    private const string Body = """
        {
          "id": "urn:ngsi-ld:Vehicle:1",
          "type": "Vehicle",
          "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person" },
          "category": { "type": "VocabProperty", "vocab": "Sedan" },
          "tags": { "type": "VocabProperty", "vocab": ["Sedan", "Truck", "unknownThing"] }
        }
        """;

    [Fact]
    public void A_relationship_object_stays_the_uri_as_given()
    {
        var ctx = Context("""{ "ex": "http://example.org/", "Person": "ex:Person", "owner": "ex:owner", "urn": "http://example.org/urn/" }""");
        var e = EntityParser.ParseEntity(Obj("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "owner": { "type": "Relationship", "object": "urn:ngsi-ld:Person:1" } }"""), ctx, ParseMode.Full);
        e.Attributes[Iri("owner")][0]["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:1");

        var rendered = Render(e, ctx, new RenderOptions());
        rendered["owner"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Person:1");
    }

    [Fact]
    public void A_vocab_value_is_expanded_on_parse()
    {
        var e = Parse(Body);
        e.Attributes[Iri("category")][0]["vocab"]!.GetValue<string>().Should().Be(Iri("Sedan"));
        e.Attributes[NgsiNs + "default-context/tags"][0]["vocab"]!.AsArray().Select(v => v!.GetValue<string>())
            .Should().Equal(Iri("Sedan"), Iri("Truck"), DefaultVocab + "unknownThing");
    }

    [Fact]
    public void An_object_type_is_expanded_on_parse()
    {
        Parse(Body).Attributes[Iri("owner")][0]["objectType"]!.GetValue<string>().Should().Be(Iri("Person"));
    }

    [Fact]
    public void Vocab_and_object_type_are_compacted_back_to_the_callers_terms_on_render()
    {
        var e = Parse(Body);
        foreach (var format in new[] { RenderFormat.Normalized, RenderFormat.Concise })
        {
            var rendered = Render(e, User, new RenderOptions(format));
            rendered["category"]!["vocab"]!.GetValue<string>().Should().Be("Sedan");
            JsonNode.DeepEquals(rendered["tags"]!["vocab"], JsonNode.Parse("""["Sedan", "Truck", "unknownThing"]""")).Should().BeTrue();
            rendered["owner"]!["objectType"]!.GetValue<string>().Should().Be("Person");
        }
        // The simplified form of a VocabProperty keeps its member name (clause 4.5.4): {"vocab": "Sedan"}.
        Render(e, User, new RenderOptions(RenderFormat.KeyValues))["category"]!["vocab"]!.GetValue<string>().Should().Be("Sedan");
    }

    [Fact]
    public void Vocab_is_compacted_with_the_readers_context_not_the_writers()
    {
        var e = Parse(Body);
        var other = Context("""{ "Saloon": "http://example.org/Sedan" }""");
        Render(e, other, new RenderOptions())["http://example.org/category"]!["vocab"]!.GetValue<string>().Should().Be("Saloon");
        Render(e, Context(null), new RenderOptions())["http://example.org/category"]!["vocab"]!.GetValue<string>().Should().Be("http://example.org/Sedan");
    }

    [Theory]
    [InlineData("""{ "type": "VocabProperty", "vocab": 3 }""")]
    [InlineData("""{ "type": "VocabProperty", "vocab": ["a", 3] }""")]
    [InlineData("""{ "type": "VocabProperty", "vocab": { "a": 1 } }""")]
    public void A_vocab_that_is_not_a_string_or_strings_is_rejected(string json) =>
        ((Action)(() => Parse($$"""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "category": {{json}} }"""))).ShouldBeBadRequestData();

    [Fact]
    public void An_object_type_that_is_not_a_string_is_rejected() =>
        ((Action)(() => Parse("""{ "id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "owner": { "object": "urn:a:b", "objectType": 3 } }"""))).ShouldBeBadRequestData();
}
