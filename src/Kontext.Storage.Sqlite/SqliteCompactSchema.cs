using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Schema step 10 (issue 12, storage size): the bucket times as integer milliseconds (<see cref="SqliteBucketSchema.BySeriesInMilliseconds"/>).
/// </summary>
internal static class SqliteCompactSchema
{
    public static void Apply(SqliteConnection connection)
    {
        SqliteBucketSchema.ApplyMilliseconds(connection);
    }
}
