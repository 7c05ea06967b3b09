using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Storage.Sqlite;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>A broker with small caps, so each cap can be reached in a test.</summary>
public sealed class SmallLimitsFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Limits:MaxTenants"] = "3",
    ["Kontext:Limits:MaxSubscriptionsPerTenant"] = "2",
    ["Kontext:Limits:MaxOpenTenants"] = "2",
    ["Kontext:Adapters:AdminApiKey"] = "admin-key",
});

/// <summary>Every resource a caller can create has a cap with a clear 4xx when reached (D12).</summary>
public sealed class ResourceLimitTests(SmallLimitsFixture fixture) : IClassFixture<SmallLimitsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private static string Subscription(string id) => $$$$"""
        {"id":"{{{{id}}}}","type":"Subscription","entities":[{"type":"T"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}
        """;

    private static HttpRequestMessage Admin(HttpRequestMessage request)
    {
        request.Headers.Add("X-Admin-Key", "admin-key");
        return request;
    }

    [Fact]
    public async Task Adapter_validation_mode_with_a_text_body_is_415()
    {
        var response = await _client.SendAsync(Admin(Api.Request(HttpMethod.Put, "/adapters/validation/T", "mode=off", contentType: "text/plain")));

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
    }

    [Fact]
    public async Task Adapter_validation_mode_with_a_huge_body_is_413()
    {
        var response = await _client.SendAsync(Admin(Api.Request(HttpMethod.Put, "/adapters/validation/T", $$"""{"mode":"off","pad":"{{new string('x', 100_000)}}"}""")));

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
    }

    [Fact]
    public async Task Creating_a_tenant_beyond_MaxTenants_is_403_LimitExceeded_and_existing_tenants_keep_working()
    {
        var created = new List<string>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            var tenant = $"cap-{i}-{Guid.NewGuid():N}"[..20];
            var response = await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""", tenant: tenant);
            if (response.StatusCode == HttpStatusCode.Created) created.Add(tenant);
            else refused = response;
        }

        refused.Should().NotBeNull("at most 3 tenants may exist");
        await refused!.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        created.Should().HaveCountLessThanOrEqualTo(3);
        foreach (var tenant in created)
            (await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""", tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""")).StatusCode.Should().Be(HttpStatusCode.Created, "the default tenant is not counted");
    }

    [Fact]
    public async Task A_third_subscription_in_a_tenant_is_403_LimitExceeded()
    {
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap1"))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap2"))).StatusCode.Should().Be(HttpStatusCode.Created);

        var third = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap3"));

        await third.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:cap3")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}

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
