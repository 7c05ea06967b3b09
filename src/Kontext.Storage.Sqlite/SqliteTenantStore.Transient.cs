using System.Runtime.CompilerServices;
using Kontext.Ngsi.Model;

namespace Kontext.Storage.Sqlite;

/// <summary>The expiry reaper's start-up scan: the documents that name expiresAt, read by windows of entity keys.</summary>
internal sealed partial class SqliteTenantStore
{
    /// <summary>
    /// Keys per window: each is one short read (its own snapshot, so a long scan never holds back a checkpoint) that
    /// seeks to its first key, whatever the size of the table.
    /// </summary>
    private const long TransientScanWindow = 10_000;

    public async IAsyncEnumerable<Entity> ReadTransientCandidatesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long last;
        await using (var reader = await RentReaderAsync(cancellationToken))
            last = reader.Command("SELECT coalesce(max(ek), 0) FROM entities").ExecuteScalar() is long max ? max : 0;
        // A transient entity written after the reaper's seed is in the change log, which the reaper follows from there.
        for (var from = 0L; from < last; from += TransientScanWindow)
        {
            var found = new List<Entity>();
            await using (var reader = await RentReaderAsync(cancellationToken))
            {
                // The test runs in SQLite: a durable document is never copied out (the compact form keeps the name expiresAt).
                await using var rows = await reader.Command(
                    $"SELECT doc FROM entities WHERE ek > $from AND ek <= $to AND instr(doc, '{SqliteEntityForm.ExpiresAtMember}') > 0 ORDER BY ek",
                    ("$from", from), ("$to", from + TransientScanWindow)).ExecuteReaderAsync(cancellationToken);
                while (await rows.ReadAsync(cancellationToken)) found.Add(SqliteEntityForm.Decode(rows.GetFieldValue<byte[]>(0)));
            }
            foreach (var entity in found) yield return entity;
        }
    }
}
