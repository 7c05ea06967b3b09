using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// A snapshot's queries follow the behaviour of Query Entities (clause 5.16.1.4 → 5.7.2.4): the background fill asks the
/// registered context sources too, and a query that yields nothing makes the snapshot partial.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedSnapshotTests(FederatedBrokers fx)
{
    private const string Snapshots = "/ngsi-ld/v1/snapshots";
    private readonly string _tenant = "fsnap-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Tram" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private async Task<JsonObject> SnapshotAsync(string queries)
    {
        var created = await Region.Send(HttpMethod.Post, Snapshots, """{"type":"Snapshot","snapshotQueries":""" + queries + "}", tenant: _tenant);
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        for (var attempt = 0; ; attempt++)
        {
            var snapshot = await (await Region.Send(HttpMethod.Get, created.Headers.Location!.ToString(), tenant: _tenant)).JsonAsync();
            if (snapshot["snapshotStatus"]!.GetValue<string>() != "preparing" || attempt > 600) return snapshot;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_snapshot_holds_the_entities_a_context_source_answers_for_its_query()
    {
        var (local, remote, slow) = (Api.NewId(_type), Api.NewId(_type), Api.NewId(_type));
        await Region.CreateOkAsync($$$"""{"id":"{{{local}}}","type":"{{{_type}}}","speed":{"type":"Property","value":70}}""", tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync($$$"""{"id":"{{{remote}}}","type":"{{{_type}}}","speed":{"type":"Property","value":90}}""");
        await fx.MunicipalClient.CreateOkAsync($$$"""{"id":"{{{slow}}}","type":"{{{_type}}}","speed":{"type":"Property","value":10}}""");
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));

        var snapshot = await SnapshotAsync($$"""[{"type":"Query","entities":[{"type":"{{_type}}"}],"q":"speed>50"}]""");

        snapshot["snapshotStatus"]!.GetValue<string>().Should().Be("success");
        var request = Api.Request(HttpMethod.Get, $"{Api.Entities}?type={_type}", tenant: _tenant);
        request.Headers.Add("NGSILD-Snapshot", snapshot["id"]!.GetValue<string>());
        var ids = (await FederatedBrokers.ArrayAsync(await Region.SendAsync(request))).Select(e => e!["id"]!.GetValue<string>());
        ids.Should().BeEquivalentTo([local, remote], "the source's slow entity fails q");
    }

    [Fact]
    public async Task A_snapshot_query_that_yields_nothing_makes_the_snapshot_partial()
    {
        await fx.MunicipalClient.CreateOkAsync($$$"""{"id":"{{{Api.NewId(_type)}}}","type":"{{{_type}}}","speed":{"type":"Property","value":90}}""");
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));

        var snapshot = await SnapshotAsync($$"""[{"type":"Query","entities":[{"type":"{{_type}}"}]},{"type":"Query","entities":[{"type":"Void{{_type}}"}]}]""");

        snapshot["snapshotStatus"]!.GetValue<string>().Should().Be("partial");
        snapshot["snapshotQueriesDetails"]![0]!["resultStatus"]!.GetValue<string>().Should().Be("success");
        snapshot["snapshotQueriesDetails"]![1]!["resultStatus"]!.GetValue<string>().Should().Be("empty");
    }
}
