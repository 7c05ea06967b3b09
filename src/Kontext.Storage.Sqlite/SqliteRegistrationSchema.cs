namespace Kontext.Storage.Sqlite;

/// <summary>
/// Tables of the federation facet (context source registrations and the subscriptions to them), kept apart from
/// <see cref="SqliteSchema"/>. Registration subscriptions have the columns of entity subscriptions; their notifications
/// share the outbox, keyed by RegistrationSubscriptionKey.
/// </summary>
internal static class SqliteRegistrationSchema
{
    public const string Tables = """
        CREATE TABLE IF NOT EXISTS registrations(
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL,
            times_sent INTEGER NOT NULL DEFAULT 0,
            times_failed INTEGER NOT NULL DEFAULT 0,
            last_success TEXT,
            last_failure TEXT
        );
        CREATE TABLE IF NOT EXISTS csource_subscriptions(
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL,
            times_sent INTEGER NOT NULL DEFAULT 0,
            times_failed INTEGER NOT NULL DEFAULT 0,
            last_notification TEXT,
            last_success TEXT,
            last_failure TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_outbox_subscription ON outbox(subscription_id);
        """;
}
