using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>The SQLite store keeps the number of tenant databases holding files open bounded.</summary>
public sealed class OpenTenantBoundTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
    private SqliteStorage _storage = null!;

    public Task InitializeAsync()
    {
        _storage = new SqliteStorage(_directory, new SqliteStorageLimits(MaxTenants: 100, MaxOpenTenants: 3));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static Kontext.Ngsi.Storage.EntityWrite<bool> Create(string id) =>
        Kontext.Ngsi.Storage.EntityWrite<bool>.Upsert(
            new Kontext.Ngsi.Model.Entity(id) { Types = ["urn:T"], CreatedAt = DateTimeOffset.UtcNow, ModifiedAt = DateTimeOffset.UtcNow }, [], true);

    [Fact]
    public async Task Twenty_tenants_written_in_turn_leave_at_most_three_open_and_each_reopens_on_use()
    {
        for (var i = 0; i < 20; i++)
        {
            var store = (await _storage.GetTenantAsync($"t{i}", create: true, default))!;
            await store.WriteAsync($"urn:ngsi-ld:T:{i}", _ => Create($"urn:ngsi-ld:T:{i}"), default);
            _storage.OpenTenantCount.Should().BeLessThanOrEqualTo(3);
        }

        for (var i = 0; i < 20; i++)
        {
            var store = (await _storage.GetTenantAsync($"t{i}", create: false, default))!;
            (await store.GetEntityAsync($"urn:ngsi-ld:T:{i}", default)).Should().NotBeNull();
        }
        _storage.OpenTenantCount.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task A_tenant_the_bound_closed_counts_as_open_again_when_it_is_read()
    {
        var stores = new List<SqliteTenantStore>();
        for (var i = 0; i < 4; i++)
        {
            var store = (SqliteTenantStore)(await _storage.GetTenantAsync($"c{i}", create: true, default))!;
            await store.WriteAsync($"urn:ngsi-ld:T:{i}", _ => Create($"urn:ngsi-ld:T:{i}"), default);
            stores.Add(store);
        }
        var closed = stores.Single(s => !s.CountedOpen); // the least recently used of four, beyond the bound of three

        (await closed.GetEntityAsync($"urn:ngsi-ld:T:{stores.IndexOf(closed)}", default)).Should().NotBeNull();

        closed.CountedOpen.Should().BeTrue("a read of a store the bound closed counts it again (the lock-free look passes only counted stores)");
        stores.Count(s => s.CountedOpen).Should().Be(3, "another one was closed for it");
        _storage.OpenTenantCount.Should().Be(3);
    }

    [Fact]
    public async Task Tenants_survive_a_restart_through_the_registry_even_with_hashed_file_names()
    {
        var longName = new string('.', 120);
        var store = (await _storage.GetTenantAsync(longName, create: true, default))!;
        await store.WriteAsync("urn:ngsi-ld:T:long", _ => Create("urn:ngsi-ld:T:long"), default);
        await _storage.DisposeAsync();

        _storage = new SqliteStorage(_directory);

        (await _storage.ListTenantsAsync(default)).Should().Contain(longName);
        var reopened = (await _storage.GetTenantAsync(longName, create: false, default))!;
        (await reopened.GetEntityAsync("urn:ngsi-ld:T:long", default)).Should().NotBeNull();
    }

    [Fact]
    public void File_names_stay_short_for_every_accepted_tenant_name()
    {
        foreach (var name in new[] { new string('.', 128), new string('%', 128), new string('a', 128), "urn:ngsi-ld:tenant:x" })
        {
            var file = SqliteStorage.FileName(name);
            file.Length.Should().BeLessThanOrEqualTo(100);
            file.Should().EndWith(".db").And.StartWith("tenant-");
        }
        SqliteStorage.FileName(new string('.', 128)).Should().NotBe(SqliteStorage.FileName(new string('.', 127)));
    }
}
