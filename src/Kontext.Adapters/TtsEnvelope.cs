using System.Text.Json.Nodes;

namespace Kontext.Adapters;

/// <summary>
/// The Things Stack v3 uplink message (webhook "uplink message" event, MQTT v3/{app}/devices/{dev}/up, storage):
/// end_device_ids.device_id / dev_eui, uplink_message.f_cnt / f_port / decoded_payload / received_at / version_ids /
/// locations. TTS omits zero values, so a missing f_cnt is frame 0.
/// </summary>
internal static class TtsEnvelope
{
    public static Uplink Parse(JsonNode? body)
    {
        var root = Envelope.Object(body, "body");
        var ids = Envelope.Object(root["end_device_ids"], "end_device_ids");
        var deviceId = Envelope.String(ids["device_id"], "end_device_ids.device_id")
                       ?? throw new EnvelopeException("'end_device_ids.device_id' is missing");
        var message = root["uplink_message"] is { } m
            ? Envelope.Object(m, "uplink_message")
            : throw new EnvelopeException("'uplink_message' is missing (only uplink message events are ingested)");
        var versions = message["version_ids"] as JsonObject;
        var brand = Envelope.String(versions?["brand_id"], "version_ids.brand_id");
        var model = Envelope.String(versions?["model_id"], "version_ids.model_id");
        return new Uplink
        {
            Kind = "tts",
            DeviceId = deviceId,
            DevEui = Envelope.Eui(Envelope.String(ids["dev_eui"], "end_device_ids.dev_eui"), "end_device_ids.dev_eui"),
            FrameCounter = Envelope.Integer(message["f_cnt"], "uplink_message.f_cnt") ?? 0,
            FPort = (int?)Envelope.Integer(message["f_port"], "uplink_message.f_port"),
            ReceivedAt = Envelope.Time(message["received_at"], "uplink_message.received_at")
                         ?? Envelope.Time(root["received_at"], "received_at") ?? DateTimeOffset.UtcNow,
            Model = brand is not null && model is not null ? $"{brand}/{model}" : null,
            Decoded = message["decoded_payload"] is { } decoded ? Envelope.Object(decoded, "uplink_message.decoded_payload") : null,
            Location = Location(message["locations"] as JsonObject),
        };
    }

    /// <summary>uplink_message.locations: the registry location ("user") first, then any other (frm-payload, gps, …).</summary>
    private static GeoPoint? Location(JsonObject? locations)
    {
        if (locations is null) return null;
        var ordered = locations.OrderBy(p => p.Key == "user" ? 0 : 1);
        foreach (var (_, value) in ordered)
            if (value is JsonObject l && Envelope.Point(l["latitude"], l["longitude"]) is { } point) return point;
        return null;
    }
}
