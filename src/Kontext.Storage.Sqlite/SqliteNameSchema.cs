using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step (issue 12, storage size): the index tables name a type or an attribute by a small integer from one
/// dictionary, <c>names</c>, instead of repeating its expanded IRI (~50 bytes) in every row and again in every index
/// entry. A value row becomes four numbers and a short text; a query resolves each IRI once per statement
/// (<c>(SELECT nid FROM names WHERE iri = …)</c>, a constant SQLite evaluates once). Names are never deleted: an id
/// keeps its meaning for the life of the file, so nothing can point at a reused id.
/// </summary>
internal static class SqliteNameSchema
{
    public const string Tables = """
        CREATE TABLE names(
            nid INTEGER PRIMARY KEY,
            iri TEXT NOT NULL UNIQUE
        );
        INSERT OR IGNORE INTO names(iri)
            SELECT type FROM entity_types UNION SELECT attr FROM entity_attributes
            UNION SELECT attr FROM attribute_values UNION SELECT attr FROM entity_geometries;

        CREATE TABLE entity_types_v7(
            type INTEGER NOT NULL,
            ek INTEGER NOT NULL,
            PRIMARY KEY(type, ek)
        ) WITHOUT ROWID;
        INSERT INTO entity_types_v7(type, ek) SELECT n.nid, t.ek FROM entity_types t JOIN names n ON n.iri = t.type;

        CREATE TABLE entity_attributes_v7(
            attr INTEGER NOT NULL,
            ek INTEGER NOT NULL,
            kinds TEXT NOT NULL,
            PRIMARY KEY(attr, ek)
        ) WITHOUT ROWID;
        INSERT INTO entity_attributes_v7(attr, ek, kinds) SELECT n.nid, a.ek, a.kinds FROM entity_attributes a JOIN names n ON n.iri = a.attr;

        CREATE TABLE attribute_values_v7(
            attr INTEGER NOT NULL,
            ek INTEGER NOT NULL,
            num REAL,
            str TEXT
        );
        INSERT INTO attribute_values_v7(attr, ek, num, str) SELECT n.nid, v.ek, v.num, v.str FROM attribute_values v JOIN names n ON n.iri = v.attr ORDER BY v.rowid;

        CREATE TABLE entity_geometries_v7(
            rid INTEGER PRIMARY KEY,
            ek INTEGER NOT NULL,
            attr INTEGER NOT NULL
        );
        INSERT INTO entity_geometries_v7(rid, ek, attr) SELECT g.rid, g.ek, n.nid FROM entity_geometries g JOIN names n ON n.iri = g.attr;

        DROP TABLE entity_types;
        DROP TABLE entity_attributes;
        DROP TABLE attribute_values;
        DROP TABLE entity_geometries;
        ALTER TABLE entity_types_v7 RENAME TO entity_types;
        ALTER TABLE entity_attributes_v7 RENAME TO entity_attributes;
        ALTER TABLE attribute_values_v7 RENAME TO attribute_values;
        ALTER TABLE entity_geometries_v7 RENAME TO entity_geometries;

        CREATE INDEX ix_entity_types_entity ON entity_types(ek);
        CREATE INDEX ix_entity_attributes_entity ON entity_attributes(ek);
        CREATE INDEX ix_attribute_values_entity ON attribute_values(ek, attr);
        CREATE INDEX ix_entity_geometries_entity ON entity_geometries(ek);
        CREATE INDEX ix_attribute_values_num ON attribute_values(attr, num, ek) WHERE num IS NOT NULL;
        CREATE INDEX ix_attribute_values_str ON attribute_values(attr, str, ek) WHERE str IS NOT NULL;
        """;

    /// <summary>The id of a stored name, as an SQL expression over the parameter <paramref name="iriParameter"/>: NULL when unknown.</summary>
    public static string IdOf(string iriParameter) => $"(SELECT nid FROM names WHERE iri = {iriParameter})";

    public static void Apply(SqliteConnection connection)
    {
        // A file whose version was reset (version 0 re-runs every step) may have the dictionary already.
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'names'"))
            if ((long)probe.ExecuteScalar()! > 0) return;
        SqliteDatabase.Execute(connection, Tables);
    }

    /// <summary>The id of <paramref name="iri"/>, added to the dictionary inside the caller's transaction when new.</summary>
    public static long Id(SqliteConnection connection, string iri)
    {
        // Kept per writer connection; a rollback forgets them all (SqliteDatabase.ConnectionState.JobRolledBack), since
        // a name added by a rolled-back write is gone and its id may be given to the next new name.
        var known = SqliteDatabase.State(connection).NameIds;
        if (known.TryGetValue(iri, out var id)) return id;
        id = SqliteDatabase.Cached(connection, "SELECT nid FROM names WHERE iri = $i", ("$i", iri)).ExecuteScalar() is long stored
            ? stored
            : (long)SqliteDatabase.Cached(connection, "INSERT INTO names(iri) VALUES($i) RETURNING nid", ("$i", iri)).ExecuteScalar()!;
        if (known.Count < 100_000) known[iri] = id; // bounded: a tenant with more names than that looks the rest up
        return id;
    }
}
