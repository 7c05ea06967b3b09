using Kontext.Storage.Tests.Mongo.Recording;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>The store starts only on a deployment it can run on: a replica set or sharded cluster of MongoDB 7.0+.</summary>
public sealed class MongoDeploymentTests
{
    private static readonly BsonDocument Standalone = new() { { "isWritablePrimary", true }, { "maxWireVersion", 25 }, { "ok", 1 } };

    [Fact]
    public void A_standalone_server_is_refused_with_what_to_do()
    {
        var server = new FakeMongoServer { Hello = Standalone };

        var start = () => new MongoStorage(server.Client, "kontext", null);

        start.Should().Throw<InvalidOperationException>()
            .WithMessage("*replica set or a sharded cluster*standalone mongod*--replSet*rs.initiate()*");
        server.Calls.Select(c => c.Command).Should().Equal("hello", "buildInfo");
    }

    [Theory]
    [InlineData("6.0.14")]
    [InlineData("5.0.0")]
    [InlineData("")]
    public void A_server_older_than_7_0_is_refused(string version) =>
        MongoDeployment.Problem(new BsonDocument("setName", "rs0"), version).Should().Contain("7.0 or later");

    [Theory]
    [InlineData("7.0.2")]
    [InlineData("8.0.4")]
    [InlineData("8.2.0-rc1")]
    public void A_replica_set_of_a_supported_version_is_accepted(string version) =>
        MongoDeployment.Problem(new BsonDocument("setName", "rs0"), version).Should().BeNull();

    [Fact]
    public void A_mongos_of_a_sharded_cluster_is_accepted() =>
        MongoDeployment.Problem(new BsonDocument("msg", "isdbgrid"), "7.0.12").Should().BeNull();

    [Fact]
    public async Task A_replica_set_gets_every_collection_created_before_the_first_transaction()
    {
        var server = new FakeMongoServer();
        await using var storage = new MongoStorage(server.Client, "kontext", null);

        var store = (await storage.GetTenantAsync(null, true, default))!;

        server.Collections("kontext").Select(c => c.Name).Should().Contain(
            ["entities", "attributeInstances", "changes", "counters", "subscriptions", "outbox", "cursors", "deletedEntities", "historyMarkers"]);
        server.Existing("kontext", "attributeInstances")!.IsTimeSeries.Should().BeFalse("a time-series collection takes no writes inside a transaction");
        store.Should().NotBeNull();
    }

    [Fact]
    public async Task Creating_a_tenant_beyond_MaxTenants_is_403_LimitExceeded_and_known_tenants_still_open()
    {
        var server = new FakeMongoServer();
        await using var storage = new MongoStorage(server.Client, "kontext", new MongoStoreOptions { MaxTenants = 2 });
        await storage.GetTenantAsync("a", create: true, default);
        await storage.GetTenantAsync("b", create: true, default);

        var third = async () => await storage.GetTenantAsync("c", create: true, default);

        (await third.Should().ThrowAsync<Kontext.Ngsi.Errors.NgsiException>()).Which.Error.Status.Should().Be(403);
        (await storage.GetTenantAsync("a", create: true, default)).Should().NotBeNull();
        (await storage.ListTenantsAsync(default)).Should().BeEquivalentTo(new string?[] { null, "a", "b" });
    }

    [Fact]
    public async Task A_history_collection_left_as_time_series_by_an_earlier_version_stops_the_start_with_a_clear_message()
    {
        var server = new FakeMongoServer();
        await server.Client.GetDatabase("kontext").CreateCollectionAsync("attributeInstances",
            new MongoDB.Driver.CreateCollectionOptions { TimeSeriesOptions = new MongoDB.Driver.TimeSeriesOptions("ts", "meta") });
        await using var storage = new MongoStorage(server.Client, "kontext", null);

        var open = () => storage.GetTenantAsync(null, true, default).AsTask();

        await open.Should().ThrowAsync<InvalidOperationException>().WithMessage("*attributeInstances is a time-series collection*drop it*");
    }
}
