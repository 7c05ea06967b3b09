namespace Kontext.Storage.Sqlite;

/// <summary>The tenant database layout. Entities as JSON documents with side tables that index every filter.</summary>
internal static class SqliteSchema
{
    // WAL lets readers run beside the single writer; synchronous=FULL makes an acknowledged commit survive power loss.
    public const string Pragmas = """
        PRAGMA journal_mode=WAL;
        PRAGMA synchronous=FULL;
        PRAGMA foreign_keys=OFF;
        PRAGMA busy_timeout=10000;
        """;

    /// <summary>
    /// The writer's connection:
    /// <list type="bullet">
    /// <item>a 16 MiB page cache (SQLite's default is 2 MiB): a write touches pages of a dozen B-trees, whose interior
    /// pages then stay cached. Not larger: a commit after any B-tree page split scans the whole cache (SQLite renumbers the
    /// new pages through a page number beyond the end of the file, and the commit drops pages beyond the end by walking its
    /// hash table), which with 64 MiB cost more than the reads it saved;</item>
    /// <item>statement journals in memory (temp_store): each job of a group runs in its own savepoint, and every page it
    /// changes that an earlier job of the group changed too is copied to the savepoint's journal first. On disk (SQLite's
    /// default past 64 KiB) that was 58 write calls and 240 KB per entity of a batch upsert. A journal lives only until
    /// its job's savepoint is released, so its memory is bounded by one job's pages.</item>
    /// <item>a checkpoint every 10,000 WAL pages (~40 MB; SQLite's default is 1,000): a checkpoint copies each page once
    /// however often the WAL holds it, so the hot pages (value indexes, the tails of append-only tables) are copied to the
    /// file once per 10,000 frames instead of once per 1,000, and the file is synced ten times less often. Durability is
    /// the WAL's (synchronous=FULL syncs it at every commit); the WAL file keeps its largest size between checkpoints.</item>
    /// </list>
    /// </summary>
    public const string WriterPragmas = """
        PRAGMA cache_size=-16384;
        PRAGMA temp_store=MEMORY;
        PRAGMA wal_autocheckpoint=10000;
        """;

    public const string Tables = """
        CREATE TABLE IF NOT EXISTS entities(
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS entity_types(
            type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            PRIMARY KEY(type, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_entity_types_entity ON entity_types(entity_id);
        CREATE TABLE IF NOT EXISTS entity_attributes(
            attr TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            kinds TEXT NOT NULL,
            PRIMARY KEY(attr, entity_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS attribute_values(
            attr TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            num REAL,
            str TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_attribute_values_num ON attribute_values(attr, num) WHERE num IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_attribute_values_str ON attribute_values(attr, str) WHERE str IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_attribute_values_entity ON attribute_values(entity_id);
        CREATE TABLE IF NOT EXISTS entity_geometries(
            rid INTEGER PRIMARY KEY,
            entity_id TEXT NOT NULL,
            attr TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_entity_geometries_entity ON entity_geometries(entity_id);
        CREATE VIRTUAL TABLE IF NOT EXISTS entity_bbox USING rtree(rid, min_x, max_x, min_y, max_y);
        -- Counters kept by every write, so /types and /attributes read a few rows instead of scanning entities.
        -- attr '' counts a type's entities; kind '*' counts the entities of a type having an attribute.
        CREATE TABLE IF NOT EXISTS type_statistics(
            type TEXT NOT NULL,
            attr TEXT NOT NULL,
            kind TEXT NOT NULL,
            entities INTEGER NOT NULL,
            PRIMARY KEY(type, attr, kind)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_entity_attributes_entity ON entity_attributes(entity_id);
        CREATE TABLE IF NOT EXISTS entity_scopes(
            scope TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            PRIMARY KEY(scope, entity_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_entity_scopes_entity ON entity_scopes(entity_id);
        CREATE TABLE IF NOT EXISTS attribute_instances(
            seq INTEGER PRIMARY KEY,
            entity_id TEXT NOT NULL,
            attr TEXT NOT NULL,
            dataset_id TEXT,
            instance_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            observed_at TEXT,
            modified_at TEXT NOT NULL,
            doc TEXT
        );
        CREATE INDEX IF NOT EXISTS ix_instances_by_modified ON attribute_instances(entity_id, attr, modified_at);
        CREATE INDEX IF NOT EXISTS ix_instances_by_observed ON attribute_instances(entity_id, attr, observed_at);
        CREATE TABLE IF NOT EXISTS change_log(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            entity_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            at TEXT NOT NULL,
            before_doc TEXT,
            after_doc TEXT
        );
        """;

    /// <summary>Subscriptions, the matcher's cursors and the notification outbox (D5).</summary>
    public const string NotificationTables = """
        CREATE TABLE IF NOT EXISTS subscriptions(
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
        CREATE TABLE IF NOT EXISTS cursors(
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS outbox(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            request TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_outbox_due ON outbox(next_attempt_at, seq);
        DROP INDEX IF EXISTS ix_outbox_endpoint;
        CREATE INDEX IF NOT EXISTS ix_outbox_subscription ON outbox(subscription_id, seq);
        """;

    public const string SystemTables = """
        CREATE TABLE IF NOT EXISTS context_documents(
            url TEXT PRIMARY KEY,
            document TEXT NOT NULL,
            stored_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS tenants(
            name TEXT PRIMARY KEY,
            file TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        """;
}
