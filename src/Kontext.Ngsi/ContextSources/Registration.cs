using System.Text.Json.Nodes;
using Kontext.Ngsi.Temporal;
using NetTopologySuite.Geometries;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// A context source registration (CSourceRegistration, clause 5.2.9), validated. <see cref="Document"/> is the registration
/// in expanded form (D1): entity types, property and relationship names and the names of extra Context Source Properties
/// are full IRIs; every other member keeps its core name and the value as written. It is what the stores keep and what is
/// compacted again for each reader (<see cref="RegistrationRenderer"/>).
/// </summary>
public sealed record Registration(
    string Id,
    IReadOnlyList<RegistrationInfo> Information,
    Uri Endpoint,
    RegistrationMode Mode,
    IReadOnlyList<string> Operations,
    string? Tenant,
    TimeInterval? ObservationInterval,
    TimeInterval? ManagementInterval,
    IReadOnlyDictionary<string, Geometry> Geometries,
    DateTimeOffset? ExpiresAt,
    IReadOnlyList<KeyValuePair<string, string>> ContextSourceInfo,
    IReadOnlyList<string>? Scopes,
    RegistrationManagement Management,
    IsoDuration? RefreshRate,
    string? ContextSourceAlias,
    JsonObject Document)
{
    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } expires && expires <= now;

    /// <summary>True when the registration offers <paramref name="operation"/> (by name or through one of its groups).</summary>
    public bool Supports(string operation) => RegistrationOperations.Covers(Operations, operation);
}

/// <summary>The modes of clause 4.3.6: inclusive (the default), exclusive, redirect, auxiliary.</summary>
public enum RegistrationMode { Inclusive, Exclusive, Redirect, Auxiliary }

/// <summary>RegistrationInfo (clause 5.2.10): which entities and attributes the source provides; null lists mean "any".</summary>
public sealed record RegistrationInfo(
    IReadOnlyList<EntityInfo>? Entities,
    IReadOnlySet<string>? PropertyNames,
    IReadOnlySet<string>? RelationshipNames)
{
    /// <summary>The attributes named by the registration, or null when it names none (then it covers every attribute).</summary>
    public IReadOnlySet<string>? Attributes =>
        PropertyNames is null && RelationshipNames is null
            ? null
            : (PropertyNames ?? new HashSet<string>()).Concat(RelationshipNames ?? new HashSet<string>()).ToHashSet(StringComparer.Ordinal);
}

/// <summary>EntityInfo (clause 5.2.8): one or more expanded types, and optionally an id or an id pattern.</summary>
public sealed record EntityInfo(IReadOnlyList<string> Types, string? Id, string? IdPattern);

/// <summary>TimeInterval (clause 5.2.11): startAt and an optional endAt.</summary>
public sealed record TimeInterval(DateTimeOffset StartAt, DateTimeOffset? EndAt);

/// <summary>
/// RegistrationManagementInfo (clause 5.2.34): localOnly, cacheDuration, and the timeout and cooldown (milliseconds) a
/// broker honours when it forwards to the source.
/// </summary>
public sealed record RegistrationManagement(bool? LocalOnly, IsoDuration? CacheDuration, double? TimeoutMs, double? CooldownMs)
{
    public static RegistrationManagement None { get; } = new(null, null, null, null);
}
