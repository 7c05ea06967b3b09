using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// The Conflict errors of Register Context Source (clause 5.9.2) for a registration that is otherwise valid: an exclusive or
/// redirect registration overlapping an existing exclusive one (clause 4.3.6.3); an exclusive registration over a local
/// entity that already has one of its attributes; a redirect registration over any local entity it matches (a proxied
/// source owns what it registers, so the broker must not hold it too). Checked before the write: two registrations
/// created at the same moment can both pass, which the spec's rule is not worth a lock for.
/// </summary>
internal static class RegistrationConflictCheck
{
    public static async Task CheckAsync(Registration candidate, IEnumerable<Registration> existing, ITenantStore entities, CancellationToken cancellationToken)
    {
        if (RegistrationConflicts.FindOverlap(candidate, existing, DateTimeOffset.UtcNow) is { } other)
            throw new NgsiException(NgsiError.Conflict(
                $"Conflict: the exclusive registration '{other.Id}' already covers these entities and attributes; no further exclusive or redirect registration can cover them"));
        if (candidate.Mode is not (RegistrationMode.Exclusive or RegistrationMode.Redirect)) return;
        foreach (var info in candidate.Information)
        {
            if (await LocalMatchAsync(candidate.Mode, info, entities, cancellationToken) is { } entityId)
                throw new NgsiException(NgsiError.Conflict(candidate.Mode == RegistrationMode.Exclusive
                    ? $"Conflict: the local entity '{entityId}' already has attributes this exclusive registration provides"
                    : $"Conflict: the local entity '{entityId}' matches this redirect registration"));
        }
    }

    /// <summary>The id of a local entity the registration info clashes with, or null.</summary>
    private static async Task<string?> LocalMatchAsync(RegistrationMode mode, RegistrationInfo info, ITenantStore entities, CancellationToken cancellationToken)
    {
        var attributes = info.Attributes;
        IEnumerable<EntityInfo?> entityInfos = (IEnumerable<EntityInfo?>?)info.Entities ?? [null]; // no entities: any entity with the attributes
        foreach (var entityInfo in entityInfos)
        {
            if (entityInfo?.Id is { } id)
            {
                var entity = await entities.GetEntityAsync(id, cancellationToken);
                if (entity is null || !entity.Types.Intersect(entityInfo.Types).Any()) continue;
                if (attributes is null ? mode == RegistrationMode.Redirect : attributes.Any(entity.Attributes.ContainsKey)) return id;
                continue;
            }
            if (mode == RegistrationMode.Exclusive) continue; // exclusive registrations always name their entities by id
            var query = new EntityQuery(
                Type: entityInfo is null ? null : new TypeOr(new(entityInfo.Types.Select(t => (TypeExpr)new TypeIs(t)))),
                IdPattern: entityInfo?.IdPattern);
            var page = await entities.QueryAsync(new EntityPageRequest(query, 0, 1, false, attributes), cancellationToken);
            if (page.Entities.Count > 0) return page.Entities[0].Id;
        }
        return null;
    }
}
