using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>
/// Issue 12, session 10: a plain GET /entities/{id} is written straight from the stored document. Each answer is compared,
/// byte for byte with its headers, with the Entity path's answer to the same request plus a parameter that sends it that
/// way without changing the entity shown: lang (the entity has no LanguageProperty) or Prefer: ngsi-ld=1.7 (it has no
/// VocabProperty or JsonProperty).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class StoredEntityRetrievalTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;


    /// <summary>Every attribute kind but LanguageProperty, with datasetIds, sub-attributes and an update that gives its own times.</summary>
    private async Task<string> CreateWithoutLanguageAsync(string? link = null)
    {
        var id = Api.NewId("Machine");
        await _client.CreateOkAsync(StoredAnswers.MachineWithoutLanguage(id), link: link);
        var patch = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:9"}}""", link: link);
        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        return id;
    }

    private async Task<string> CreateWithLanguageAsync()
    {
        var id = Api.NewId("Machine");
        await _client.CreateOkAsync(StoredAnswers.MachineWithLanguage(id));
        return id;
    }

    public static TheoryData<string, string> Requests() => new()
    {
        { "", "application/json" },
        { "", "application/ld+json" },
        { "?options=sysAttrs", "application/json" },
        { "?options=sysAttrs", "application/ld+json" },
        { "?options=keyValues", "application/json" },
        { "?options=keyValues,sysAttrs", "application/ld+json" },
        { "?options=concise", "application/json" },
        { "?options=concise,sysAttrs", "application/ld+json" },
        { "?format=simplified&attrs=speed,owner", "application/json" },
        { "?attrs=speed,scope", "application/json" },
        { "?pick=id,speed,parts", "application/ld+json" },
        { "?omit=type,location&options=sysAttrs", "application/json" },
        { "?type=Machine", "application/json" },
        { "?join=@none", "application/json" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_plain_GET_answers_as_the_entity_path_does(string query, string accept)
    {
        var id = await CreateWithoutLanguageAsync();
        var separator = query.Length == 0 ? "?" : "&";
        await ShouldAnswerAlikeAsync(
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}{query}", accept: accept),
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}{query}{separator}lang=de", accept: accept));
    }

    [Theory]
    [InlineData("", "application/json")]
    [InlineData("?options=sysAttrs,keyValues", "application/ld+json")]
    [InlineData("?options=concise,sysAttrs", "application/json")]
    public async Task A_LanguageProperty_and_a_transient_entity_answer_as_the_entity_path_does(string query, string accept)
    {
        var id = await CreateWithLanguageAsync();
        var older = Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}{query}", accept: accept);
        older.Headers.TryAddWithoutValidation("Prefer", "ngsi-ld=1.7");
        var (body, response) = await ShouldAnswerAlikeAsync(Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}{query}", accept: accept), older,
            ignoredHeaders: ["Preference-Applied"]);
        body.Should().Contain("Big Square");
        response.Content.Headers.ContentType!.MediaType.Should().Be(accept);
    }

    [Fact]
    public async Task Terms_are_compacted_with_the_callers_context_in_the_Link_header_and_the_body()
    {
        var server = await ContextServer.StartAsync();
        await using var _ = server;
        var link = Api.Link(server.Serve("/machine.jsonld", StoredAnswers.UserContext));
        var id = await CreateWithoutLanguageAsync(link);

        var (json, response) = await ShouldAnswerAlikeAsync(
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}?options=sysAttrs", link: link, accept: "application/json"),
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}?options=sysAttrs&lang=en", link: link, accept: "application/json"));
        response.ContextLink().Should().Be(server.BaseUrl + "/machine.jsonld");
        var entity = JsonNode.Parse(json)!.AsObject();
        entity["type"]!.GetValue<string>().Should().Be("Machine");
        entity.ContainsKey("ex:full").Should().BeTrue("the caller's prefix compacts the full IRI");
        entity.ContainsKey("@context").Should().BeFalse("application/json names the context in a Link header");

        var (ld, ldResponse) = await ShouldAnswerAlikeAsync(
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}", link: link, accept: "application/ld+json"),
            Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}?lang=en", link: link, accept: "application/ld+json"));
        ldResponse.Headers.Contains("Link").Should().BeFalse();
        JsonNode.Parse(ld)!["@context"]!.GetValue<string>().Should().Be(server.BaseUrl + "/machine.jsonld");
    }

    [Fact]
    public async Task Not_found_answers_stay_as_they_were()
    {
        var id = await CreateWithoutLanguageAsync();
        await (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{Api.NewId()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?type=Other")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?attrs=nothere")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}?pick=nothere")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task An_expired_attribute_instance_is_not_shown()
    {
        var id = Api.NewId("Machine");
        await _client.CreateOkAsync($$$"""
            {"id":"{{{id}}}","type":"Machine","speed":{"type":"Property","value":1},
             "brief":{"type":"Property","value":2,"expiresAt":"{{{DateTimeOffset.UtcNow.AddSeconds(1):yyyy-MM-ddTHH:mm:ss.fffZ}}}"}}
            """);
        await Task.Delay(1500);
        var entity = await _client.GetEntityAsync(id);
        entity.ContainsKey("speed").Should().BeTrue();
        entity.ContainsKey("brief").Should().BeFalse();
    }

    private Task<(string Body, HttpResponseMessage Response)> ShouldAnswerAlikeAsync(HttpRequestMessage stored, HttpRequestMessage entityPath,
        string[]? ignoredHeaders = null) =>
        _client.ShouldAnswerAlikeAsync(stored, entityPath, ignoredHeaders ?? []);
}
