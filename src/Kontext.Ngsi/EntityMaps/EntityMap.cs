using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.EntityMaps;

/// <summary>
/// An Entity map (clauses 5.2.39, 5.5.14): the entities a query matched when the map was made, each with where it came
/// from (the ids of the registrations whose sources answered it, <see cref="Local"/> for this broker's own data), in the
/// order the first result had. A later query that names the map considers these entities only, so its pages stay
/// consistent while sources and data change (clause 5.5.9.3). Immutable: a change makes a new map with the same id.
/// </summary>
public sealed record EntityMap(string Id, DateTimeOffset ExpiresAt, IReadOnlyList<EntityMapEntry> Entries, bool Temporal)
{
    /// <summary>The source of an entity held locally (the JSON-LD "@none" of clause 5.2.39).</summary>
    public const string Local = "@none";

    public const string IdPrefix = "urn:ngsi-ld:EntityMap:";

    public bool IsExpired(DateTimeOffset now) => ExpiresAt <= now;

    public IReadOnlySet<string> EntityIds => Entries.Select(e => e.EntityId).ToHashSet(StringComparer.Ordinal);

    /// <summary>The map without the entities that no longer fit its query (clause 5.5.9.3: removed during pagination).</summary>
    public EntityMap Keeping(IReadOnlySet<string> stillMatching) =>
        Entries.All(e => stillMatching.Contains(e.EntityId)) ? this : this with { Entries = Entries.Where(e => stillMatching.Contains(e.EntityId)).ToList() };

    /// <summary>The EntityMap data type of clause 5.2.39.</summary>
    public JsonObject ToJson()
    {
        var map = new JsonObject();
        foreach (var entry in Entries) map[entry.EntityId] = new JsonArray(entry.Sources.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        return new JsonObject
        {
            ["id"] = Id,
            ["type"] = "EntityMap",
            ["expiresAt"] = Validate.Format(ExpiresAt),
            ["entityMap"] = map,
            ["linkedMaps"] = new JsonObject(),
        };
    }

    /// <summary>
    /// The expiry of a map asked to live <paramref name="requested"/> (entityMapLifetime, an ISO 8601 duration), or to end
    /// at <paramref name="requestedEnd"/>; the broker bounds it (Table 6.4.3.2-1: it sets the actual expiresAt, "possibly
    /// overriding the requested duration").
    /// </summary>
    public static DateTimeOffset Expiry(DateTimeOffset now, DateTimeOffset? requestedEnd, TimeSpan standard, TimeSpan longest)
    {
        var end = requestedEnd ?? now + standard;
        return end > now + longest ? now + longest : end;
    }

    /// <summary>entityMapLifetime: an ISO 8601 duration; anything else is BadRequestData.</summary>
    public static DateTimeOffset LifetimeEnd(string text, DateTimeOffset now)
    {
        IsoDuration duration;
        try { duration = IsoDuration.Parse(text); }
        catch (NgsiException) { throw NgsiException.BadRequestData($"entityMapLifetime '{text}' is not an ISO 8601 duration (e.g. PT1H)"); }
        if (duration.IsZero) throw NgsiException.BadRequestData("entityMapLifetime must be longer than zero");
        try { return duration.AddTo(now); }
        catch (ArgumentOutOfRangeException) { return DateTimeOffset.MaxValue; }
    }
}

/// <summary>One entity of an <see cref="EntityMap"/> and the sources that provided it.</summary>
public sealed record EntityMapEntry(string EntityId, IReadOnlyList<string> Sources);
