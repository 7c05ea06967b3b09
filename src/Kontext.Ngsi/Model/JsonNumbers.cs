using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>
/// Reads a JSON number as a double whatever backs the node: nodes parsed from text hold a JsonElement, nodes built
/// in code hold an int, long, decimal... and JsonValue.TryGetValue&lt;double&gt; only converts the former.
/// </summary>
public static class JsonNumbers
{
    public static bool TryGetDouble(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) return false;
        if (v.TryGetValue(out value)) return true;
        return double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
