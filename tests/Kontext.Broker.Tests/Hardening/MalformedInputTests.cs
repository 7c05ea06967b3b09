using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>
/// Input that used to reach a handler half-checked and end in a 500 (the hardening issue's defects 1-8): each now gets
/// a 400-class ProblemDetails before anything is written.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class MalformedInputTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private static HttpRequestMessage Raw(HttpMethod method, string path, byte[] body, string contentType = "application/json", string? tenant = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (tenant is not null) request.Headers.TryAddWithoutValidation("NGSILD-Tenant", tenant);
        return request;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Theory]
    [InlineData("/ngsi-ld/v1/entities", """{"id":"urn:ngsi-ld:T:dup1","id":"urn:ngsi-ld:T:dup2","type":"T"}""")]
    [InlineData("/ngsi-ld/v1/entities", """{"id":"urn:ngsi-ld:T:dup3","type":"T","a":{"type":"Property","value":{"x":1,"x":2}}}""")]
    [InlineData("/ngsi-ld/v1/entityOperations/upsert", """[{"id":"urn:ngsi-ld:T:dup4","type":"T","type":"U"}]""")]
    [InlineData("/ngsi-ld/v1/subscriptions", """{"type":"Subscription","type":"Subscription","entities":[{"type":"T"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:1/n"}}}""")]
    [InlineData("/ngsi-ld/v1/jsonldContexts", """{"@context":{"a":"http://example.org/a","a":"http://example.org/b"}}""")]
    [InlineData("/ngsi-ld/v1/temporal/entities", """{"id":"urn:ngsi-ld:T:dup5","type":"T","id":"urn:ngsi-ld:T:dup6"}""")]
    public async Task Duplicate_member_names_are_400_InvalidRequest(string path, string json)
    {
        var response = await _client.SendAsync(Raw(HttpMethod.Post, path, Utf8(json)));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
        (await response.Content.ReadAsStringAsync()).Should().Contain("Duplicate");
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_string_is_400_and_nothing_is_stored()
    {
        var id = Api.NewId();
        byte[] body = [.. Utf8($$$"""{"id":"{{{id}}}","type":"T","a":{"type":"Property","value":" """), 0xFF, 0xFE, .. Utf8("\"}}")];

        var response = await _client.SendAsync(Raw(HttpMethod.Post, Api.Entities, body));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"id":"urn:ngsi-ld:T:sur1","type":"\udcff"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:sur2","type":"T","\ud800":{"type":"Property","value":1}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:sur3","type":"T","a":{"type":"Property","value":"x\udc00y"}}""")]
    public async Task A_lone_surrogate_escape_is_400(string json)
    {
        var response = await _client.SendAsync(Raw(HttpMethod.Post, Api.Entities, Utf8(json)));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task A_valid_surrogate_pair_escape_is_accepted()
    {
        var id = Api.NewId();
        var response = await _client.SendAsync(Raw(HttpMethod.Post, Api.Entities,
            Utf8($$$"""{"id":"{{{id}}}","type":"T","name":{"type":"Property","value":"rain \ud83c\udf27"}}""")));

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.GetEntityAsync(id))["name"]!["value"]!.GetValue<string>().Should().Be("rain \U0001F327");
    }

    [Theory]
    [InlineData("città")]
    [InlineData("a b")]
    [InlineData("tenant\u0001")]
    [InlineData("x<script>")]
    public async Task An_invalid_tenant_name_is_400_before_anything_is_written_and_is_not_echoed(string tenant)
    {
        var id = Api.NewId();
        var request = Raw(HttpMethod.Post, Api.Entities, Utf8($$$"""{"id":"{{{id}}}","type":"T"}"""), tenant: tenant);

        var response = await _client.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        response.Headers.Contains("NGSILD-Tenant").Should().BeFalse();
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_long_tenant_name_of_dots_works_and_keeps_its_file_name_short()
    {
        var tenant = new string('.', 100) + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId();

        var created = await _client.CreateAsync($$$"""{"id":"{{{id}}}","type":"T"}""", tenant: tenant);
        var read = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: tenant);

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        read.StatusCode.Should().Be(HttpStatusCode.OK);
        read.Headers.GetValues("NGSILD-Tenant").Single().Should().Be(tenant);
        Directory.EnumerateFiles(fixture.Factory.DataDirectory).Select(Path.GetFileName).Should().OnlyContain(f => f!.Length < 120);
    }

    [Fact]
    public async Task A_non_ascii_entity_id_is_stored_and_its_location_is_percent_encoded()
    {
        var id = "urn:ngsi-ld:T:café-" + Guid.NewGuid().ToString("N")[..6];

        var created = await _client.CreateAsync($$$"""{"id":"{{{id}}}","type":"T"}""");

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var location = created.Headers.Location!.OriginalString;
        location.Should().Contain("caf%C3%A9-").And.NotContain("é");
        (await _client.Send(HttpMethod.Get, location)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.GetEntityAsync(Uri.EscapeDataString(id)))["id"]!.GetValue<string>().Should().Be(id);
    }

    [Theory]
    [InlineData("\u202E")] // right-to-left override
    [InlineData("\u200B")] // zero width space
    [InlineData("\uFEFF")] // byte order mark
    [InlineData("\uFE0F")] // variation selector
    [InlineData("\uFDD0")] // noncharacter
    [InlineData("\uFFFF")] // plane-trailing noncharacter
    [InlineData("\u3164")] // Hangul filler
    [InlineData("\u2800")] // Braille pattern blank
    [InlineData("\u00A0")] // no-break space
    public async Task An_entity_id_with_an_invisible_or_non_character_is_400_and_not_stored(string character)
    {
        var id = $"urn:ngsi-ld:T:a{character}b" + Guid.NewGuid().ToString("N")[..6];
        var json = System.Text.Json.JsonSerializer.Serialize(new { id, type = "T" });

        var response = await _client.CreateAsync(json);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{Uri.EscapeDataString(id)}")).StatusCode
            .Should().Be(HttpStatusCode.BadRequest, "the same id in a URL is refused too");
    }

    [Theory]
    [InlineData("Thu, 26 Nov 2026 11:00:00 GMT")]
    [InlineData("2026-11-26T11:00:00+02:00")]
    [InlineData("2026-11-26T11:00:00")]
    [InlineData("2026-11-26 11:00:00Z")]
    [InlineData("2026-13-26T11:00:00Z")]
    public async Task ObservedAt_that_is_not_a_UTC_RFC3339_date_time_is_400(string observedAt)
    {
        var id = Api.NewId();
        var response = await _client.CreateAsync($$$"""{"id":"{{{id}}}","type":"T","a":{"type":"Property","value":1,"observedAt":"{{{observedAt}}}"}}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task ObservedAt_in_UTC_is_kept_as_given()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"T","a":{"type":"Property","value":1,"observedAt":"2026-11-26T09:00:00.25Z"}}""");

        (await _client.GetEntityAsync(id))["a"]!["observedAt"]!.GetValue<string>().Should().Be("2026-11-26T09:00:00.25Z");
    }

    [Fact]
    public async Task A_deeply_nested_value_accepted_once_stays_readable_writable_and_deletable()
    {
        var id = Api.NewId();
        var deep = new string('[', 60) + new string(']', 60);

        var created = await _client.CreateAsync($$$"""{"id":"{{{id}}}","type":"T","a":{"type":"Property","value":{{{deep}}}}}""");
        var read = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}");
        var updated = await _client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"b":{"type":"Property","value":1}}""");
        var history = await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}");
        var deleted = await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}");

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        read.StatusCode.Should().Be(HttpStatusCode.OK);
        updated.StatusCode.Should().Be(HttpStatusCode.NoContent);
        history.StatusCode.Should().Be(HttpStatusCode.OK);
        deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_body_nested_deeper_than_64_levels_is_400()
    {
        var deep = new string('[', 70) + new string(']', 70);

        var response = await _client.CreateAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"T","a":{"type":"Property","value":{{{deep}}}}}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }
}
