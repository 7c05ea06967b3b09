using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The writers' page caches are bounded across tenants, not only by the number of open tenants: at most
/// <see cref="SqliteStorageLimits.MaxLargeWriterCaches"/> writers keep the full 16 MiB, the others open with SQLite's default.
/// </summary>
public sealed class WriterCacheBoundTests : IAsyncLifetime
{
    private const long Full = -16384, Default = -2000; // PRAGMA cache_size: negative is KiB
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
    private SqliteStorage _storage = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private async Task<SqliteTenantStore> WrittenAsync(string tenant)
    {
        var store = (SqliteTenantStore)(await _storage.GetTenantAsync(tenant, create: true, default))!;
        var id = $"urn:ngsi-ld:T:{tenant}";
        await store.WriteAsync(id, _ => Kontext.Ngsi.Storage.EntityWrite<bool>.Upsert(
            new Kontext.Ngsi.Model.Entity(id) { Types = ["urn:T"], CreatedAt = DateTimeOffset.UtcNow, ModifiedAt = DateTimeOffset.UtcNow }, [], true), default);
        return store;
    }

    /// <summary>The page cache of the store's writer connection as SQLite reports it.</summary>
    private static Task<long> WriterCacheAsync(SqliteTenantStore store) => store.Writer.Enqueue(connection =>
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA cache_size";
        return (long)command.ExecuteScalar()!;
    }, default);

    [Fact]
    public async Task Writers_beyond_the_bound_open_with_the_default_cache()
    {
        _storage = new SqliteStorage(_directory, new SqliteStorageLimits(MaxOpenTenants: 8, MaxLargeWriterCaches: 2));
        var stores = new List<SqliteTenantStore>();
        for (var i = 0; i < 5; i++) stores.Add(await WrittenAsync($"w{i}"));

        var caches = new List<long>();
        foreach (var store in stores) caches.Add(await WriterCacheAsync(store));

        caches.Should().Equal(Full, Full, Default, Default, Default);
        _storage.WriterCaches.Holding.Should().Be(2);
    }

    [Fact]
    public async Task A_writer_that_closes_gives_its_full_cache_to_the_next_writer_that_opens()
    {
        _storage = new SqliteStorage(_directory, new SqliteStorageLimits(MaxOpenTenants: 8, MaxLargeWriterCaches: 1));
        var first = await WrittenAsync("first");
        var second = await WrittenAsync("second");
        (await WriterCacheAsync(second)).Should().Be(Default);

        first.CloseFiles(); // as the open-tenant bound or the idle sweep does; the writer closes after its queued work
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_storage.WriterCaches.Holding > 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        _storage.WriterCaches.Holding.Should().Be(0, "the closed writer gave its place back");

        (await WriterCacheAsync(await WrittenAsync("third"))).Should().Be(Full);
        (await WriterCacheAsync(second)).Should().Be(Default, "an open writer keeps the cache it opened with");
        (await WriterCacheAsync(first)).Should().Be(Default, "reopened, the first writer finds the one place taken");
    }
}
