namespace Kontext.Broker.EntityMaps;

/// <summary>The "Kontext:EntityMaps" section: how many Entity maps a tenant may hold and how long they live (docs/federation.md).</summary>
public sealed class EntityMapOptions
{
    /// <summary>Lifetime of a map whose request gives no entityMapLifetime.</summary>
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Longest lifetime granted; a longer entityMapLifetime or expiresAt is shortened to it.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Most live maps one tenant holds; making one more drops the map nearest to its expiry.</summary>
    public int MaxMapsPerTenant { get; set; } = 1000;

    /// <summary>Most entities one map holds: a query matching more is TooManyResults (as a distributed query is).</summary>
    public int MaxEntities { get; set; } = 10_000;
}
