using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// A cycle of registrations between two real broker processes (clause 6.3.18): the region registers the municipality
/// and the municipality registers the region. A query at either ends at its second visit (its alias in Via) and
/// answers every entity once.
/// </summary>
public sealed class FederationCycleTests(SubscribingBrokers fx) : IClassFixture<SubscribingBrokers>
{
    private readonly string _tenant = "cyc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Pump" + Guid.NewGuid().ToString("N")[..8];

    private string Entity(string id, int level) => $$$"""{"id":"{{{id}}}","type":"{{{_type}}}","level":{"type":"Property","value":{{{level}}}}}""";

    private async Task RegisterAsync(HttpClient at, string endpoint)
    {
        var registration = FederatedBrokers.Registration(endpoint, $$"""[{"entities":[{"type":"{{_type}}"}]}]""", extra: $$""","tenant":"{{_tenant}}" """);
        var response = await at.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_query_through_a_cycle_of_two_brokers_answers_each_entity_once_at_either_end()
    {
        var (atRegion, atMunicipality) = (Api.NewId(_type), Api.NewId(_type));
        await fx.RegionClient.CreateOkAsync(Entity(atRegion, 1), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(atMunicipality, 2), tenant: _tenant);
        await RegisterAsync(fx.RegionClient, fx.Municipal.Url);
        await RegisterAsync(fx.MunicipalClient, fx.Region.Url);

        foreach (var client in new[] { fx.RegionClient, fx.MunicipalClient })
        {
            var response = await client.Send(HttpMethod.Get, $"{Api.Entities}?type={_type}", tenant: _tenant);
            var text = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(HttpStatusCode.OK, text);
            JsonNode.Parse(text)!.AsArray().Select(e => e!["id"]!.GetValue<string>()).Should().BeEquivalentTo([atRegion, atMunicipality]);
            response.Headers.GetValues("NGSILD-Warning").Should().Contain(w => w.StartsWith("199 ") && w.Contains("loop"),
                "the broker that saw the request come back says so, and the warning reaches the client");
        }
    }
}
