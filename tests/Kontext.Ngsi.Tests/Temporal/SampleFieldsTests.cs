using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.Tests.Temporal;

/// <summary>The sample an instance contributes to aggregations, read from its payload however the node holds it.</summary>
public sealed class SampleFieldsTests
{
    private static JsonObject Instance(JsonNode? value) => new() { ["type"] = "Property", ["value"] = value };

    [Fact]
    public void A_number_read_from_json_text_is_the_value_of_that_text()
    {
        Gen.Double.Where(double.IsFinite).Sample(x =>
        {
            var text = x.ToString("R", CultureInfo.InvariantCulture);
            var fromText = SampleFields.Of(Instance(JsonNode.Parse(text)));
            var expected = double.Parse(text, CultureInfo.InvariantCulture);
            Assert.Equal(expected, fromText.Number);
            Assert.Equal(expected, fromText.DistinctNumber);
            Assert.Null(fromText.DistinctText);
        });
    }

    [Theory]
    [InlineData("1e400", double.PositiveInfinity)]
    [InlineData("-1e400", double.NegativeInfinity)]
    [InlineData("-0", -0.0)]
    [InlineData("12345678901234567890", 12345678901234567890d)]
    [InlineData("2.5E-3", 0.0025)]
    public void A_number_literal_outside_the_usual_forms_keeps_the_value_double_parsing_gives(string text, double expected)
    {
        var element = JsonElement.Parse(text);
        Assert.Equal(expected, SampleFields.Of(Instance(JsonValue.Create(element))).Number);
    }

    [Fact]
    public void Numbers_built_in_code_booleans_and_text_give_their_samples()
    {
        Assert.Equal(3.0, SampleFields.Of(Instance(JsonValue.Create(3))).Number);
        Assert.Equal(3.25, SampleFields.Of(Instance(JsonValue.Create(3.25m))).Number);
        Assert.Equal(0.1, SampleFields.Of(Instance(JsonValue.Create(0.1))).Number);
        Assert.Equal(1.0, SampleFields.Of(Instance(JsonValue.Create(true))).Number);
        Assert.Equal(0.0, SampleFields.Of(Instance(JsonNode.Parse("false"))).Number);
        var text = SampleFields.Of(Instance(JsonNode.Parse("\"free\"")));
        Assert.Null(text.Number);
        Assert.Equal("free", text.Text);
        Assert.Equal("j:\"free\"", text.DistinctText);
    }
}
