using System.Text.Json.Nodes;

namespace Kontext.Adapters;

/// <summary>
/// Plain vendor JSON, for devices that are not behind a LoRaWAN network server:
/// { "deviceId": "...", "devEui"?: "...", "model"?: "brand/model", "receivedAt"?: ISO time, "frameCounter"?: n,
///   "location"?: { "lat": .., "lon": .. }, "data": { decoded fields } }. Without a frameCounter there is no dedupe.
/// </summary>
internal static class VendorJsonEnvelope
{
    public static Uplink Parse(JsonNode? body)
    {
        var root = Envelope.Object(body, "body");
        var deviceId = Envelope.String(root["deviceId"], "deviceId");
        var devEui = Envelope.Eui(Envelope.String(root["devEui"], "devEui"), "devEui");
        if (deviceId is null && devEui is null) throw new EnvelopeException("'deviceId' (or 'devEui') is missing");
        var location = root["location"] is JsonObject l ? Envelope.Point(l["lat"], l["lon"]) : null;
        return new Uplink
        {
            Kind = "json",
            DeviceId = deviceId,
            DevEui = devEui,
            Model = Envelope.String(root["model"], "model"),
            FrameCounter = Envelope.Integer(root["frameCounter"], "frameCounter"),
            ReceivedAt = Envelope.Time(root["receivedAt"], "receivedAt") ?? DateTimeOffset.UtcNow,
            Decoded = Envelope.Object(root["data"] ?? throw new EnvelopeException("'data' is missing"), "data"),
            Location = location,
        };
    }
}
