using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>Distributed Retrieve Available Entity Types and Attributes (clauses 5.7.5–5.7.10 with 4.3.6) between two real brokers.</summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedDiscoveryTests(FederatedBrokers fx)
{
    private readonly string _tenant = "disc-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    private async Task<JsonNode> GetAsync(string path)
    {
        var response = await fx.Client.Send(HttpMethod.Get, path, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    private async Task ArrangeAsync()
    {
        await fx.Client.CreateOkAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Local{{{_suffix}}}","level{{{_suffix}}}":{"type":"Property","value":1}}""", tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Remote{{{_suffix}}}","speed{{{_suffix}}}":{"type":"Property","value":1}}""");
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"Remote{{_suffix}}"}]}]"""));
    }

    [Fact]
    public async Task Types_lists_local_types_and_those_of_registered_sources()
    {
        await ArrangeAsync();

        var list = (await GetAsync("/ngsi-ld/v1/types"))["typeList"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();

        list.Should().Contain([$"Local{_suffix}", $"Remote{_suffix}"]);
        (await GetAsync("/ngsi-ld/v1/types?local=true"))["typeList"]!.AsArray().Select(t => t!.GetValue<string>())
            .Should().Equal($"Local{_suffix}");
    }

    [Fact]
    public async Task Types_with_details_name_the_attributes_a_source_has_for_its_types()
    {
        await ArrangeAsync();

        var remote = (await GetAsync("/ngsi-ld/v1/types?details=true")).AsArray()
            .Single(t => t!["typeName"]!.GetValue<string>() == $"Remote{_suffix}")!;

        remote["attributeNames"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal($"speed{_suffix}");
    }

    [Fact]
    public async Task Attributes_lists_local_attributes_and_those_of_registered_sources()
    {
        await ArrangeAsync();

        var list = (await GetAsync("/ngsi-ld/v1/attributes"))["attributeList"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        var details = (await GetAsync("/ngsi-ld/v1/attributes?details=true")).AsArray();

        list.Should().Contain([$"level{_suffix}", $"speed{_suffix}"]);
        details.Single(a => a!["attributeName"]!.GetValue<string>() == $"speed{_suffix}")!["typeNames"]!.AsArray()
            .Select(t => t!.GetValue<string>()).Should().Equal($"Remote{_suffix}");
    }
}
