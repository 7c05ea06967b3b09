using Kontext.Storage.Tests.Mongo;
using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;

namespace Kontext.Storage.Tests;

/// <summary>
/// The adapters' facet of the storage port (<see cref="IAdapterStore"/>): duplicate-uplink claims, dead letters and
/// validation modes, each tenant's own. One suite, one subclass per store: SQLite always, MongoDB over the recording fake
/// always, a real MongoDB when KONTEXT_TEST_MONGO is set.
/// </summary>
public abstract class AdapterStoreContractTests : IAsyncLifetime
{
    protected IEntityStorage Storage { get; private set; } = null!;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync() => Storage = await OpenAsync();

    public async Task DisposeAsync()
    {
        await Storage.DisposeAsync();
        await CleanUpAsync();
    }

    protected async Task<IAdapterStore> TenantAsync(string? tenant) => (await Storage.GetTenantAsync(tenant, true, default))!.Adapters!;

    protected static DeadLetter Letter(string id, DateTimeOffset at, string status = "pending") => new()
    {
        Id = id, Source = "ttn", Kind = "tts", Device = "70B3D57BA0000001", Reason = "unmapped", Detail = "no mapping", Payload = """{"a":1}""",
        ReceivedAt = at, LastAttemptAt = at, Status = status,
    };

    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromDays(2);

    [ContractFact]
    public async Task A_claim_is_won_once_within_the_window_and_again_after_it()
    {
        var store = await TenantAsync("claims");

        (await store.TryClaimUplinkAsync("dev", 7, Now, Window, default)).Should().BeTrue();
        (await store.TryClaimUplinkAsync("dev", 7, Now.AddHours(1), Window, default)).Should().BeFalse("the same frame within the window is a duplicate");
        (await store.TryClaimUplinkAsync("dev", 8, Now.AddHours(1), Window, default)).Should().BeTrue("another frame counter");
        (await store.TryClaimUplinkAsync("other", 7, Now.AddHours(1), Window, default)).Should().BeTrue("another device");
        (await store.TryClaimUplinkAsync("dev", 7, Now + Window + TimeSpan.FromMinutes(1), Window, default)).Should().BeTrue("the first claim expired");
        (await store.TryClaimUplinkAsync("dev", 7, Now + Window + TimeSpan.FromMinutes(2), Window, default)).Should().BeFalse("the renewed claim holds");
    }

    [ContractFact]
    public async Task A_released_claim_can_be_claimed_again()
    {
        var store = await TenantAsync("claims");
        (await store.TryClaimUplinkAsync("dev", 1, Now, Window, default)).Should().BeTrue();

        await store.ReleaseUplinkAsync("dev", 1, default);

        (await store.TryClaimUplinkAsync("dev", 1, Now, Window, default)).Should().BeTrue();
    }

    [ContractFact]
    public async Task Concurrent_claims_of_one_uplink_have_exactly_one_winner()
    {
        var store = await TenantAsync("race");

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.TryClaimUplinkAsync("dev", 42, Now, Window, default))));

        claims.Count(c => c).Should().Be(1);
    }

    [ContractFact]
    public async Task Dead_letters_are_listed_newest_first_by_status_updated_and_deleted()
    {
        var store = await TenantAsync("letters");
        await store.AddDeadLetterAsync(Letter("a", Now), default);
        await store.AddDeadLetterAsync(Letter("b", Now.AddSeconds(1)), default);
        await store.AddDeadLetterAsync(Letter("c", Now.AddSeconds(2)), default);

        (await store.ListDeadLettersAsync(null, 100, default)).Select(l => l.Id).Should().Equal("c", "b", "a");
        (await store.ListDeadLettersAsync(null, 2, default)).Select(l => l.Id).Should().Equal("c", "b");

        var b = (await store.GetDeadLetterAsync("b", default))!;
        b.Tenant.Should().Be("letters");
        b.Device.Should().Be("70B3D57BA0000001");
        b.ReceivedAt.Should().Be(Now.AddSeconds(1));
        b.Payload.Should().Be("""{"a":1}""");
        await store.UpdateDeadLetterAsync(b with { Status = "replayed", Attempts = 2, LastAttemptAt = Now.AddMinutes(5), Reason = "mapping" }, default);

        var updated = (await store.GetDeadLetterAsync("b", default))!;
        updated.Status.Should().Be("replayed");
        updated.Attempts.Should().Be(2);
        updated.LastAttemptAt.Should().Be(Now.AddMinutes(5));
        updated.Reason.Should().Be("mapping");
        (await store.ListDeadLettersAsync("pending", 100, default)).Select(l => l.Id).Should().Equal("c", "a");
        (await store.ListDeadLettersAsync("replayed", 100, default)).Select(l => l.Id).Should().Equal("b");

        (await store.DeleteDeadLetterAsync("a", default)).Should().BeTrue();
        (await store.DeleteDeadLetterAsync("a", default)).Should().BeFalse();
        (await store.GetDeadLetterAsync("a", default)).Should().BeNull();
    }

    [ContractFact]
    public async Task Validation_modes_are_set_replaced_listed_and_removed()
    {
        var store = await TenantAsync("modes");
        (await store.GetValidationModeAsync("FloodMonitoring", default)).Should().BeNull();

        await store.SetValidationModeAsync("FloodMonitoring", ValidationMode.Enforce, default);
        await store.SetValidationModeAsync("WasteContainer", ValidationMode.Off, default);
        await store.SetValidationModeAsync("FloodMonitoring", ValidationMode.Warn, default);

        (await store.GetValidationModeAsync("FloodMonitoring", default)).Should().Be(ValidationMode.Warn);
        (await store.ListValidationModesAsync(default)).Should().BeEquivalentTo(new Dictionary<string, ValidationMode>
        {
            ["FloodMonitoring"] = ValidationMode.Warn, ["WasteContainer"] = ValidationMode.Off,
        });
        await store.SetValidationModeAsync("FloodMonitoring", null, default);
        (await store.GetValidationModeAsync("FloodMonitoring", default)).Should().BeNull();
        (await store.ListValidationModesAsync(default)).Keys.Should().Equal("WasteContainer");
    }

    [ContractFact]
    public async Task Adapter_state_is_the_tenants_own()
    {
        var city = await TenantAsync("city");
        var other = await TenantAsync("other");
        var fallback = await TenantAsync(null);

        await city.AddDeadLetterAsync(Letter("x", Now), default);
        await city.SetValidationModeAsync("T", ValidationMode.Enforce, default);
        (await city.TryClaimUplinkAsync("dev", 1, Now, Window, default)).Should().BeTrue();

        foreach (var store in new[] { other, fallback })
        {
            (await store.GetDeadLetterAsync("x", default)).Should().BeNull();
            (await store.ListDeadLettersAsync(null, 100, default)).Should().BeEmpty();
            (await store.GetValidationModeAsync("T", default)).Should().BeNull();
            (await store.TryClaimUplinkAsync("dev", 1, Now, Window, default)).Should().BeTrue("a claim in one tenant is no duplicate in another");
        }
        await fallback.AddDeadLetterAsync(Letter("y", Now), default);
        (await fallback.GetDeadLetterAsync("y", default))!.Tenant.Should().BeNull("the default tenant");
    }
}

public sealed class SqliteAdapterStoreContractTests : AdapterStoreContractTests
{
    private readonly SqliteTestDirectory _directory = new("adapter-contract");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();
}

/// <summary>The MongoDB store's adapter facet over the recording fake: runs everywhere, checks the store's logic (not the server's).</summary>
public sealed class FakeMongoAdapterStoreContractTests : AdapterStoreContractTests
{
    private readonly FakeMongoServer _server = new();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(_server.Client, "kontext", new MongoStoreOptions()));

    protected override Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>Two instances (two stores over one database): a claim taken at one is a duplicate at the other, a dead letter kept at one is found and updated at the other.</summary>
    [Fact]
    public async Task Two_instances_share_claims_dead_letters_and_modes()
    {
        await using var b = new MongoStorage(_server.Client, "kontext", new MongoStoreOptions { InstanceId = "b" });
        await AdapterStoreTwoInstances.ShareAsync(await TenantAsync("both-instances"), (await b.GetTenantAsync("both-instances", true, default))!.Adapters!);
    }
}

[RequiresEnvironment(MongoStorageContractTests.Variable, "KONTEXT_TEST_MONGO is not set: no MongoDB server on this machine")]
public sealed class MongoAdapterStoreContractTests : AdapterStoreContractTests
{
    private readonly MongoTestDatabase _database = new();

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new MongoStorage(_database.ConnectionString));

    protected override Task CleanUpAsync() => _database.DropAsync();

    [ContractFact]
    public async Task Two_instances_share_claims_dead_letters_and_modes()
    {
        await using var b = new MongoStorage(_database.ConnectionString, new MongoStoreOptions { InstanceId = "b" });
        await AdapterStoreTwoInstances.ShareAsync(await TenantAsync("both-instances"), (await b.GetTenantAsync("both-instances", true, default))!.Adapters!);
    }
}

internal static class AdapterStoreTwoInstances
{
    public static async Task ShareAsync(IAdapterStore a, IAdapterStore b)
    {
        var now = DateTimeOffset.UtcNow;
        (await a.TryClaimUplinkAsync("dev", 9, now, TimeSpan.FromDays(2), default)).Should().BeTrue();
        (await b.TryClaimUplinkAsync("dev", 9, now, TimeSpan.FromDays(2), default)).Should().BeFalse("the other instance claimed it");

        await a.AddDeadLetterAsync(new DeadLetter
        {
            Id = "letter-of-both", Source = "ttn", Kind = "tts", Reason = "unmapped", Detail = "d", Payload = "{}", ReceivedAt = now, LastAttemptAt = now,
        }, default);
        var seen = await b.GetDeadLetterAsync("letter-of-both", default);
        seen.Should().NotBeNull();
        await b.UpdateDeadLetterAsync(seen! with { Status = "replayed", Attempts = 2 }, default);
        (await a.GetDeadLetterAsync("letter-of-both", default))!.Status.Should().Be("replayed");

        await b.SetValidationModeAsync("T", ValidationMode.Enforce, default);
        (await a.GetValidationModeAsync("T", default)).Should().Be(ValidationMode.Enforce);
    }
}
