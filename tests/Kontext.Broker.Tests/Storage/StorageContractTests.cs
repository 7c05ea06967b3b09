using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;

namespace Kontext.Broker.Tests.Storage;

/// <summary>
/// The storage contract: what every implementation of the port must do (D8). Each store gets a subclass that
/// says how to open it; the SQLite one always runs, a MongoDB one runs when KONTEXT_TEST_MONGO is set.
/// </summary>
public abstract class StorageContractTests : IAsyncLifetime
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

    private static Entity Parse(string json) =>
        EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    private static async Task CreateAsync(ITenantStore store, Entity entity)
    {
        await store.WriteAsync(entity.Id, current =>
        {
            if (current is not null) throw new NgsiException(NgsiError.AlreadyExists(entity.Id));
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
        }, default);
    }

    [ContractFact]
    public async Task Written_entity_reads_back_equal()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var entity = Parse("""{"id":"urn:ngsi-ld:T:1","type":["A","B"],"scope":"/x","p":{"type":"Property","value":{"deep":[1,2]},"observedAt":"2024-01-01T00:00:00Z"}}""");

        await CreateAsync(store, entity);
        var back = await store.GetEntityAsync("urn:ngsi-ld:T:1", default);

        back!.Types.Should().Equal(entity.Types);
        back.Scopes.Should().Equal("/x");
        JsonNode.DeepEquals(back.Attributes.Values.Single()[0]["value"], entity.Attributes.Values.Single()[0]["value"]).Should().BeTrue();
    }

    [ContractFact]
    public async Task Unknown_named_tenant_is_absent_until_created_and_the_default_always_exists()
    {
        (await Storage.GetTenantAsync("nobody", false, default)).Should().BeNull();
        (await Storage.GetTenantAsync(null, false, default)).Should().NotBeNull();
        (await Storage.GetTenantAsync("nobody", true, default)).Should().NotBeNull();
    }

    [ContractFact]
    public async Task Tenants_are_isolated()
    {
        var a = (await Storage.GetTenantAsync("a", true, default))!;
        var b = (await Storage.GetTenantAsync("b", true, default))!;

        await CreateAsync(a, Parse("""{"id":"urn:ngsi-ld:T:1","type":"T"}"""));

        (await b.GetEntityAsync("urn:ngsi-ld:T:1", default)).Should().BeNull();
    }

    [ContractFact]
    public async Task A_throwing_decision_writes_nothing_and_others_in_the_same_group_commit()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        var failing = store.WriteAsync<bool>("urn:ngsi-ld:T:bad", _ => throw NgsiException.BadRequestData("no"), default);
        var succeeding = Enumerable.Range(0, 20).Select(i => CreateAsync(store, Parse($$"""{"id":"urn:ngsi-ld:T:ok{{i}}","type":"T"}"""))).ToList();

        await FluentActions.Awaiting(() => failing).Should().ThrowAsync<NgsiException>();
        await Task.WhenAll(succeeding);

        (await store.GetEntityAsync("urn:ngsi-ld:T:bad", default)).Should().BeNull();
        for (var i = 0; i < 20; i++) (await store.GetEntityAsync($"urn:ngsi-ld:T:ok{i}", default)).Should().NotBeNull();
    }

    [ContractFact]
    public async Task Read_modify_write_is_serialized_per_entity()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:counter","type":"T","n":0}"""));

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => store.WriteAsync("urn:ngsi-ld:T:counter", current =>
        {
            var instance = current!.Attributes.Values.Single()[0];
            instance["value"] = instance["value"]!.GetValue<int>() + 1;
            return EntityWrite<bool>.Upsert(current, [], true);
        }, default)));

        var after = await store.GetEntityAsync("urn:ngsi-ld:T:counter", default);
        after!.Attributes.Values.Single()[0]["value"]!.GetValue<int>().Should().Be(50);
    }

    [ContractFact]
    public async Task Delete_removes_the_entity_and_logs_the_change()
    {
        var store = (await Storage.GetTenantAsync(null, true, default))!;
        await CreateAsync(store, Parse("""{"id":"urn:ngsi-ld:T:gone","type":"T","a":1}"""));

        await store.WriteAsync("urn:ngsi-ld:T:gone", _ => EntityWrite<bool>.Delete(true), default);

        (await store.GetEntityAsync("urn:ngsi-ld:T:gone", default)).Should().BeNull();
        var changes = await store.ReadChangesAsync(0, 10, default);
        changes.Select(c => c.Operation).Should().Equal("create", "delete");
        (await store.ReadHistoryAsync("urn:ngsi-ld:T:gone", null, default)).Select(h => h.Kind)
            .Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Deleted);
    }

    [ContractFact]
    public async Task Context_documents_are_kept()
    {
        await Storage.Contexts.PutAsync("https://example.org/c.jsonld", """{"@context":{}}""", default);
        (await Storage.Contexts.GetAsync("https://example.org/c.jsonld", default)).Should().Be("""{"@context":{}}""");
        (await Storage.Contexts.GetAsync("https://example.org/other.jsonld", default)).Should().BeNull();
    }
}

public sealed class SqliteStorageContractTests : StorageContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kontext-tests", "contract-" + Guid.NewGuid().ToString("N"));

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult<IEntityStorage>(new SqliteStorage(_directory));

    protected override Task CleanUpAsync()
    {
        try { Directory.Delete(_directory, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
