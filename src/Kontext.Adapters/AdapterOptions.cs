namespace Kontext.Adapters;

/// <summary>The "Kontext:Adapters" section: vendor ingest endpoints, mappings, schema validation (docs/adapters.md).</summary>
public sealed class AdapterOptions
{
    /// <summary>Smart-data-models schemas, their refs.json and the SDM @context files (relative paths: content root, then its parents).</summary>
    public string SchemaDirectory { get; set; } = "schemas";

    /// <summary>One mapping file per device model (*.yaml, *.yml, *.json).</summary>
    public string MappingDirectory { get; set; } = "mappings";

    /// <summary>Validation of adapter output when no per-tenant/type mode is set: off, warn or enforce.</summary>
    public string DefaultValidation { get; set; } = "warn";

    /// <summary>
    /// The admin endpoints (dead letters, validation modes, mappings) accept this key in X-Admin-Key, besides an admin
    /// principal (Kontext:Auth). Without either they answer 403: they are never open.
    /// </summary>
    public string? AdminApiKey { get; set; }

    /// <summary>How long a (device, frame counter) pair is remembered for duplicate detection.</summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromDays(2);

    /// <summary>Ingest sources by name: POST /adapters/{kind}/{name}.</summary>
    public Dictionary<string, AdapterSourceOptions> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public MqttIngestOptions Mqtt { get; set; } = new();
}

public sealed class AdapterSourceOptions
{
    /// <summary>tts (The Things Stack v3 webhook), chirpstack (ChirpStack v4 HTTP integration) or json (plain vendor JSON).</summary>
    public string Kind { get; set; } = "json";

    /// <summary>The header carrying the secret; "Authorization" accepts "Bearer &lt;secret&gt;".</summary>
    public string Header { get; set; } = "X-Api-Key";

    /// <summary>The shared secret. A source without one accepts nothing (401).</summary>
    public string? Secret { get; set; }

    /// <summary>NGSI-LD tenant the entities are written to (null: default tenant).</summary>
    public string? Tenant { get; set; }

    public long MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Token bucket: sustained uplinks per minute (and burst size) before 429.</summary>
    public int RequestsPerMinute { get; set; } = 600;
}

public sealed class MqttIngestOptions
{
    /// <summary>Broker host of the network server's MQTT integration; unset disables MQTT ingest.</summary>
    public string? Host { get; set; }
    public int Port { get; set; } = 1883;
    public string? Username { get; set; }
    public string? Password { get; set; }
    /// <summary>
    /// MQTT client id. Unique per process by default: two broker instances with one fixed id would keep disconnecting
    /// each other (both then receive every uplink; duplicates are dropped by the frame-counter check).
    /// </summary>
    public string ClientId { get; set; } = $"kontext-adapters-{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Topic filters, e.g. v3/+/devices/+/up (TTS) or application/+/device/+/event/up (ChirpStack).</summary>
    public List<string> Topics { get; set; } = [];

    /// <summary>The source (from Sources) whose tenant and limits apply; its kind is taken from the topic shape.</summary>
    public string Source { get; set; } = "mqtt";
}
