using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// Issue 12, session 16: a plain query page is written straight from the stored documents. Each answer is compared, byte
/// for byte with its headers (count, paging links, context), with the Entity path's answer to the same request sent
/// with Prefer: ngsi-ld=1.7, which keeps it on that path without changing what a query shows (but Preference-Applied).
/// Every test has a tenant of its own, so a page holds only its entities.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class StoredQueryPageTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "stored-pages-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// Machines in creation order: one with every attribute kind but LanguageProperty (datasetIds, sub-attributes, an
    /// update that gives its own times); one with a LanguageProperty and an expiresAt; one without speed (pick=speed
    /// leaves nothing of it); one more like the first.
    /// </summary>
    private async Task<List<string>> CreateMachinesAsync(string? link = null)
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var id = Api.NewId("Machine");
            ids.Add(id);
            await _client.CreateOkAsync(i switch
            {
                1 => StoredAnswers.MachineWithLanguage(id),
                2 => $$$"""{"id":"{{{id}}}","type":"Machine","owner":{"type":"Relationship","object":"urn:ngsi-ld:P:2"}}""",
                _ => StoredAnswers.MachineWithoutLanguage(id, $"{i + 1}.50"),
            }, link: link, tenant: _tenant);
            if (i == 0)
            {
                var patch = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:9"}}""",
                    link: link, tenant: _tenant);
                patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
            }
        }
        return ids;
    }

    public static TheoryData<string, string> Queries() => new()
    {
        { "", "application/json" },
        { "", "application/ld+json" },
        { "options=sysAttrs", "application/json" },
        { "options=sysAttrs", "application/ld+json" },
        { "options=keyValues", "application/json" },
        { "options=keyValues,sysAttrs", "application/ld+json" },
        { "options=concise", "application/json" },
        { "options=concise,sysAttrs", "application/ld+json" },
        { "format=simplified&attrs=speed,owner", "application/json" },
        { "attrs=speed", "application/json" },
        { "attrs=street,scope&options=keyValues", "application/json" },
        { "attrs=nothere", "application/json" },
        { "pick=id,speed,parts", "application/ld+json" },
        { "pick=speed", "application/json" },
        { "pick=nothere", "application/json" },
        { "omit=type,location&options=sysAttrs", "application/json" },
        { "limit=2&count=true", "application/json" },
        { "limit=1&offset=1&count=true&options=keyValues", "application/json" },
        { "limit=2&offset=2", "application/ld+json" },
        { "limit=0&count=true", "application/json" },
        { "pick=speed&limit=2&offset=1&count=true", "application/json" },
        { "q=speed>2", "application/json" },
        { "q=speed>2&count=true&limit=1", "application/json" },
        { "q=speed.accuracy>0&options=concise", "application/json" },
        { "q=owner==%22urn:ngsi-ld:P:2%22", "application/json" },
        { "q=street[fr]==%22Grand%20Place%22", "application/json" },
        { "idPattern=.*Machine.*&limit=3&count=true", "application/json" },
        { "georel=near;maxDistance==1000&geometry=Point&coordinates=[-3.7,40.4]&count=true", "application/json" },
        { "georel=within&geometry=Polygon&coordinates=[[[-4,40],[-3,40],[-3,41],[-4,41],[-4,40]]]", "application/ld+json" },
        { "scopeQ=/f/a", "application/json" },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task A_plain_query_page_answers_as_the_entity_path_does(string query, string accept)
    {
        await CreateMachinesAsync();
        await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&{query}", accept);
    }

    [Fact]
    public async Task The_stored_page_shows_what_was_stored_in_creation_order()
    {
        var ids = await CreateMachinesAsync();

        var (body, response) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&pick=id,speed&options=keyValues&limit=2&count=true", "application/json");

        // The third machine has no speed: pick leaves nothing of it, and it is left out rather than sent as {}.
        var shown = JsonNode.Parse(body)!.AsArray();
        shown.Select(e => e!["id"]!.GetValue<string>()).Should().Equal(ids[0], ids[1]);
        shown[1]!.ToJsonString().Should().Be($$$"""{"id":"{{{ids[1]}}}","speed":5}""");
        response.Headers.GetValues("NGSILD-Results-Count").Should().Equal("4");
        response.Headers.GetValues("Link").Should().Contain(link => link.Contains("rel=\"next\"") && link.Contains("offset=2"));
        var (third, _) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&pick=speed&options=keyValues&limit=2&offset=2", "application/json");
        JsonNode.Parse(third)!.AsArray().Should().ContainSingle("the third machine is left out, the fourth shown")
            .Which!.ToJsonString().Should().Contain("4.5").And.NotContain("\"id\"");
    }

    [Fact]
    public async Task Terms_are_compacted_with_the_callers_context_in_the_Link_header_and_in_each_entity()
    {
        var server = await ContextServer.StartAsync();
        await using var _ = server;
        var link = Api.Link(server.Serve("/machine.jsonld", StoredAnswers.UserContext));
        await CreateMachinesAsync(link);

        var (json, response) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&options=sysAttrs&limit=3", "application/json", link);
        response.ContextLink().Should().Be(server.BaseUrl + "/machine.jsonld");
        var entities = JsonNode.Parse(json)!.AsArray();
        entities.Should().HaveCount(3);
        entities[0]!["type"]!.GetValue<string>().Should().Be("Machine");
        entities[0]!.AsObject().ContainsKey("ex:full").Should().BeTrue("the caller's prefix compacts the full IRI");

        var (ld, _) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&options=concise", "application/ld+json", link);
        JsonNode.Parse(ld)!.AsArray().Should().HaveCount(4).And.OnlyContain(e => e!["@context"]!.GetValue<string>() == server.BaseUrl + "/machine.jsonld");
    }

    [Fact]
    public async Task An_expired_attribute_instance_and_an_expired_entity_are_not_shown()
    {
        var ids = await CreateMachinesAsync();
        var soon = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        var brief = Api.NewId("Machine");
        await _client.CreateOkAsync($$$"""
            {"id":"{{{brief}}}","type":"Machine","speed":{"type":"Property","value":1},
             "flash":{"type":"Property","value":2,"expiresAt":"{{{soon}}}"}}
            """, tenant: _tenant);
        var gone = Api.NewId("Machine");
        await _client.CreateOkAsync($$$"""{"id":"{{{gone}}}","type":"Machine","expiresAt":"{{{soon}}}","speed":{"type":"Property","value":7}}""", tenant: _tenant);
        await Task.Delay(1500);

        // With the transient instance in the page, the page goes the Entity way; without it (offset past it), the stored way.
        var (withInstance, _) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&options=keyValues&count=true", "application/json");
        var shown = JsonNode.Parse(withInstance)!.AsArray().Select(e => e!.AsObject()).ToList();
        shown.Select(e => e["id"]!.GetValue<string>()).Should().Equal([.. ids, brief], "the expired entity is not shown, even before the reaper removes it");
        shown[^1].ContainsKey("flash").Should().BeFalse("its instance expired");
        var (afterIt, _) = await ShouldAnswerAlikeAsync($"{Api.Entities}?type=Machine&options=keyValues&offset=5", "application/json");
        afterIt.Should().Be("[]");
    }

    /// <summary>
    /// The page and the Entity path's page (the same request with Prefer: ngsi-ld=1.7) are the same: status, body and
    /// headers but the request id, the date and Preference-Applied. Returns the first's body.
    /// </summary>
    private Task<(string Body, HttpResponseMessage Response)> ShouldAnswerAlikeAsync(string path, string accept, string? link = null)
    {
        var entityPath = Api.Request(HttpMethod.Get, path, link: link, accept: accept, tenant: _tenant);
        entityPath.Headers.TryAddWithoutValidation("Prefer", "ngsi-ld=1.7");
        return _client.ShouldAnswerAlikeAsync(Api.Request(HttpMethod.Get, path, link: link, accept: accept, tenant: _tenant), entityPath, "Preference-Applied");
    }
}
