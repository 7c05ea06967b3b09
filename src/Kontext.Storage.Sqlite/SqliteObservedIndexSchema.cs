namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step (issue 12, write path): <c>ix_instances_by_observed</c> holds only instances that have an
/// <c>observedAt</c>. An instance without one (a PATCH that gives only a value) put an entry with a NULL time at its
/// series' place in the index, one random B-tree page more per write that no read ever used: every reader of that
/// index asks <c>observed_at IS NOT NULL</c> (the temporal reads and aggregations, the bucket triggers), which is what
/// lets SQLite use a partial index for them.
/// </summary>
internal static class SqliteObservedIndexSchema
{
    public const string Tables = """
        DROP INDEX IF EXISTS ix_instances_by_observed;
        CREATE INDEX ix_instances_by_observed ON attribute_instances(sk, observed_at) WHERE observed_at IS NOT NULL;
        """;
}
