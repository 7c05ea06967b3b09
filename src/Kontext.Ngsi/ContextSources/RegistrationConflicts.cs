using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// The overlap rule of proxied registrations (clause 4.3.6.3): once an exclusive registration exists for an entity and
/// some of its attributes, no further exclusive or redirect registration may cover that entity and any of those
/// attributes. Overlapping redirect registrations are allowed (operations then go to all of them), and inclusive and
/// auxiliary registrations never conflict.
/// </summary>
public static class RegistrationConflicts
{
    /// <summary>The first existing exclusive registration <paramref name="candidate"/> overlaps, or null.</summary>
    public static Registration? FindOverlap(Registration candidate, IEnumerable<Registration> existing, DateTimeOffset now)
    {
        if (candidate.Mode is not (RegistrationMode.Exclusive or RegistrationMode.Redirect)) return null;
        return existing.FirstOrDefault(other =>
            other.Mode == RegistrationMode.Exclusive && other.Id != candidate.Id && !other.IsExpired(now)
            && candidate.Information.Any(mine => other.Information.Any(theirs => Overlap(mine, theirs))));
    }

    private static bool Overlap(RegistrationInfo mine, RegistrationInfo theirs)
    {
        var attributes = mine.Attributes is not { } named || theirs.Attributes is not { } others || named.Overlaps(others);
        if (!attributes) return false;
        if (mine.Entities is null || theirs.Entities is null) return true;
        return mine.Entities.Any(entity => theirs.Entities.Any(Spec(entity).Matches));
    }

    private static EntitySpec Spec(EntityInfo info) =>
        new(new TypeOr(new(info.Types.Select(t => (TypeExpr)new TypeIs(t)))), info.Id is null ? null : [info.Id], info.IdPattern);
}
