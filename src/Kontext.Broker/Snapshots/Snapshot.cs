using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Broker.Snapshots;

/// <summary>One query of a snapshot (a Query of clause 5.2.23 without temporalQ): the selection and its attrs filter.</summary>
internal sealed record SnapshotQuery(EntityQuery Query, IReadOnlySet<string>? AnyOf);

/// <summary>How one snapshot query went (snapshotQueriesDetails, clause 5.2.41).</summary>
internal sealed record SnapshotQueryResult(string Status, int Entities, string? Reason);

/// <summary>
/// A snapshot (clauses 5.2.41, 5.16): the queries as given, the frozen copy of the entities they matched when it was
/// taken, and the members the client may change (snapshotPriority, snapshotLifetime). The copy is immutable once filled;
/// a clone shares it.
/// </summary>
internal sealed class Snapshot
{
    public const string Preparing = "preparing", Success = "success", Partial = "partial", Empty = "empty", Failed = "failed";

    public required string Id { get; init; }
    public required string? Tenant { get; init; }
    /// <summary>The snapshotQueries member as the client wrote it (shown back unchanged).</summary>
    public required JsonArray QueriesJson { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public int Priority { get; set; } = 5;
    /// <summary>Seconds the snapshot lives after its last use (snapshotLifetime); null: until deleted.</summary>
    public double? Lifetime { get; set; }
    public DateTimeOffset ModifiedAt { get; set; }
    public DateTimeOffset LastUsedAt { get; set; }
    public string Status { get; set; } = Preparing;
    public IReadOnlyList<SnapshotQueryResult> Results { get; set; } = [];
    public IReadOnlyList<Entity> Entities { get; set; } = [];
    /// <summary>Completes when the copy is filled (or failed).</summary>
    public Task Ready { get; set; } = Task.CompletedTask;

    public bool IsExpired(DateTimeOffset now) => Lifetime is { } seconds && LastUsedAt.AddSeconds(seconds) <= now;

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["type"] = "Snapshot",
            ["snapshotQueries"] = QueriesJson.DeepClone(),
            ["snapshotPriority"] = Priority,
            ["snapshotStatus"] = Status,
            ["snapshotQueriesDetails"] = new JsonArray(Results.Select(r =>
            {
                var detail = new JsonObject { ["resultStatus"] = r.Status, ["entityCount"] = r.Entities };
                if (r.Reason is not null) detail["reason"] = r.Reason;
                return (JsonNode?)detail;
            }).ToArray()),
            ["lastUsedAt"] = Validate.Format(LastUsedAt),
            ["createdAt"] = Validate.Format(CreatedAt),
            ["modifiedAt"] = Validate.Format(ModifiedAt),
        };
        if (Lifetime is { } lifetime) json["snapshotLifetime"] = lifetime;
        return json;
    }

    /// <summary>The snapshot's members as Properties of an entity, for the purge q (clause 5.16.7), with core-context names.</summary>
    public Entity AsQueryTarget()
    {
        var target = new Entity(Id) { Types = ["https://uri.etsi.org/ngsi-ld/Snapshot"], CreatedAt = CreatedAt, ModifiedAt = ModifiedAt };
        void Put(string term, JsonNode value) =>
            target.Attributes["https://uri.etsi.org/ngsi-ld/" + term] = [new JsonObject { ["type"] = Attr.Property, ["value"] = value }];
        Put("snapshotPriority", Priority);
        Put("snapshotStatus", Status);
        Put("lastUsedAt", Validate.Format(LastUsedAt));
        if (Lifetime is { } lifetime) Put("snapshotLifetime", lifetime);
        return target;
    }

    /// <summary>The snapshot members a purge q may name (clause 5.16.7.4), as expanded by the core context.</summary>
    public static readonly IReadOnlySet<string> QueryableMembers = new HashSet<string>(StringComparer.Ordinal)
    {
        "https://uri.etsi.org/ngsi-ld/snapshotPriority", "https://uri.etsi.org/ngsi-ld/snapshotStatus",
        "https://uri.etsi.org/ngsi-ld/lastUsedAt", "https://uri.etsi.org/ngsi-ld/snapshotLifetime",
    };
}
