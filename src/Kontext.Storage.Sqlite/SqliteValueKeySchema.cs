using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 13 (issue 12, writes at a million entities): <c>attribute_values</c> is a WITHOUT ROWID table keyed
/// <c>(ek, attr, n)</c>, n the row's ordinal among its attribute's value rows (0, 1, … in instance order). A rowid table
/// needed a second B-tree, the index <c>(ek, attr)</c>, to find an entity's rows: a new reading of one attribute read a
/// random page of that index and then a random page of the table. Keyed by the entity, the table is its own entity
/// index: one random page, and the file loses the index's entries (one per value row).
/// <para>
/// The step copies the rows in key order, numbering each attribute's rows in their old (rowid, so insertion) order, and
/// builds the two value indexes anew (they now end in (ek, n) instead of (ek, rowid)).
/// </para>
/// </summary>
internal static class SqliteValueKeySchema
{
    public const string Tables = """
        CREATE TABLE attribute_values_v13(
            ek INTEGER NOT NULL,
            attr INTEGER NOT NULL,
            n INTEGER NOT NULL,
            num REAL,
            str TEXT,
            PRIMARY KEY(ek, attr, n)
        ) WITHOUT ROWID;
        INSERT INTO attribute_values_v13(ek, attr, n, num, str)
            SELECT ek, attr, row_number() OVER (PARTITION BY ek, attr ORDER BY rowid) - 1, num, str FROM attribute_values ORDER BY ek, attr, rowid;
        DROP TABLE attribute_values;
        ALTER TABLE attribute_values_v13 RENAME TO attribute_values;
        CREATE INDEX ix_attribute_values_num ON attribute_values(attr, num, ek) WHERE num IS NOT NULL;
        CREATE INDEX ix_attribute_values_str ON attribute_values(attr, str, ek) WHERE str IS NOT NULL;
        """;

    /// <summary>
    /// The primary key's name for INDEXED BY: an entity's rows of one attribute, for a correlated look-up that SQLite
    /// might otherwise answer by scanning a value index for every entity.
    /// </summary>
    public const string EntityKey = "sqlite_autoindex_attribute_values_1";

    public static void Apply(SqliteConnection connection)
    {
        // A file whose version was reset (a test re-running a step below this one) may have the keyed table already.
        using (var probe = SqliteDatabase.Command(connection, "SELECT COUNT(*) FROM pragma_table_info('attribute_values') WHERE name = 'n'"))
            if ((long)probe.ExecuteScalar()! > 0) return;
        SqliteDatabase.Execute(connection, Tables);
    }
}
