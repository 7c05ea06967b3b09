using System.Text.Json.Nodes;

namespace Kontext.Adapters;

/// <summary>An uplink read out of its network-server envelope: who sent it, when it was received, and the decoded fields.</summary>
public sealed record Uplink
{
    /// <summary>tts, chirpstack or json.</summary>
    public required string Kind { get; init; }
    /// <summary>Device EUI, upper-case hex (null for plain JSON devices without one).</summary>
    public string? DevEui { get; init; }
    /// <summary>The network server's device id / name.</summary>
    public string? DeviceId { get; init; }
    public long? FrameCounter { get; init; }
    public int? FPort { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>"brand/model" (TTS version_ids, or the "model" of a plain JSON uplink).</summary>
    public string? Model { get; init; }
    /// <summary>ChirpStack device profile name.</summary>
    public string? DeviceProfile { get; init; }
    /// <summary>The decoder's output (TTS decoded_payload, ChirpStack object, plain JSON data); null when the network server decoded nothing.</summary>
    public JsonObject? Decoded { get; init; }
    /// <summary>Device location from the envelope, when it carries one.</summary>
    public GeoPoint? Location { get; init; }

    /// <summary>The device's identity for dedupe and dead letters.</summary>
    public string DeviceKey => DevEui ?? DeviceId ?? "unknown";

    public bool IsDevice(string idOrEui) =>
        string.Equals(DevEui, idOrEui, StringComparison.OrdinalIgnoreCase) || string.Equals(DeviceId, idOrEui, StringComparison.Ordinal);
}

/// <summary>The envelope is not what its source sends (400): missing ids, wrong JSON kinds.</summary>
public sealed class EnvelopeException(string message) : Exception(message);

/// <summary>Small readers shared by the envelope parsers.</summary>
internal static class Envelope
{
    public static JsonObject Object(JsonNode? node, string what) =>
        node as JsonObject ?? throw new EnvelopeException($"'{what}' must be a JSON object");

    public static string? String(JsonNode? node, string what) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new EnvelopeException($"'{what}' must be a string"),
    };

    public static long? Integer(JsonNode? node, string what) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d >= 0 => (long)d,
        JsonValue v when v.TryGetValue<string>(out var s) && long.TryParse(s, out var parsed) => parsed,
        _ => throw new EnvelopeException($"'{what}' must be an integer"),
    };

    public static DateTimeOffset? Time(JsonNode? node, string what)
    {
        var text = String(node, what);
        if (text is null) return null;
        return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUniversalTime()
            : throw new EnvelopeException($"'{what}' is not a timestamp");
    }

    public static double? Number(JsonNode? node) => node is JsonValue v
        ? v.TryGetValue<double>(out var d) ? d : v.TryGetValue<string>(out var s) && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d) ? d : null
        : null;

    public static GeoPoint? Point(JsonNode? latitude, JsonNode? longitude) =>
        Number(latitude) is { } lat && Number(longitude) is { } lon && lat is >= -90 and <= 90 && lon is >= -180 and <= 180 && (lat != 0 || lon != 0)
            ? new GeoPoint { Lat = lat, Lon = lon }
            : null;

    public static string? Eui(string? eui, string what)
    {
        if (eui is null) return null;
        if (eui.Length != 16 || !eui.All(Uri.IsHexDigit)) throw new EnvelopeException($"'{what}' must be 16 hex digits");
        return eui.ToUpperInvariant();
    }
}
