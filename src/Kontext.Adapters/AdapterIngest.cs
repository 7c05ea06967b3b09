using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kontext.Adapters;

public enum IngestStatus { Stored, Duplicate, DeadLettered, Rejected, Ignored }

/// <summary>A finding of the schema check, for one entity.</summary>
public sealed record EntityFinding(string EntityId, string Type, string Path, string Message);

public sealed record IngestResult(IngestStatus Status, IReadOnlyList<string> EntityIds, IReadOnlyList<EntityFinding> Findings,
    DeadLetter? DeadLetter = null)
{
    public static readonly IngestResult Duplicate = new(IngestStatus.Duplicate, [], []);
    public static readonly IngestResult Ignored = new(IngestStatus.Ignored, [], []);
}

/// <summary>
/// The ingest pipeline shared by the webhook endpoints, the MQTT ingest and replay: envelope → dedupe → mapping →
/// schema check (off / warn / enforce per tenant and type) → write. Whatever cannot be mapped, fails enforce, or fails to
/// write is kept as a dead letter with its reason, so nothing is lost. Claims, dead letters and modes are the tenant's own
/// (<see cref="AdapterStores"/>).
/// </summary>
public sealed class AdapterIngest(
    MappingCatalog mappings, MappingEngine engine, SchemaRegistry schemas, AdapterEntityWriter writer, AdapterStores stores,
    IOptions<AdapterOptions> options, ILogger<AdapterIngest> logger)
{
    public static Uplink ParseEnvelope(string kind, JsonNode? body) => kind switch
    {
        "tts" => TtsEnvelope.Parse(body),
        "chirpstack" => ChirpStackEnvelope.Parse(body),
        "json" => VendorJsonEnvelope.Parse(body),
        _ => throw new EnvelopeException($"unknown envelope kind '{kind}'"),
    };

    /// <summary>Envelope text under the broker's strict JSON rules (duplicate members, invalid Unicode: a 400-worthy fault).</summary>
    private static Uplink ParseEnvelope(string kind, string payload)
    {
        JsonNode? body;
        try { body = StrictJson.Parse(payload); }
        catch (NgsiException ex) { throw new EnvelopeException(ex.Error.Detail); }
        return ParseEnvelope(kind, body);
    }

    /// <summary>Parses raw envelope text (400-worthy faults throw <see cref="EnvelopeException"/>) and ingests it.</summary>
    public async Task<IngestResult> IngestAsync(string source, string kind, string? tenant, string payload, CancellationToken ct)
    {
        var uplink = ParseEnvelope(kind, payload);
        var store = await stores.CreateAsync(tenant, ct);

        var claimed = false;
        if (uplink.FrameCounter is { } fCnt)
        {
            claimed = await store.TryClaimUplinkAsync(uplink.DeviceKey, fCnt, DateTimeOffset.UtcNow, options.Value.DedupeWindow, ct);
            if (!claimed)
            {
                logger.LogInformation("Duplicate uplink from {Device} frame {FrameCounter} via {Source} ignored", uplink.DeviceKey, fCnt, source);
                AdapterMeters.Uplink(source, "duplicate");
                return IngestResult.Duplicate;
            }
        }
        try
        {
            var outcome = await ProcessAsync(uplink, tenant, ct);
            if (outcome.Failure is not { } failure)
            {
                AdapterMeters.Uplink(source, outcome.Result!.Status == IngestStatus.Stored ? "stored" : "ignored");
                return outcome.Result!;
            }
            var now = DateTimeOffset.UtcNow;
            var letter = new DeadLetter
            {
                Id = Guid.NewGuid().ToString("N"), Tenant = tenant, Source = source, Kind = kind, Device = uplink.DeviceKey,
                Reason = failure.Reason, Detail = failure.Detail, Payload = payload, ReceivedAt = now, LastAttemptAt = now,
            };
            await store.AddDeadLetterAsync(letter, ct);
            logger.LogWarning("Uplink from {Device} via {Source} dead-lettered ({Reason}): {Detail}", uplink.DeviceKey, source, failure.Reason, failure.Detail);
            AdapterMeters.Uplink(source, failure.Reason == "validation" ? "rejected" : "dead_lettered");
            AdapterMeters.DeadLettered(source, failure.Reason);
            return new IngestResult(failure.Reason == "validation" ? IngestStatus.Rejected : IngestStatus.DeadLettered, [], failure.Findings, letter);
        }
        catch when (claimed)
        {
            await store.ReleaseUplinkAsync(uplink.DeviceKey, uplink.FrameCounter!.Value, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Retries a dead letter (after a mapping or schema fix): stored → marked replayed; failing again → reason and attempts updated.</summary>
    public async Task<(DeadLetter Letter, IngestResult Result)> ReplayAsync(DeadLetter letter, CancellationToken ct)
    {
        var uplink = ParseEnvelope(letter.Kind, letter.Payload);
        var outcome = await ProcessAsync(uplink, letter.Tenant, ct);
        var now = DateTimeOffset.UtcNow;
        DeadLetter updated;
        IngestResult result;
        if (outcome.Failure is { } failure)
        {
            updated = letter with { Reason = failure.Reason, Detail = failure.Detail, Attempts = letter.Attempts + 1, LastAttemptAt = now };
            result = new IngestResult(failure.Reason == "validation" ? IngestStatus.Rejected : IngestStatus.DeadLettered, [], failure.Findings, updated);
        }
        else
        {
            updated = letter with { Status = "replayed", Attempts = letter.Attempts + 1, LastAttemptAt = now };
            result = outcome.Result! with { DeadLetter = updated };
        }
        await (await stores.CreateAsync(letter.Tenant, ct)).UpdateDeadLetterAsync(updated, ct);
        return (updated, result);
    }

    /// <summary>
    /// Keeps a message no sender will see rejected (MQTT has no reply: an envelope that does not parse) as a dead letter of
    /// reason "malformed", for inspection.
    /// </summary>
    public async Task<DeadLetter> KeepMalformedAsync(string source, string kind, string? tenant, string payload, string detail, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var letter = new DeadLetter
        {
            Id = Guid.NewGuid().ToString("N"), Tenant = tenant, Source = source, Kind = kind, Device = null,
            Reason = "malformed", Detail = detail, Payload = payload, ReceivedAt = now, LastAttemptAt = now,
        };
        await (await stores.CreateAsync(tenant, ct)).AddDeadLetterAsync(letter, ct);
        return letter;
    }

    private sealed record Failure(string Reason, string Detail, IReadOnlyList<EntityFinding> Findings);

    private async Task<(IngestResult? Result, Failure? Failure)> ProcessAsync(Uplink uplink, string? tenant, CancellationToken ct)
    {
        var mapping = mappings.Find(uplink);
        if (mapping is null)
            return (null, new Failure("unmapped",
                $"no mapping matches device {uplink.DeviceKey} (model {uplink.Model ?? "-"}, device profile {uplink.DeviceProfile ?? "-"})", []));
        if (uplink.Decoded is null)
            return (null, new Failure("mapping", $"the uplink of device {uplink.DeviceKey} has no decoded payload (no payload formatter / codec on the network server)", []));

        IReadOnlyList<MappedEntity> entities;
        try { entities = engine.Map(uplink, mapping); }
        catch (MappingException ex) { return (null, new Failure("mapping", $"mapping '{mapping.Name}': {ex.Message}", [])); }

        var warnings = new List<EntityFinding>();
        var violations = new List<EntityFinding>();
        foreach (var entity in entities)
        {
            var mode = await ModeAsync(tenant, entity.Type, ct);
            if (mode == ValidationMode.Off) continue;
            var findings = await schemas.ValidateAsync(entity.Type, entity.KeyValues);
            var asEntity = findings.Select(f => new EntityFinding(entity.Id, entity.Type, f.Path, f.Message));
            (mode == ValidationMode.Enforce ? violations : warnings).AddRange(asEntity);
        }
        if (violations.Count > 0)
            return (null, new Failure("validation", "schema violations: " + string.Join("; ", violations.Select(v => $"{v.Type} {v.Path}: {v.Message}")), violations));
        foreach (var warning in warnings)
            logger.LogWarning("Adapter output {EntityId} ({Type}) does not match its schema at {Path}: {Message}", warning.EntityId, warning.Type, warning.Path, warning.Message);

        try
        {
            await writer.WriteAsync(tenant, entities, ct);
        }
        catch (NgsiException ex)
        {
            return (null, new Failure("write", ex.Error.Detail, []));
        }
        return (new IngestResult(IngestStatus.Stored, entities.Select(e => e.Id).ToList(), warnings), null);
    }

    public async Task<ValidationMode> ModeAsync(string? tenant, string type, CancellationToken ct) =>
        await (await stores.CreateAsync(tenant, ct)).GetValidationModeAsync(type, ct)
        ?? (Enum.TryParse<ValidationMode>(options.Value.DefaultValidation, ignoreCase: true, out var mode) ? mode : ValidationMode.Warn);
}
