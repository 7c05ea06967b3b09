using Kontext.Broker.Ogc;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.Tests.Ogc;

/// <summary>When collections and extents computed from a tenant's data may be reused (<see cref="TenantChanges"/>).</summary>
public sealed class OgcReuseTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.Parse("2025-05-20T08:00:00Z");
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class Storage(bool shared) : IEntityStorage
    {
        public event Action<string?>? Committed;
        public void Commit(string? tenant) => Committed?.Invoke(tenant);
        public bool SharedByProcesses => shared;
        public IContextDocumentStore Contexts => throw new NotSupportedException();
        public ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void A_result_is_reused_until_the_tenant_commits_and_only_that_tenant_counts()
    {
        var storage = new Storage(shared: false);
        var clock = new Clock();
        var changes = new TenantChanges(storage, clock);
        var stamp = changes.Now("city");
        clock.Now = clock.Now.AddDays(1);
        changes.IsCurrent("city", stamp).Should().BeTrue("nothing was written to city, however long ago");
        storage.Commit("harbour");
        changes.IsCurrent("city", stamp).Should().BeTrue();
        storage.Commit("city");
        changes.IsCurrent("city", stamp).Should().BeFalse();
        var defaultStamp = changes.Now(null);
        storage.Commit(null);
        changes.IsCurrent(null, defaultStamp).Should().BeFalse();
    }

    [Fact]
    public void Over_a_store_shared_by_processes_a_result_is_reused_for_a_few_seconds_at_most()
    {
        var clock = new Clock();
        var changes = new TenantChanges(new Storage(shared: true), clock);
        var stamp = changes.Now("city");
        clock.Now += TenantChanges.SharedStoreReuse - TimeSpan.FromMilliseconds(1);
        changes.IsCurrent("city", stamp).Should().BeTrue();
        clock.Now += TimeSpan.FromMilliseconds(1);
        changes.IsCurrent("city", stamp).Should().BeFalse("another instance may have written meanwhile");
    }
}
