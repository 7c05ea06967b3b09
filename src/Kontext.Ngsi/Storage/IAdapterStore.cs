namespace Kontext.Ngsi.Storage;

/// <summary>How adapter output of one entity type is checked against its smart-data-models schema.</summary>
public enum ValidationMode { Off, Warn, Enforce }

/// <summary>A payload the adapters could not turn into stored entities, kept with the reason so it can be replayed.</summary>
public sealed record DeadLetter
{
    public required string Id { get; init; }
    /// <summary>The tenant it was for; a store fills it in with its own name on read.</summary>
    public string? Tenant { get; init; }
    public required string Source { get; init; }
    /// <summary>Envelope kind: tts, chirpstack or json.</summary>
    public required string Kind { get; init; }
    public string? Device { get; init; }
    /// <summary>unmapped, mapping, validation, write or malformed.</summary>
    public required string Reason { get; init; }
    public required string Detail { get; init; }
    /// <summary>The envelope exactly as received.</summary>
    public required string Payload { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public int Attempts { get; init; } = 1;
    public DateTimeOffset LastAttemptAt { get; init; }
    /// <summary>pending, or replayed once a replay stored it.</summary>
    public string Status { get; init; } = "pending";
}

/// <summary>
/// The adapters' facet of a tenant's store: dead letters, duplicate-uplink keys and validation modes, kept in the tenant's
/// own database like its entities (D6), so every broker instance over one MongoDB sees the same claims and dead letters.
/// A store that keeps them exposes this as <see cref="ITenantStore.Adapters"/> (both stores do).
/// </summary>
public interface IAdapterStore
{
    /// <summary>
    /// Records (device, frame counter); false when it was already recorded within <paramref name="window"/> before
    /// <paramref name="now"/> (a duplicate). Atomic: of two instances claiming the same uplink at once, one wins.
    /// </summary>
    Task<bool> TryClaimUplinkAsync(string device, long frameCounter, DateTimeOffset now, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>Forgets a claim whose processing failed unexpectedly, so a retry of the uplink is not taken for a duplicate.</summary>
    Task ReleaseUplinkAsync(string device, long frameCounter, CancellationToken cancellationToken);

    Task AddDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken);
    Task UpdateDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken);
    Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken);
    /// <summary>Newest first; <paramref name="status"/> null lists every status.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? status, int limit, CancellationToken cancellationToken);
    Task<bool> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken);

    Task<ValidationMode?> GetValidationModeAsync(string type, CancellationToken cancellationToken);
    /// <summary>Sets the mode of a type; null removes it (the configured default applies again).</summary>
    Task SetValidationModeAsync(string type, ValidationMode? mode, CancellationToken cancellationToken);
    Task<IReadOnlyDictionary<string, ValidationMode>> ListValidationModesAsync(CancellationToken cancellationToken);
}
