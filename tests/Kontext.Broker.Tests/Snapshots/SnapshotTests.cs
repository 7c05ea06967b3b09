using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Snapshots;

/// <summary>Snapshots (clause 5.16) and queries scoped to them with NGSILD-Snapshot (clause 6.3.22).</summary>
[Collection(BrokerCollection.Name)]
public sealed class SnapshotTests(BrokerFixture fixture)
{
    private const string Base = "/ngsi-ld/v1/snapshots";
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "snap-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<(string Fast, string Slow)> CreateVehiclesAsync()
    {
        var (fast, slow) = (Api.NewId("Vehicle"), Api.NewId("Vehicle"));
        await _client.CreateOkAsync($$$$"""{"id":"{{{{fast}}}}","type":"Vehicle","speed":80}""", tenant: _tenant);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{slow}}}}","type":"Vehicle","speed":30}""", tenant: _tenant);
        return (fast, slow);
    }

    private async Task<(string Location, JsonObject Snapshot)> SnapshotAsync(string body)
    {
        var created = await _client.Send(HttpMethod.Post, Base, body, tenant: _tenant);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var location = created.Headers.Location!.ToString();
        for (var attempt = 0; ; attempt++)
        {
            var snapshot = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
            if (snapshot["snapshotStatus"]!.GetValue<string>() != "preparing" || attempt > 300) return (location, snapshot);
            await Task.Delay(50);
        }
    }

    private HttpRequestMessage InSnapshot(HttpMethod method, string url, string snapshotId, string? json = null)
    {
        var request = Api.Request(method, url, json, tenant: _tenant);
        request.Headers.Add("NGSILD-Snapshot", snapshotId);
        return request;
    }

    [Fact]
    public async Task A_snapshot_freezes_what_its_queries_matched()
    {
        var (fast, slow) = await CreateVehiclesAsync();

        var (_, snapshot) = await SnapshotAsync("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Vehicle"}],"q":"speed>50"}]}""");
        var id = snapshot["id"]!.GetValue<string>();
        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{fast}/attrs", """{"speed":{"type":"Property","value":10}}""", tenant: _tenant);

        snapshot["snapshotStatus"]!.GetValue<string>().Should().Be("success");
        snapshot["snapshotPriority"]!.GetValue<int>().Should().Be(5);
        snapshot["snapshotQueriesDetails"]![0]!["resultStatus"]!.GetValue<string>().Should().Be("success");
        snapshot["lastUsedAt"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        var query = await _client.SendAsync(InSnapshot(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", id));
        query.Headers.GetValues("NGSILD-Snapshot").Should().Equal(id);
        JsonNode.Parse(await query.Content.ReadAsStringAsync())!.AsArray().Select(e => e!["id"]!.GetValue<string>()).Should().Equal(fast);
        var frozen = await (await _client.SendAsync(InSnapshot(HttpMethod.Get, $"{Api.Entities}/{fast}", id))).JsonAsync();
        frozen["speed"]!["value"]!.GetValue<int>().Should().Be(80);
        (await _client.SendAsync(InSnapshot(HttpMethod.Get, $"{Api.Entities}/{slow}", id))).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_snapshot_is_read_only_and_an_unknown_one_is_404()
    {
        var (fast, _) = await CreateVehiclesAsync();
        var (_, snapshot) = await SnapshotAsync("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Vehicle"}]}]}""");

        var write = await _client.SendAsync(InSnapshot(HttpMethod.Patch, $"{Api.Entities}/{fast}/attrs", snapshot["id"]!.GetValue<string>(), """{"speed":1}"""));
        var unknown = await _client.SendAsync(InSnapshot(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", "urn:ngsi-ld:Snapshot:absent"));

        await write.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Theory]
    [InlineData("""{"type":"Snapshot"}""")]
    [InlineData("""{"type":"Snapshot","snapshotQueries":[]}""")]
    [InlineData("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"V"}],"temporalQ":{"timerel":"after","timeAt":"2020-01-01T00:00:00Z"}}]}""")]
    [InlineData("""{"type":"Snapshot","snapshotQueries":[{"type":"Query"}]}""")]
    [InlineData("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"V"}]}],"snapshotPriority":-1}""")]
    public async Task An_invalid_snapshot_is_400(string body)
    {
        await (await _client.Send(HttpMethod.Post, Base, body, tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Update_changes_the_priority_and_refuses_the_brokers_members()
    {
        await CreateVehiclesAsync();
        var (location, _) = await SnapshotAsync("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Vehicle"}]}]}""");

        var updated = await _client.Send(HttpMethod.Patch, location, """{"snapshotPriority":2}""", tenant: _tenant);
        var refused = await _client.Send(HttpMethod.Patch, location, """{"snapshotQueries":[]}""", tenant: _tenant);

        updated.StatusCode.Should().Be(HttpStatusCode.OK);
        (await updated.JsonAsync())["snapshotPriority"]!.GetValue<int>().Should().Be(2);
        await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_clone_outlives_its_original_and_purge_selects_by_snapshot_members()
    {
        await CreateVehiclesAsync();
        var (location, _) = await SnapshotAsync("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Vehicle"}]}],"snapshotPriority":3}""");

        var cloned = await _client.Send(HttpMethod.Post, location + "/clone", """{"type":"Snapshot","snapshotPriority":9}""", tenant: _tenant);
        cloned.StatusCode.Should().Be(HttpStatusCode.Created);
        var clone = await (await _client.Send(HttpMethod.Get, cloned.Headers.Location!.ToString(), tenant: _tenant)).JsonAsync();
        var purge = await _client.Send(HttpMethod.Delete, $"{Base}?q=snapshotPriority<5", tenant: _tenant);

        clone["snapshotPriority"]!.GetValue<int>().Should().Be(9);
        purge.StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        var inClone = await _client.SendAsync(InSnapshot(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", clone["id"]!.GetValue<string>()));
        JsonNode.Parse(await inClone.Content.ReadAsStringAsync())!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task A_purge_q_over_anything_but_snapshot_members_is_400_and_purges_nothing()
    {
        await CreateVehiclesAsync();
        var (location, _) = await SnapshotAsync("""{"type":"Snapshot","snapshotQueries":[{"type":"Query","entities":[{"type":"Vehicle"}]}]}""");

        await (await _client.Send(HttpMethod.Delete, $"{Base}?q=speed>50", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.Send(HttpMethod.Delete, location, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }
}
