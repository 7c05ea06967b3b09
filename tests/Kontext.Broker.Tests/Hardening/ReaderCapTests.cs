using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Temporal;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>
/// One reader connection per tenant: every read path must then run with a single connection, so a path that held a
/// reader while renting another would hang here instead of passing.
/// </summary>
public sealed class OneReaderFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Limits:MaxReadersPerTenant"] = "1",
});

/// <summary>Concurrent reads cannot open more reader connections than the cap (D12: no request can exhaust the process).</summary>
public sealed class ReaderCapTests(OneReaderFixture fixture) : IClassFixture<OneReaderFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Hundreds_of_concurrent_reads_all_succeed_on_one_reader_connection()
    {
        var tenant = "readers-" + Guid.NewGuid().ToString("N")[..8];
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var id = Api.NewId("Meter");
            ids.Add(id);
            var meter = new JsonObject
            {
                ["id"] = id, ["type"] = "Meter", ["n"] = new JsonObject { ["type"] = "Property", ["value"] = i },
                ["location"] = new JsonObject
                {
                    ["type"] = "GeoProperty",
                    ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(-3.70 + i * 0.001, 40.41) },
                },
            };
            await _client.CreateOkAsync(meter.ToJsonString(), tenant: tenant);
        }
        var vehicle = Api.NewId("Vehicle");
        (await _client.CreateTemporalAsync(TemporalApi.Vehicle(vehicle, ("speed", 10, TemporalApi.T(0)), ("speed", 20, TemporalApi.T(1))), tenant))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
                """{"type":"Subscription","entities":[{"type":"Meter"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""", tenant: tenant))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        string[] reads =
        [
            .. ids.Select(id => $"{Api.Entities}/{id}"),
            $"{Api.Entities}?type=Meter&q=n>5&count=true",
            $"{Api.Entities}?type=Meter&georel=near;maxDistance==2000&geometry=Point&coordinates=[-3.70,40.41]",
            $"{Api.Entities}?q=n<3&limit=2&offset=1",
            "/ngsi-ld/v1/types?details=true",
            "/ngsi-ld/v1/attributes",
            "/ngsi-ld/v1/subscriptions",
            $"{TemporalApi.Root}/{vehicle}",
            $"{TemporalApi.Root}?type=Vehicle&timerel=after&timeAt={TemporalApi.T(-1)}",
        ];
        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(async () =>
        {
            var path = reads[i % reads.Length];
            using var response = await _client.Send(HttpMethod.Get, path, tenant: tenant);
            return (path, response.StatusCode, await response.Content.ReadAsStringAsync());
        }))).WaitAsync(TimeSpan.FromMinutes(2)); // a guard against a hang, not a speed check

        responses.Where(r => r.StatusCode != HttpStatusCode.OK).Should().BeEmpty();
        var storage = (SqliteStorage)fixture.Factory.Services.GetRequiredService<IEntityStorage>();
        var readers = storage.Readers(tenant)!;
        readers.MaxOpen.Should().Be(1);
        readers.PeakOpenCount.Should().Be(1, "every read ran on the tenant's one reader connection");
    }
}
