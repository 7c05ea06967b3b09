using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Retrieve Entity Type Information and Retrieve Attribute Information (clauses 5.7.7, 5.7.10 with 4.3.6) between two real
/// brokers: the details of one type or attribute include what the registered source holds.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedTypeDetailsTests(FederatedBrokers fx)
{
    private readonly string _tenant = "fedd-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Ferry" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private async Task<JsonNode> GetAsync(string path)
    {
        var response = await Region.Send(HttpMethod.Get, path, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    private async Task ArrangeAsync()
    {
        await Region.CreateOkAsync($$$"""{"id":"{{{Api.NewId(_type)}}}","type":"{{{_type}}}","name":{"type":"Property","value":"a"}}""", tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync($$$"""{"id":"{{{Api.NewId(_type)}}}","type":"{{{_type}}}","dock":{"type":"Relationship","object":"urn:ngsi-ld:Dock:1"}}""");
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]"""));
    }

    [Fact]
    public async Task Entity_type_information_merges_the_sources_count_and_attribute_details()
    {
        await ArrangeAsync();

        var info = await GetAsync($"/ngsi-ld/v1/types/{_type}");

        info["entityCount"]!.GetValue<long>().Should().Be(2);
        info["attributeDetails"]!.AsArray().Select(d => d!["attributeName"]!.GetValue<string>()).Should().BeEquivalentTo("name", "dock");
    }

    [Fact]
    public async Task Attribute_information_of_an_attribute_only_a_source_holds_is_found_there()
    {
        await ArrangeAsync();

        var info = await GetAsync("/ngsi-ld/v1/attributes/dock");

        info["attributeCount"]!.GetValue<long>().Should().BeGreaterThanOrEqualTo(1);
        info["attributeTypes"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Equal("Relationship");
        info["typeNames"]!.AsArray().Select(t => t!.GetValue<string>()).Should().Contain(_type);
        (await Region.Send(HttpMethod.Get, "/ngsi-ld/v1/attributes/dock?local=true", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
