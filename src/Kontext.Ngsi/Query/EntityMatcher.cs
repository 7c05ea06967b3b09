using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// The one pure evaluator of <see cref="EntityQuery"/>: the in-memory store filters with it and subscriptions use it
/// to decide whether a changed entity is notified, so both agree by construction with what stores compile to their
/// query languages.
/// </summary>
public static class EntityMatcher
{
    public static bool Matches(Entity entity, EntityQuery query) =>
        (query.Selectors is null || query.Selectors.Any(s => s.Matches(entity)))
        && (query.Ids is null || query.Ids.Contains(entity.Id))
        // idPattern is a search, not a whole-string match (write ^...$ to anchor), like the common brokers.
        && (query.IdPattern is null || SafeRegex.IsMatch(query.IdPattern, entity.Id))
        && (query.Type is null || SelectorExpressions.Matches(query.Type, entity.Types))
        && (query.ScopeQ is null || SelectorExpressions.Matches(query.ScopeQ, entity.Scopes))
        && (query.Q is null || QEvaluator.Evaluate(query.Q, entity))
        && (query.Geo is null || GeoEvaluator.Matches(entity, query.Geo));
}
