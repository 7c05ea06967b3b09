using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// The temporal provision operations distributed (clause 4.3.6.3 with 5.6.11–5.6.16) between two real brokers: a
/// registration offering upsertTemporal, appendAttrsTemporal, updateAttrInstanceTemporal, deleteAttrInstanceTemporal,
/// deleteAttrsTemporal and deleteTemporal sends those writes to the municipal broker.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedTemporalProvisionTests(FederatedBrokers fx)
{
    private const string Temporal = "/ngsi-ld/v1/temporal/entities";
    private const string Operations = """
        ,"operations":["upsertTemporal","appendAttrsTemporal","updateAttrInstanceTemporal","deleteAttrInstanceTemporal","deleteAttrsTemporal","deleteTemporal","retrieveTemporal"]
        """;
    private readonly string _tenant = "fedtp-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Gauge" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private static string Instances(string attribute, params (int Value, string ObservedAt)[] readings) =>
        $$"""
        "{{attribute}}":[{{string.Join(',', readings.Select(r => $$"""{"type":"Property","value":{{r.Value}},"observedAt":"{{r.ObservedAt}}"}"""))}}]
        """;

    private string Evolution(string id, params string[] attributes) => $$"""{"id":"{{id}}","type":"{{_type}}",{{string.Join(',', attributes)}}}""";

    private Task RegisterAsync(string mode, string information) =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, information, mode, extra: Operations));

    private Task RegisterTypeAsync(string mode) => RegisterAsync(mode, $$"""[{"entities":[{"type":"{{_type}}"}]}]""");

    private async Task<HttpResponseMessage> RegionAsync(HttpMethod method, string path, string? body = null) =>
        await Region.Send(method, path, body, tenant: _tenant);

    private async Task<JsonNode?> MunicipalEvolutionAsync(string id)
    {
        var response = await fx.MunicipalClient.GetAsync($"{Temporal}/{id}?timerel=after&timeAt=2000-01-01T00:00:00Z");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text);
    }

    private static List<int> Values(JsonNode? entity, string attribute) =>
        entity?[attribute] is JsonArray instances ? instances.Select(i => i!["value"]!.GetValue<int>()).ToList()
        : entity?[attribute] is JsonObject one ? [one["value"]!.GetValue<int>()] : [];

    [Fact]
    public async Task Temporal_writes_through_a_redirect_registration_reach_the_source_and_not_local_data()
    {
        var id = Api.NewId(_type);
        await RegisterTypeAsync("redirect");

        (await RegionAsync(HttpMethod.Post, Temporal, Evolution(id, Instances("level", (1, "2026-03-01T00:00:00Z"), (2, "2026-03-02T00:00:00Z")))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var appended = await RegionAsync(HttpMethod.Post, $"{Temporal}/{id}/attrs", $$"""{{{Instances("level", (3, "2026-03-03T00:00:00Z"))}}}""");
        appended.StatusCode.Should().Be(HttpStatusCode.NoContent, await appended.Content.ReadAsStringAsync());

        Values(await MunicipalEvolutionAsync(id), "level").Should().BeEquivalentTo([1, 2, 3]);
        (await Region.Send(HttpMethod.Get, $"{Temporal}/{id}?local=true&timerel=after&timeAt=2000-01-01T00:00:00Z", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NotFound, "a redirect registration takes the whole write");

        var instanceId = (await MunicipalEvolutionAsync(id))!["level"]!.AsArray()
            .First(i => i!["value"]!.GetValue<int>() == 2)!["instanceId"]!.GetValue<string>();
        var modified = await RegionAsync(HttpMethod.Patch, $"{Temporal}/{id}/attrs/level/{Uri.EscapeDataString(instanceId)}",
            """{"level":{"type":"Property","value":20,"observedAt":"2026-03-02T00:00:00Z"}}""");
        modified.StatusCode.Should().Be(HttpStatusCode.NoContent, await modified.Content.ReadAsStringAsync());
        Values(await MunicipalEvolutionAsync(id), "level").Should().BeEquivalentTo([1, 20, 3]);

        var firstId = (await MunicipalEvolutionAsync(id))!["level"]!.AsArray()
            .First(i => i!["value"]!.GetValue<int>() == 1)!["instanceId"]!.GetValue<string>();
        (await RegionAsync(HttpMethod.Delete, $"{Temporal}/{id}/attrs/level/{Uri.EscapeDataString(firstId)}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        Values(await MunicipalEvolutionAsync(id), "level").Should().BeEquivalentTo([20, 3]);

        (await RegionAsync(HttpMethod.Delete, $"{Temporal}/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await MunicipalEvolutionAsync(id)).Should().BeNull();
    }

    [Fact]
    public async Task An_exclusive_registration_for_one_attribute_takes_its_instances_and_leaves_the_others_local()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("exclusive", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}],"propertyNames":["level"]}]""");

        var created = await RegionAsync(HttpMethod.Post, Temporal,
            Evolution(id, Instances("level", (5, "2026-04-01T00:00:00Z")), Instances("battery", (90, "2026-04-01T00:00:00Z"))));
        ((int)created.StatusCode).Should().BeOneOf([201, 204], await created.Content.ReadAsStringAsync());

        var atSource = await MunicipalEvolutionAsync(id);
        Values(atSource, "level").Should().Equal(5);
        atSource!["battery"].Should().BeNull("battery is not registered");
        var local = JsonNode.Parse(await (await Region.Send(HttpMethod.Get, $"{Temporal}/{id}?local=true&timerel=after&timeAt=2000-01-01T00:00:00Z", tenant: _tenant)).Content.ReadAsStringAsync())!;
        Values(local, "battery").Should().Equal(90);
        local["level"].Should().BeNull("the exclusive source holds level");

        (await RegionAsync(HttpMethod.Delete, $"{Temporal}/{id}/attrs/level?deleteAll=true")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        Values(await MunicipalEvolutionAsync(id), "level").Should().BeEmpty();
    }

    [Fact]
    public async Task Deleting_an_instance_that_neither_party_holds_is_ResourceNotFound()
    {
        var id = Api.NewId(_type);
        await RegisterTypeAsync("inclusive");
        (await RegionAsync(HttpMethod.Post, Temporal, Evolution(id, Instances("level", (1, "2026-03-01T00:00:00Z"))))).IsSuccessStatusCode.Should().BeTrue();

        var response = await RegionAsync(HttpMethod.Delete, $"{Temporal}/{id}/attrs/level/urn:ngsi-ld:Instance:none");

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
