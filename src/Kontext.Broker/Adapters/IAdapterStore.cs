namespace Kontext.Broker.Adapters;

/// <summary>How adapter output of one entity type is checked against its smart-data-models schema.</summary>
public enum ValidationMode { Off, Warn, Enforce }

/// <summary>A payload the adapters could not turn into stored entities, kept with the reason so it can be replayed.</summary>
public sealed record DeadLetter
{
    public required string Id { get; init; }
    public string? Tenant { get; init; }
    public required string Source { get; init; }
    /// <summary>Envelope kind: tts, chirpstack or json.</summary>
    public required string Kind { get; init; }
    public string? Device { get; init; }
    /// <summary>unmapped, mapping, validation or write.</summary>
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
/// The adapters' own state — dead letters, duplicate-uplink keys, validation modes — kept apart from the entity store
/// (its own database), so that another backend (MongoDB) can implement it later.
/// </summary>
public interface IAdapterStore : IAsyncDisposable
{
    /// <summary>Records (tenant, device, frame counter); false when it was already recorded within the window (a duplicate).</summary>
    Task<bool> TryClaimUplinkAsync(string? tenant, string device, long frameCounter, DateTimeOffset now, TimeSpan window, CancellationToken cancellationToken);

    /// <summary>Forgets a claim whose processing failed unexpectedly, so a retry of the uplink is not taken for a duplicate.</summary>
    Task ReleaseUplinkAsync(string? tenant, string device, long frameCounter, CancellationToken cancellationToken);

    Task AddDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken);
    Task UpdateDeadLetterAsync(DeadLetter letter, CancellationToken cancellationToken);
    Task<DeadLetter?> GetDeadLetterAsync(string id, CancellationToken cancellationToken);
    /// <summary>Newest first; <paramref name="status"/> null lists every status.</summary>
    Task<IReadOnlyList<DeadLetter>> ListDeadLettersAsync(string? tenant, string? status, int limit, CancellationToken cancellationToken);
    Task<bool> DeleteDeadLetterAsync(string id, CancellationToken cancellationToken);

    Task<ValidationMode?> GetValidationModeAsync(string? tenant, string type, CancellationToken cancellationToken);
    Task SetValidationModeAsync(string? tenant, string type, ValidationMode? mode, CancellationToken cancellationToken);
    Task<IReadOnlyDictionary<string, ValidationMode>> ListValidationModesAsync(string? tenant, CancellationToken cancellationToken);
}
