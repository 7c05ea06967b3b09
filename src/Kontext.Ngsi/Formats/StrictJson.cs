using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using Kontext.Ngsi.Errors;

namespace Kontext.Ngsi.Formats;

/// <summary>
/// The one way bodies from outside become JSON: RFC 8259 text that is also valid Unicode and has unique member names.
/// System.Text.Json alone accepts duplicate members and lone surrogate escapes and only fails on them when a value
/// is first read, deep inside a handler (a 500 after half the work was done); every such fault is found here instead.
/// </summary>
public static class StrictJson
{
    public const int MaxDepth = 64;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

    /// <summary>Parses UTF-8 JSON; any fault is 400 InvalidRequest naming what is wrong.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8) => Node(ParseElement(utf8));

    /// <summary>
    /// A node over parsed JSON, built lazily from it as <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/>
    /// builds it; the element stays as it was whatever is done to the node.
    /// </summary>
    public static JsonNode? Node(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => JsonObject.Create(element),
        JsonValueKind.Array => JsonArray.Create(element),
        JsonValueKind.Null => null,
        _ => JsonValue.Create(element),
    };

    /// <summary>A member of an object element that is present and not JSON null (as a node's indexer reads it: null either way).</summary>
    public static JsonElement? Member(JsonElement body, string member) =>
        body.TryGetProperty(member, out var element) && element.ValueKind != JsonValueKind.Null ? element : null;

    /// <summary>Parses UTF-8 JSON (see <see cref="Parse(ReadOnlySpan{byte})"/>) into an immutable element holding its own copy of the text.</summary>
    public static JsonElement ParseElement(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8)) throw NgsiException.InvalidRequest("The body is not valid UTF-8");
        if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF) utf8 = utf8[3..]; // a BOM is tolerated, not content
        try
        {
            if (utf8.IndexOf("\\u"u8) >= 0) RejectInvalidEscapes(utf8);
            return JsonElement.Parse(utf8, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw NgsiException.InvalidRequest($"The body is not valid JSON: {Describe(ex)}");
        }
    }

    /// <summary>Parses JSON text (already a .NET string, e.g. a stored payload) under the same rules.</summary>
    public static JsonNode? Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    /// <summary>An escaped string or member name must decode to valid UTF-16: "\udcff" alone is not text.</summary>
    private static void RejectInvalidEscapes(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped) continue;
            try { reader.GetString(); }
            catch (InvalidOperationException)
            {
                throw NgsiException.InvalidRequest($"The body holds an escaped string that is not valid Unicode (a lone surrogate) at byte {reader.TokenStartIndex}");
            }
        }
    }

    // The exception text of System.Text.Json ends with a path and position that help; keep it, but on one line.
    private static string Describe(JsonException ex) => ex.Message.ReplaceLineEndings(" ");
}

/// <summary>
/// Reads JSON the broker wrote itself (stored entities, history, subscriptions, outbox messages). Accepted input is at
/// most <see cref="StrictJson.MaxDepth"/> deep, but the stored form wraps it a few levels deeper (attribute lists,
/// instances, @value objects), so stored documents are read with room to spare: a deep value accepted once must
/// never make its entity, or the tenant's notifications, unreadable.
/// </summary>
public static class StoredJson
{
    public const int MaxDepth = StrictJson.MaxDepth * 4;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    public static JsonNode? Parse(string json) => JsonNode.Parse(json, documentOptions: Options);

    public static JsonNode? Parse(ReadOnlySpan<byte> utf8) => JsonNode.Parse(utf8, documentOptions: Options);
}
