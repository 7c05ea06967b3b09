using System.Text.Json.Nodes;

namespace Kontext.Adapters;

/// <summary>
/// ChirpStack v4 uplink event (HTTP integration POST ?event=up, MQTT application/{app}/device/{devEui}/event/up):
/// protobuf JSON mapping, camelCase; deviceInfo.devEui / deviceName / deviceProfileName, fCnt, fPort, time, object (the
/// codec's output). Zero values are omitted, so a missing fCnt is frame 0. Device tags "latitude"/"longitude" give a location.
/// </summary>
internal static class ChirpStackEnvelope
{
    public static Uplink Parse(JsonNode? body)
    {
        var root = Envelope.Object(body, "body");
        var info = Envelope.Object(root["deviceInfo"] ?? throw new EnvelopeException("'deviceInfo' is missing"), "deviceInfo");
        var devEui = Envelope.Eui(Envelope.String(info["devEui"], "deviceInfo.devEui"), "deviceInfo.devEui")
                     ?? throw new EnvelopeException("'deviceInfo.devEui' is missing");
        var tags = info["tags"] as JsonObject;
        return new Uplink
        {
            Kind = "chirpstack",
            DevEui = devEui,
            DeviceId = Envelope.String(info["deviceName"], "deviceInfo.deviceName"),
            DeviceProfile = Envelope.String(info["deviceProfileName"], "deviceInfo.deviceProfileName"),
            FrameCounter = Envelope.Integer(root["fCnt"], "fCnt") ?? 0,
            FPort = (int?)Envelope.Integer(root["fPort"], "fPort"),
            ReceivedAt = Envelope.Time(root["time"], "time") ?? DateTimeOffset.UtcNow,
            Decoded = root["object"] is { } decoded ? Envelope.Object(decoded, "object") : null,
            Location = Envelope.Point(tags?["latitude"], tags?["longitude"]),
        };
    }
}
