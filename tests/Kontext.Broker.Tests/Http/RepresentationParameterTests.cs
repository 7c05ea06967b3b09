using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.Extensions.Primitives;

namespace Kontext.Broker.Tests.Http;

/// <summary>
/// Issue 12, session 17: a GET reads its representation (options, format), projection and lang from the URL once. These pin
/// what that reading answers, including which of two bad parameters is reported, and that a Query body's request takes them
/// from its body; and the Prefer header read from the request's header values as they are.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class RepresentationParameterTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> CreateAsync()
    {
        var id = Api.NewId("Lamp");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Lamp","level":{"type":"Property","value":3}}""");
        return id;
    }

    [Theory]
    [InlineData("?options=keyValues&format=normalized", """{"type":"Property","value":3}""")]
    [InlineData("?format=keyValues&options=normalized", "3")]
    [InlineData("?options=", """{"type":"Property","value":3}""")]
    [InlineData("?options=simplified", "3")]
    [InlineData("?options=concise", "3")]
    [InlineData("?options=normalized,concise", "3")]
    public async Task Options_and_format_choose_the_representation_format_last(string query, string level)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}{query}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        body["level"]!.ToJsonString().Should().Be(level);
    }

    [Theory]
    // The projection is read before the representation: its error is the one reported.
    [InlineData("?options=bogus&pick=id&omit=type", "BadRequestData", "pick and omit")]
    [InlineData("?options=bogus&format=weird", "InvalidRequest", "Unknown value 'bogus' in options (allowed: keyValues, simplified, concise, normalized, sysAttrs)")]
    [InlineData("?options=keyValues&format=weird", "InvalidRequest", "Unknown format 'weird'")]
    [InlineData("?joinLevel=0&options=bogus", "BadRequestData", "joinLevel")]
    public async Task The_first_bad_parameter_read_is_the_one_reported(string query, string error, string detail)
    {
        var id = await CreateAsync();
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}{query}");
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, error);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>().Should().Contain(detail);
    }

    [Fact]
    public async Task A_query_body_takes_its_representation_from_the_URL_and_its_projection_and_lang_from_the_body()
    {
        var id = await CreateAsync();
        var body = $$$"""{"type":"Query","entities":[{"id":"{{{id}}}","type":"Lamp"}],"pick":["id","level"],"lang":"fr"}""";
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?options=keyValues&lang=en", body);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.ToJsonString().Should().Be($$$"""[{"id":"{{{id}}}","level":3}]""");
        // The body's route takes no projection in its URL: refused before the body is read.
        var refused = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query?pick=id", body);
        await refused.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public void Prefer_is_read_from_every_header_value()
    {
        PreferHeader.Parse(StringValues.Empty).Should().BeSameAs(PreferHeader.None);
        PreferHeader.Parse(new StringValues(["", "  "])).Should().BeSameAs(PreferHeader.None);
        PreferHeader.Parse(new StringValues("respond-async")).Should().BeSameAs(PreferHeader.None);
        PreferHeader.Parse(new StringValues(["respond-async", "ngsi-ld=\"1.6\"; x=y, BODY=Json"])).Should().Be(new PreferHeader(true, "1.6"));
        PreferHeader.Parse(new StringValues(["ngsi-ld=1.7", "ngsi-ld=1.6"])).Should().Be(new PreferHeader(false, "1.7"));
    }
}
