using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Tests.Model;

/// <summary>
/// Issue 12, session 15: concise rendering from stored bytes asks whether a value is a geometry of the
/// <see cref="StoredElement"/> itself (<see cref="GeoJson.LooksLikeGeometry(StoredElement)"/>), no longer of a parse of
/// it. Differential: over edge cases and random objects, the stored test answers as the parsed element's and the node's.
/// </summary>
public sealed class StoredGeometryTests
{
    /// <summary>Each kind's answer for one document (JSON without whitespace, as stored documents are).</summary>
    private static (bool Stored, bool Element, bool Node) Answers(string json)
    {
        var doc = Encoding.UTF8.GetBytes(json);
        var stored = StoredElement.At(doc, 0);
        stored.Next.Should().Be(doc.Length, json);
        return (GeoJson.LooksLikeGeometry(stored), GeoJson.LooksLikeGeometry(JsonElement.Parse(doc)), GeoJson.LooksLikeGeometry(JsonNode.Parse(doc)));
    }

    [Theory]
    [InlineData("""{"type":"Point","coordinates":[1,2]}""", true)]
    [InlineData("""{"coordinates":[1,2],"type":"Point"}""", true)] // type not first
    [InlineData("""{"type":"GeometryCollection","geometries":[]}""", true)]
    [InlineData("""{"type":"Polygon","coordinates":null}""", true)] // present is enough, as before
    [InlineData("""{"x":1,"type":"MultiLineString","y":{"type":"Feature"},"geometries":{}}""", true)]
    [InlineData("""{"\u0074ype":"Point","coordinates":[1,2]}""", true)] // an escaped name
    [InlineData("""{"type":"\u0050oint","coordinates":[1,2]}""", true)] // an escaped value
    [InlineData("""{"type":"Point","co\u006frdinates":[]}""", true)]
    [InlineData("""{"type":"Point"}""", false)] // neither coordinates nor geometries
    [InlineData("""{"type":"Feature","coordinates":[1,2]}""", false)] // a type member, not a geometry's
    [InlineData("""{"type":"Property","value":{"type":"Point","coordinates":[1,2]}}""", false)] // nested: not this object
    [InlineData("""{"value":{"type":"Point","coordinates":[1,2]}}""", false)]
    [InlineData("""{"type":"point","coordinates":[1,2]}""", false)]
    [InlineData("""{"type":"Point ","coordinates":[1,2]}""", false)]
    [InlineData("""{"type":"PointX","coordinates":[1,2]}""", false)]
    [InlineData("""{"type":"Poin","coordinates":[1,2]}""", false)]
    [InlineData("""{"type":"Point\u0000","coordinates":[1,2]}""", false)]
    [InlineData("""{"type":"P\\oint","coordinates":[1,2]}""", false)] // a backslash in the text, not an escape of it
    [InlineData("""{"type":["Point"],"coordinates":[1,2]}""", false)]
    [InlineData("""{"type":{"type":"Point"},"coordinates":[1,2]}""", false)]
    [InlineData("""{"type":null,"coordinates":[1,2]}""", false)]
    [InlineData("""{"type":7,"coordinates":[1,2]}""", false)]
    [InlineData("""{"Type":"Point","coordinates":[1,2]}""", false)]
    [InlineData("""{"types":"Point","coordinates":[1,2]}""", false)]
    [InlineData("""{"x":"\"type\":\"Point\",\"coordinates\":[]","type":"Feature"}""", false)] // the names inside a string
    [InlineData("""{}""", false)]
    [InlineData("""["type","Point","coordinates"]""", false)]
    [InlineData("""  "Point" """, false)]
    [InlineData("""7""", false)]
    [InlineData("""null""", false)]
    public void An_edge_case_answers_alike_stored_parsed_and_as_a_node(string json, bool geometry)
    {
        json = json.Trim();
        Answers(json).Should().Be((geometry, geometry, geometry), json);
    }

    /// <summary>Member names and their spellings in JSON (escaped or not); values as JSON text.</summary>
    private static readonly (string Name, string[] Spellings)[] Names =
    [
        ("type", ["type", @"\u0074ype", @"typ\u0065"]), ("coordinates", ["coordinates", @"\u0063oordinates"]),
        ("geometries", ["geometries", @"geometrie\u0073"]), ("Type", ["Type"]), ("x", ["x", @"\u0078"]),
        ("value", ["value"]), ("t\"ype", [@"t\""ype"]), ("t\\ype", [@"t\\ype"]), ("é", [@"\u00e9"]),
    ];

    private static readonly string[] TypeTexts =
    [
        "\"Point\"", "\"MultiPoint\"", "\"LineString\"", "\"MultiLineString\"", "\"Polygon\"", "\"MultiPolygon\"",
        "\"GeometryCollection\"", @"""\u0050oint""", @"""Polygo\u006e""", "\"Feature\"", "\"point\"", "\"Point \"", "\"\"",
        @"""Point\""""", @"""P\\oint""", "null", "1", "true", "[\"Point\"]", "{\"type\":\"Point\"}",
    ];

    [Fact]
    public void Random_objects_answer_alike_stored_parsed_and_as_a_node()
    {
        var random = new Random(15);
        var geometries = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var json = RandomObject(random, depth: 0);
            var (stored, element, node) = Answers(json);
            stored.Should().Be(element, json);
            stored.Should().Be(node, json);
            if (stored) geometries++;
        }
        geometries.Should().BeGreaterThan(500, "the generator makes geometries too, not only near misses");
    }

    private static string RandomObject(Random random, int depth)
    {
        var text = new StringBuilder("{");
        var used = new HashSet<string>(StringComparer.Ordinal); // names are unique once unescaped, as bodies and stored documents are
        for (var count = random.Next(5); count > 0; count--)
        {
            var (name, spellings) = Names[random.Next(Names.Length)];
            if (!used.Add(name)) continue;
            if (text.Length > 1) text.Append(',');
            text.Append('"').Append(spellings[random.Next(spellings.Length)]).Append("\":").Append(RandomValue(random, name, depth));
        }
        return text.Append('}').ToString();
    }

    private static string RandomValue(Random random, string name, int depth) => random.Next(6) switch
    {
        < 3 when name == "type" => TypeTexts[random.Next(TypeTexts.Length)],
        0 => "[1,[2.5e3,-0.1],\"a]}\"]",
        1 when depth < 3 => RandomObject(random, depth + 1),
        2 => "\"{\\\"type\\\":\\\"Point\\\"}\"",
        3 => "null",
        _ => TypeTexts[random.Next(TypeTexts.Length)],
    };
}
