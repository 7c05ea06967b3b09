using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema version 6 (issue 12): the index tables name an entity by an integer key, <c>entities.ek</c> (an INTEGER
/// PRIMARY KEY, so the rowid itself, and kept by VACUUM), instead of its text id. A count then intersects integers read
/// from covering indexes and never looks an entity up; a row of the value index is 3 columns of numbers and short text.
/// The step rebuilds the entity table (rowids become ek, so creation order is kept) and each index table from the old rows.
/// </summary>
internal static class SqliteEntityKeySchema
{
    public const string Tables = """
        CREATE TABLE entities_v6(
            ek INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        INSERT INTO entities_v6(ek, id, doc, created_at, modified_at) SELECT rowid, id, doc, created_at, modified_at FROM entities ORDER BY rowid;

        CREATE TABLE entity_types_v6(
            type TEXT NOT NULL,
            ek INTEGER NOT NULL,
            PRIMARY KEY(type, ek)
        ) WITHOUT ROWID;
        INSERT INTO entity_types_v6(type, ek) SELECT t.type, e.ek FROM entity_types t JOIN entities_v6 e ON e.id = t.entity_id;

        CREATE TABLE entity_attributes_v6(
            attr TEXT NOT NULL,
            ek INTEGER NOT NULL,
            kinds TEXT NOT NULL,
            PRIMARY KEY(attr, ek)
        ) WITHOUT ROWID;
        INSERT INTO entity_attributes_v6(attr, ek, kinds) SELECT a.attr, e.ek, a.kinds FROM entity_attributes a JOIN entities_v6 e ON e.id = a.entity_id;

        CREATE TABLE entity_scopes_v6(
            scope TEXT NOT NULL,
            ek INTEGER NOT NULL,
            PRIMARY KEY(scope, ek)
        ) WITHOUT ROWID;
        INSERT INTO entity_scopes_v6(scope, ek) SELECT s.scope, e.ek FROM entity_scopes s JOIN entities_v6 e ON e.id = s.entity_id;

        CREATE TABLE attribute_values_v6(
            attr TEXT NOT NULL,
            ek INTEGER NOT NULL,
            num REAL,
            str TEXT
        );
        INSERT INTO attribute_values_v6(attr, ek, num, str) SELECT v.attr, e.ek, v.num, v.str FROM attribute_values v JOIN entities_v6 e ON e.id = v.entity_id ORDER BY v.rowid;

        CREATE TABLE entity_geometries_v6(
            rid INTEGER PRIMARY KEY,
            ek INTEGER NOT NULL,
            attr TEXT NOT NULL
        );
        INSERT INTO entity_geometries_v6(rid, ek, attr) SELECT g.rid, e.ek, g.attr FROM entity_geometries g JOIN entities_v6 e ON e.id = g.entity_id;

        DROP TABLE entities;
        DROP TABLE entity_types;
        DROP TABLE entity_attributes;
        DROP TABLE entity_scopes;
        DROP TABLE attribute_values;
        DROP TABLE entity_geometries;
        ALTER TABLE entities_v6 RENAME TO entities;
        ALTER TABLE entity_types_v6 RENAME TO entity_types;
        ALTER TABLE entity_attributes_v6 RENAME TO entity_attributes;
        ALTER TABLE entity_scopes_v6 RENAME TO entity_scopes;
        ALTER TABLE attribute_values_v6 RENAME TO attribute_values;
        ALTER TABLE entity_geometries_v6 RENAME TO entity_geometries;

        -- Led by ek: a write's own rows, and the per-entity look-ups of the creation-order walk.
        CREATE INDEX ix_entity_types_entity ON entity_types(ek);
        CREATE INDEX ix_entity_attributes_entity ON entity_attributes(ek);
        CREATE INDEX ix_entity_scopes_entity ON entity_scopes(ek);
        CREATE INDEX ix_attribute_values_entity ON attribute_values(ek, attr);
        CREATE INDEX ix_entity_geometries_entity ON entity_geometries(ek);
        -- Ending in ek, so a comparison's matching entities are read from the index alone.
        CREATE INDEX ix_attribute_values_num ON attribute_values(attr, num, ek) WHERE num IS NOT NULL;
        CREATE INDEX ix_attribute_values_str ON attribute_values(attr, str, ek) WHERE str IS NOT NULL;
        """;

    public static void Apply(SqliteConnection connection)
    {
        // A file whose version was reset (version 0 re-runs every step) may have the keys already.
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM pragma_table_info('entities') WHERE name = 'ek'"))
            if ((long)probe.ExecuteScalar()! > 0) return;
        SqliteDatabase.Execute(connection, Tables);
        // Dropping the old entity table dropped its triggers.
        SqliteDatabase.Execute(connection, SqliteTemporalSchema.Tables);
    }
}
