using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Distributed Retrieve Entity and Query Entities (clause 4.3.6) between two real brokers: the regional broker forwards
/// to the municipal one through its registrations and merges the answers with its own data.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedRetrievalTests(FederatedBrokers fx)
{
    private readonly string _tenant = "fed-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Vehicle" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private string Entity(string id, string attributes) => $$"""{"id":"{{id}}","type":"{{_type}}"{{attributes}}}""";

    private Task RegisterAsync(string mode = "inclusive", string information = "", string endpoint = "") =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(endpoint.Length > 0 ? endpoint : fx.MunicipalUrl,
            information.Length > 0 ? information : $$"""[{"entities":[{"type":"{{_type}}"}]}]""", mode));

    private Task<HttpResponseMessage> GetAsync(string path) => Region.Send(HttpMethod.Get, path, tenant: _tenant);

    [Fact]
    public async Task Retrieve_entity_merges_local_attributes_with_those_of_an_inclusive_source()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"bus 12"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":42}"""));
        await RegisterAsync();

        var entity = await Region.GetEntityAsync(id, tenant: _tenant);

        entity["name"]!["value"]!.GetValue<string>().Should().Be("bus 12");
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(42);
    }

    [Fact]
    public async Task Retrieve_entity_that_only_a_redirect_source_holds_is_found_there()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":7}"""));
        await RegisterAsync(mode: "redirect");

        var entity = await Region.GetEntityAsync(id, tenant: _tenant);

        entity["id"]!.GetValue<string>().Should().Be(id);
        entity["type"]!.GetValue<string>().Should().Be(_type);
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(7);
    }

    [Fact]
    public async Task Retrieve_entity_with_local_true_is_not_forwarded()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":7}"""));
        await RegisterAsync();

        var response = await GetAsync($"{Api.Entities}/{id}?local=true");

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task The_most_recently_observed_instance_of_an_attribute_wins_the_merge()
    {
        var (older, newer) = (Api.NewId(_type), Api.NewId(_type));
        await Region.CreateOkAsync(Entity(older, ""","speed":{"type":"Property","value":1,"observedAt":"2026-01-01T10:00:00Z"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(older, ""","speed":{"type":"Property","value":2,"observedAt":"2026-01-01T11:00:00Z"}"""));
        await Region.CreateOkAsync(Entity(newer, ""","speed":{"type":"Property","value":3,"observedAt":"2026-01-01T12:00:00Z"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(newer, ""","speed":{"type":"Property","value":4,"observedAt":"2026-01-01T11:00:00Z"}"""));
        await RegisterAsync();

        (await Region.GetEntityAsync(older, tenant: _tenant))["speed"]!["value"]!.GetValue<int>().Should().Be(2, "the source observed it later");
        (await Region.GetEntityAsync(newer, tenant: _tenant))["speed"]!["value"]!.GetValue<int>().Should().Be(3, "the local instance is the later one");
    }

    [Fact]
    public async Task Instances_with_different_datasetIds_from_local_data_and_a_source_are_both_kept()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1,"datasetId":"urn:ngsi-ld:Dataset:radar"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":2,"datasetId":"urn:ngsi-ld:Dataset:gps"}"""));
        await RegisterAsync();

        var entity = await Region.GetEntityAsync(id, tenant: _tenant);

        entity["speed"]!.AsArray().Select(i => i!["datasetId"]!.GetValue<string>())
            .Should().BeEquivalentTo(["urn:ngsi-ld:Dataset:radar", "urn:ngsi-ld:Dataset:gps"]);
    }

    [Fact]
    public async Task An_exclusive_registration_answers_for_its_attribute_instead_of_local_data()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"tram 3"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":30}"""));
        await RegisterAsync(mode: "exclusive", information: $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}],"propertyNames":["speed"]}]""");

        var entity = await Region.GetEntityAsync(id, tenant: _tenant);

        entity["name"]!["value"]!.GetValue<string>().Should().Be("tram 3");
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(30);
    }

    [Fact]
    public async Task An_auxiliary_source_only_fills_in_attributes_nothing_else_provides()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":10}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":99,"observedAt":"2030-01-01T00:00:00Z"},"colour":{"type":"Property","value":"red"}"""));
        await RegisterAsync(mode: "auxiliary");

        var entity = await Region.GetEntityAsync(id, tenant: _tenant);

        entity["speed"]!["value"]!.GetValue<int>().Should().Be(10, "local data is not overridden by an auxiliary source");
        entity["colour"]!["value"]!.GetValue<string>().Should().Be("red");
    }

    [Fact]
    public async Task A_region_with_no_data_merges_an_inclusive_municipality_and_an_auxiliary_one()
    {
        var (id, onlyAuxiliary) = (Api.NewId(_type), Api.NewId(_type));
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":10}"""));
        await fx.SecondMunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":99,"observedAt":"2030-01-01T00:00:00Z"},"colour":{"type":"Property","value":"red"}"""));
        await fx.SecondMunicipalClient.CreateOkAsync(Entity(onlyAuxiliary, ""","colour":{"type":"Property","value":"blue"}"""));
        await RegisterAsync();
        await RegisterAsync(mode: "auxiliary", endpoint: fx.SecondMunicipalUrl);

        var entities = await FederatedBrokers.ArrayAsync(await GetAsync($"{Api.Entities}?type={_type}"));

        var merged = entities.Single(e => e!["id"]!.GetValue<string>() == id)!;
        merged["speed"]!["value"]!.GetValue<int>().Should().Be(10, "an auxiliary source does not override the inclusive one");
        merged["colour"]!["value"]!.GetValue<string>().Should().Be("red", "it fills in what nothing else provides");
        entities.Select(e => e!["id"]!.GetValue<string>()).Should().Contain(onlyAuxiliary);
    }

    [Fact]
    public async Task Query_entities_merges_local_and_source_entities_by_id_and_pages_over_the_merged_result()
    {
        var (shared, localOnly, remoteOnly) = (Api.NewId(_type), Api.NewId(_type), Api.NewId(_type));
        await Region.CreateOkAsync(Entity(shared, ""","name":{"type":"Property","value":"a"}"""), tenant: _tenant);
        await Region.CreateOkAsync(Entity(localOnly, ""","name":{"type":"Property","value":"b"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(shared, ""","speed":{"type":"Property","value":5}"""));
        await fx.MunicipalClient.CreateOkAsync(Entity(remoteOnly, ""","speed":{"type":"Property","value":6}"""));
        await RegisterAsync();

        var all = await GetAsync($"{Api.Entities}?type={_type}&count=true");
        all.Headers.GetValues("NGSILD-Results-Count").Should().Equal("3");
        var entities = await FederatedBrokers.ArrayAsync(all);
        entities.Select(e => e!["id"]!.GetValue<string>()).Should().BeEquivalentTo([shared, localOnly, remoteOnly]);
        var merged = entities.Single(e => e!["id"]!.GetValue<string>() == shared)!;
        merged["name"]!["value"]!.GetValue<string>().Should().Be("a");
        merged["speed"]!["value"]!.GetValue<int>().Should().Be(5);

        var first = await FederatedBrokers.ArrayAsync(await GetAsync($"{Api.Entities}?type={_type}&limit=2"));
        var second = await FederatedBrokers.ArrayAsync(await GetAsync($"{Api.Entities}?type={_type}&limit=2&offset=2"));
        first.Concat(second).Select(e => e!["id"]!.GetValue<string>()).Should().BeEquivalentTo([shared, localOnly, remoteOnly]);
        second.Should().HaveCount(1);
    }

    [Fact]
    public async Task Query_entities_with_attrs_asks_the_source_only_for_the_attributes_it_registered()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":5},"name":{"type":"Property","value":"x"}"""));
        await RegisterAsync(information: $$"""[{"entities":[{"type":"{{_type}}"}],"propertyNames":["speed"]}]""");

        var entities = await FederatedBrokers.ArrayAsync(await GetAsync($"{Api.Entities}?type={_type}"));

        var entity = entities.Should().ContainSingle().Subject!;
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(5);
        entity.AsObject().ContainsKey("name").Should().BeFalse("the registration provides speed only");
    }

    [Fact]
    public async Task Query_entities_with_a_source_down_returns_local_data_and_an_NGSILD_Warning()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"a"}"""), tenant: _tenant);
        await RegisterAsync(endpoint: "http://127.0.0.1:9"); // the discard port: nothing listens

        var response = await GetAsync($"{Api.Entities}?type={_type}");

        (await FederatedBrokers.ArrayAsync(response)).Select(e => e!["id"]!.GetValue<string>()).Should().Equal(id);
        response.Headers.GetValues("NGSILD-Warning").Should().ContainSingle().Which.Should().StartWith("199 ");
    }

    [Fact]
    public async Task A_source_whose_registration_loops_back_to_itself_answers_its_data_once_and_the_199_warning_reaches_the_client()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":3}"""));
        var selfLoop = FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]""", "auxiliary");
        (await fx.MunicipalClient.Send(HttpMethod.Post, RegistrationApiTests.Registrations, selfLoop)).StatusCode.Should().Be(HttpStatusCode.Created);
        await RegisterAsync();

        var response = await GetAsync($"{Api.Entities}?type={_type}");

        (await FederatedBrokers.ArrayAsync(response)).Select(e => e!["id"]!.GetValue<string>()).Should().Equal(id);
        response.Headers.GetValues("NGSILD-Warning").Should().Contain(w => w.StartsWith("199 urn:ngsi-ld:ContextSource:municipality"));
    }

    [Fact]
    public async Task A_split_entities_query_applies_q_and_the_geo_query_to_the_entity_merged_from_local_and_remote_parts()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","brandName":{"type":"Property","value":"Mercedes"}"""), tenant: _tenant);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":42},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[13.4,52.52]}}"""));
        await fx.MunicipalClient.CreateOkAsync(Entity(id + "-x", ""","speed":{"type":"Property","value":42}"""));
        await RegisterAsync();
        const string q = "q=speed>20;brandName==%22Mercedes%22";

        var near = await FederatedBrokers.ArrayAsync(await GetAsync(
            $"{Api.Entities}?type={_type}&splitEntities=true&{q}&georel=near;maxDistance==5000&geometry=Point&coordinates=[13.4,52.52]"));
        var far = await FederatedBrokers.ArrayAsync(await GetAsync(
            $"{Api.Entities}?type={_type}&splitEntities=true&{q}&georel=near;maxDistance==5000&geometry=Point&coordinates=[2.35,48.85]"));

        var merged = near.Should().ContainSingle().Subject!.AsObject();
        merged["id"]!.GetValue<string>().Should().Be(id);
        merged.ContainsKey("speed").Should().BeTrue();
        merged.ContainsKey("brandName").Should().BeTrue();
        far.Should().BeEmpty();
    }

    [Fact]
    public async Task A_geo_query_outside_a_registrations_location_is_not_forwarded_to_it()
    {
        var paris = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(paris, ""","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.35,48.85]}}"""));
        await fx.RegisterAsync(_tenant, FederatedBrokers.Registration(fx.MunicipalUrl, $$"""[{"entities":[{"type":"{{_type}}"}]}]""",
            extra: ""","location":{"type":"Polygon","coordinates":[[[13.0,52.2],[13.8,52.2],[13.8,52.8],[13.0,52.8],[13.0,52.2]]]}"""));

        var nearParis = await FederatedBrokers.ArrayAsync(await GetAsync(
            $"{Api.Entities}?type={_type}&georel=near;maxDistance==5000&geometry=Point&coordinates=[2.35,48.85]"));

        nearParis.Should().BeEmpty("the source registered Berlin only");
    }
}
