using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Query;

/// <summary>
/// The one pure evaluator of <see cref="EntityQuery"/>, the semantics every store must reproduce (D3): the SQLite and
/// MongoDB stores compile what they can to SQL / MongoDB filters and check each candidate with this, subscriptions decide
/// with it whether a changed entity is notified, temporal queries and snapshots filter with it. The pushdown differential
/// tests hold the compiled paths to it.
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
