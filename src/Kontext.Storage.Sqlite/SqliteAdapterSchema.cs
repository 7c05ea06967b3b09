namespace Kontext.Storage.Sqlite;

/// <summary>
/// Tables of the adapters' facet (<see cref="Kontext.Ngsi.Storage.IAdapterStore"/>) in the tenant's own database, kept
/// apart from <see cref="SqliteSchema"/>: duplicate-uplink claims, dead letters (seq orders them newest first) and
/// validation modes per entity type.
/// </summary>
internal static class SqliteAdapterSchema
{
    public const string Tables = """
        CREATE TABLE IF NOT EXISTS adapter_uplinks(
            device TEXT NOT NULL,
            fcnt INTEGER NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY(device, fcnt)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS adapter_dead_letters(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            device TEXT,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            payload TEXT NOT NULL,
            received_at TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_attempt_at TEXT NOT NULL,
            status TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_adapter_dead_letters_status ON adapter_dead_letters(status, seq);
        CREATE TABLE IF NOT EXISTS adapter_validation_modes(
            type TEXT PRIMARY KEY,
            mode TEXT NOT NULL
        );
        """;
}
