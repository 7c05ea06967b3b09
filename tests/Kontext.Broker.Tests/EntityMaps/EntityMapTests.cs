using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.EntityMaps;

/// <summary>
/// Entity maps (clauses 5.5.14, 5.14, 6.32–6.35): made by GET /entityMaps, by entityMap=true on a query or retrieval, or
/// when a query names a map that is gone; read, changed and deleted at /entityMaps/{id}; a live map fixes the entities
/// the pages of a query walk through (clause 5.5.9.3).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class EntityMapTests(BrokerFixture fx)
{
    private const string Maps = "/ngsi-ld/v1/entityMaps";
    private const string Header = "NGSILD-EntityMap";
    private readonly HttpClient _client = fx.Client;
    private readonly string _tenant = "em-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Car" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> CreateCarAsync(int speed)
    {
        var id = Api.NewId(_type);
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"{{{_type}}}","speed":{"type":"Property","value":{{{speed}}}}}""", tenant: _tenant);
        return id;
    }

    private Task<HttpResponseMessage> GetAsync(string path, string? map = null, string? tenant = null)
    {
        var request = Api.Request(HttpMethod.Get, path, tenant: tenant ?? _tenant);
        if (map is not null) request.Headers.Add(Header, map);
        return _client.SendAsync(request);
    }

    private static string MapLocation(HttpResponseMessage response) => response.Headers.GetValues(Header).Single();

    private static string MapId(string location) => Uri.UnescapeDataString(location[(location.LastIndexOf('/') + 1)..]);

    private static string Escaped(string id) => Uri.EscapeDataString(id);

    private async Task<JsonObject> MapAsync(string location)
    {
        var response = await GetAsync($"{Maps}/{Escaped(MapId(location))}");
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<List<string>> IdsAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!["id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Create_entity_map_for_a_query_lists_the_local_matches_under_none_and_answers_201()
    {
        var (slow, fast) = (await CreateCarAsync(10), await CreateCarAsync(90));

        var response = await GetAsync($"{Maps}?type={_type}&q=speed>50");

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.Created, text);
        var map = JsonNode.Parse(text)!.AsObject();
        map["type"]!.GetValue<string>().Should().Be("EntityMap");
        map["expiresAt"]!.GetValue<string>().Should().NotBeEmpty();
        map["entityMap"]![fast]!.AsArray().Select(s => s!.GetValue<string>()).Should().Equal("@none");
        map["entityMap"]!.AsObject().ContainsKey(slow).Should().BeFalse("q narrows the map");
        MapId(MapLocation(response)).Should().Be(map["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_entity_map_for_a_too_wide_query_or_a_bad_lifetime_is_BadRequestData()
    {
        await (await GetAsync($"{Maps}?id={Api.NewId(_type)}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await GetAsync($"{Maps}?type={_type}&entityMapLifetime=1hour")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task The_broker_bounds_the_lifetime_a_client_asks_for()
    {
        await CreateCarAsync(3);
        var response = await GetAsync($"{Maps}?type={_type}&entityMapLifetime=P3650D");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var expiresAt = DateTimeOffset.Parse((await response.JsonAsync())["expiresAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        expiresAt.Should().BeBefore(DateTimeOffset.UtcNow.AddDays(30));
    }

    [Fact]
    public async Task Update_entity_map_changes_expiresAt_ignores_the_output_members_and_an_expired_map_is_gone()
    {
        var car = await CreateCarAsync(1);
        var location = MapLocation(await GetAsync($"{Maps}?type={_type}"));
        var path = $"{Maps}/{Escaped(MapId(location))}";

        var update = await _client.Send(HttpMethod.Patch, path, $$$"""{"expiresAt":"2099-01-01T00:00:00Z","entityMap":{"{{{Api.NewId(_type)}}}":["@none"]}}""", tenant: _tenant);
        update.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var map = await MapAsync(location);
        map["entityMap"]!.AsObject().Select(p => p.Key).Should().Equal(car);
        string.CompareOrdinal(map["expiresAt"]!.GetValue<string>(), "2099").Should().BeNegative("the broker bounds the expiry");

        await (await _client.Send(HttpMethod.Patch, path, """{"expiresAt":"tomorrow"}""", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Patch, path, """{"expiresAt":"2000-01-01T00:00:00Z"}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await GetAsync(path)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Retrieve_and_delete_entity_map_check_the_id_the_tenant_and_existence()
    {
        await CreateCarAsync(1);
        var location = MapLocation(await GetAsync($"{Maps}?type={_type}"));
        var path = $"{Maps}/{Escaped(MapId(location))}";

        await (await GetAsync($"{Maps}/not%20a%20uri")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await GetAsync($"{Maps}/{Escaped("urn:ngsi-ld:EntityMap:none")}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await GetAsync(path, tenant: _tenant + "other")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, path, tenant: _tenant + "other")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");

        (await _client.Send(HttpMethod.Delete, path, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await (await GetAsync(path)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, path, tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Query_entities_with_entityMap_true_answers_201_and_a_live_map_fixes_the_entities_of_later_pages()
    {
        var cars = new List<string>();
        for (var i = 0; i < 5; i++) cars.Add(await CreateCarAsync(50));

        var made = await GetAsync($"{Api.Entities}?type={_type}&entityMap=true&limit=2");
        made.StatusCode.Should().Be(HttpStatusCode.Created);
        (await IdsAsync(made)).Should().Equal(cars.Take(2));
        var location = MapLocation(made);

        var late = await CreateCarAsync(50); // created after the map: not part of its result set
        await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{cars[1]}", tenant: _tenant);

        var page = await GetAsync($"{Api.Entities}?type={_type}&limit=3&count=true", location);
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        MapLocation(page).Should().Be(location);
        (await IdsAsync(page)).Should().Equal(cars[0], cars[2], cars[3]);
        page.Headers.GetValues("NGSILD-Results-Count").Should().Equal("4");
        string.Join(",", page.Headers.GetValues("Link")).Should().Contain("rel=\"next\"").And.NotContain(cars[0]);

        var map = await MapAsync(location);
        map["entityMap"]!.AsObject().Select(p => p.Key).Should().Equal(cars[0], cars[2], cars[3], cars[4]);
        map["entityMap"]!.AsObject().ContainsKey(late).Should().BeFalse();
    }

    [Fact]
    public async Task A_query_naming_an_unknown_map_makes_a_new_one()
    {
        await CreateCarAsync(5);

        var response = await GetAsync($"{Api.Entities}?type={_type}", "urn:ngsi-ld:EntityMap:gone");

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        MapLocation(response).Should().NotContain("gone");
    }

    [Fact]
    public async Task Retrieve_entity_with_entityMap_true_makes_a_map_of_the_entity_and_echoes_a_live_one()
    {
        var car = await CreateCarAsync(5);

        var first = await GetAsync($"{Api.Entities}/{car}?entityMap=true");
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        (await first.JsonAsync()).ContainsKey("entityMap").Should().BeFalse();
        var location = MapLocation(first);
        (await MapAsync(location))["entityMap"]![car]!.AsArray().Select(s => s!.GetValue<string>()).Should().Equal("@none");

        var again = await GetAsync($"{Api.Entities}/{car}", location);
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        MapLocation(again).Should().Be(location);
    }

    [Fact]
    public async Task Temporal_entity_map_needs_a_temporal_query_and_a_live_one_fixes_the_temporal_query()
    {
        var (one, two) = (await CreateCarAsync(1), await CreateCarAsync(2));
        const string window = "timerel=after&timeAt=2000-01-01T00:00:00Z&timeproperty=createdAt";

        await (await GetAsync($"/ngsi-ld/v1/temporal/entityMaps?type={_type}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        var temporalMap = await GetAsync($"/ngsi-ld/v1/temporal/entityMaps?type={_type}&{window}");
        temporalMap.StatusCode.Should().Be(HttpStatusCode.Created);
        (await temporalMap.JsonAsync())["entityMap"]!.AsObject().Select(p => p.Key).Should().BeEquivalentTo([one, two]);

        var made = await GetAsync($"/ngsi-ld/v1/temporal/entities?type={_type}&id={one}&{window}&entityMap=true");
        made.StatusCode.Should().Be(HttpStatusCode.Created);
        var narrowed = await GetAsync($"/ngsi-ld/v1/temporal/entities?type={_type}&{window}", MapLocation(made));
        narrowed.StatusCode.Should().Be(HttpStatusCode.OK);
        (await IdsAsync(narrowed)).Should().Equal(one);
    }
}
