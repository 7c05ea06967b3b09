using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Tests.Query;

public class QEvaluatorTests
{
    private static readonly JsonLdContext Core = ContextProcessor.Core;

    internal static Entity Car { get; } = Entity("""
        {
          "id": "urn:ngsi-ld:Car:1", "type": "Car",
          "speed": {"type": "Property", "value": 80, "observedAt": "2024-05-01T12:00:00Z", "unitCode": "KMH",
                    "accuracy": {"type": "Property", "value": 0.5}},
          "temperature": [{"type": "Property", "value": 20}, {"type": "Property", "value": 35, "datasetId": "urn:ds:2"}],
          "name": "Hello World",
          "tags": {"type": "Property", "value": ["red", "fast"]},
          "address": {"type": "Property", "value": {"street": {"name": "Main"}, "number": 12}},
          "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
          "title": {"type": "LanguageProperty", "languageMap": {"en": "Car", "fr": "Voiture"}},
          "category": {"type": "VocabProperty", "vocab": "sedan"},
          "on": true,
          "since": "2024-01-15",
          "opens": "08:30:00",
          "lastSeen": {"type": "Property", "value": {"@type": "DateTime", "@value": "2024-05-01T10:00:00Z"}},
          "passengers": {"type": "ListRelationship", "objectList": [{"object": "urn:p:1"}, {"object": "urn:p:2"}]},
          "config": {"type": "JsonProperty", "json": {"mode": "eco", "level": 3}}
        }
        """);

    internal static Entity Entity(string json) =>
        EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), Core, ParseMode.Full);

    private static bool Matches(string q) => QEvaluator.Evaluate(QLanguage.Parse(q, Core), Car);

    [Theory]
    [InlineData("speed", true)]
    [InlineData("!speed", false)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("speed.accuracy", true)]
    [InlineData("speed.missing", false)]
    [InlineData("speed.observedAt", true)]
    [InlineData("speed.datasetId", false)]
    [InlineData("address[street.name]", true)]
    [InlineData("address[street.none]", false)]
    public void Existence_and_non_existence(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("speed==80", true)]
    [InlineData("speed!=80", false)]
    [InlineData("speed>79.5", true)]
    [InlineData("speed>=80", true)]
    [InlineData("speed<80", false)]
    [InlineData("speed<=80", true)]
    [InlineData("speed==70..90", true)]
    [InlineData("speed==81..90", false)]
    [InlineData("speed!=81..90", true)]
    [InlineData("speed==1,2,80", true)]
    [InlineData("speed.accuracy<1", true)]
    public void Numbers_compare(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("speed==\"80\"")]
    [InlineData("speed>\"7\"")]
    [InlineData("name>1")]
    [InlineData("on==1")]
    [InlineData("name==true")]
    public void Number_against_string_or_boolean_is_false_not_an_error(string q) => Matches(q).Should().BeFalse();

    [Theory]
    [InlineData("name==\"Hello World\"", true)]
    [InlineData("name>\"Hello\"", true)]
    [InlineData("name<\"Hello\"", false)]
    [InlineData("name==\"A\"..\"I\"", true)]
    [InlineData("name~=^Hel+o", true)]
    [InlineData("name~=(?i)^hello", true)]
    [InlineData("name~=^World", false)]
    [InlineData("name!~=^World", true)]
    [InlineData("speed~=8", false)]
    public void Strings_compare_ordinally_and_match_regexes(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("temperature==35", true)]
    [InlineData("temperature==20", true)]
    [InlineData("temperature>30", true)]
    [InlineData("temperature>40", false)]
    [InlineData("temperature!=20", true)] // the urn:ds:2 instance is not 20
    public void Any_instance_of_a_multi_attribute_satisfies(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("tags==\"red\"", true)]
    [InlineData("tags==\"blue\"", false)]
    [InlineData("tags!=\"red\"", false)]
    [InlineData("tags~=^fa", true)]
    public void Arrays_match_when_any_element_does(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("speed.observedAt>2024-05-01T11:59:59Z", true)]
    [InlineData("speed.observedAt==2024-05-01T14:00:00+02:00", true)]
    [InlineData("speed.observedAt<2024-05-01T12:00:00Z", false)]
    [InlineData("speed.unitCode==\"KMH\"", true)]
    [InlineData("lastSeen<2024-05-01T10:00:01Z", true)]
    [InlineData("since>2024-01-01", true)]
    [InlineData("since==2024-01-01..2024-01-31", true)]
    [InlineData("opens<09:00", true)]
    [InlineData("opens>08:30:00Z", false)]
    [InlineData("name>2024-01-01T00:00:00Z", false)]
    public void Dates_and_times_compare_as_instants(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("address[number]==12", true)]
    [InlineData("address[street][name]==\"Main\"", true)]
    [InlineData("address[street.name]==\"Other\"", false)]
    [InlineData("config[mode]==\"eco\"", true)]
    [InlineData("config[level]>=3", true)]
    public void Compound_paths_look_into_the_json_value(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("owner==urn:ngsi-ld:Person:1", true)]
    [InlineData("owner==\"urn:ngsi-ld:Person:1\"", true)]
    [InlineData("owner==urn:ngsi-ld:Person:2", false)]
    [InlineData("owner~=Person", false)] // clause 4.9: a Relationship meets only == and !=
    [InlineData("passengers==urn:p:2", true)]
    [InlineData("passengers==urn:p:3", false)]
    public void Relationships_compare_their_object(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("title==\"Voiture\"", true)]
    [InlineData("title==\"Car\"", true)]
    [InlineData("title==\"Auto\"", false)]
    public void Language_properties_compare_any_language(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("category==sedan", true)]
    [InlineData("category==\"sedan\"", true)]
    [InlineData("category==https://uri.etsi.org/ngsi-ld/default-context/sedan", true)]
    [InlineData("category==suv", false)]
    public void Vocab_properties_compare_expanded_terms(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("on==true", true)]
    [InlineData("on!=true", false)]
    [InlineData("on==false", false)]
    public void Booleans_compare(string q, bool expected) => Matches(q).Should().Be(expected);

    [Theory]
    [InlineData("speed==80;name", true)]
    [InlineData("speed==80;missing", false)]
    [InlineData("missing|speed==80", true)]
    [InlineData("speed==1|speed==2;name", false)]
    [InlineData("(speed==1|speed==80);name", true)]
    [InlineData("speed==1|on==true;speed>50", true)]
    public void And_and_or_combine_with_and_binding_tighter(string q, bool expected) => Matches(q).Should().Be(expected);

    [Fact]
    public void Catastrophic_regex_does_not_hang()
    {
        var entity = Entity("""{"id": "urn:x:1", "type": "T", "name": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}""");
        var started = DateTime.UtcNow;
        QEvaluator.Evaluate(QLanguage.Parse("name~=^(a+)+$", Core), entity).Should().BeFalse();
        QEvaluator.Evaluate(QLanguage.Parse("name~=^(a+)+(?=b)", Core), entity).Should().BeFalse();
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(5));
    }
}
