using System.Net;
using System.Text;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Entities;

/// <summary>Malformed input answers 400/413/415 with ProblemDetails and never a 500 (clause 4.6, 6.3).</summary>
[Collection(BrokerCollection.Name)]
public sealed class ValidationTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData("""{"type":"T"}""")]
    [InlineData("""{"id":"not a uri","type":"T"}""")]
    [InlineData("""{"id":"thisisaninvaliduri","type":"T"}""")]
    [InlineData("""{"id":42,"type":"T"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"Bad(Type)"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":[]}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","bad=name":1}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","bad name":1}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Property"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Relationship","object":"not a uri"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Unknown","value":1}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Property","value":1,"object":"urn:a:b"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Property","value":1,"observedAt":"yesterday"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"Property","value":1,"datasetId":"not a uri"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"LanguageProperty","languageMap":"english"}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"JsonProperty","json":3}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"ListProperty","valueList":3}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":{"type":"ListRelationship","objectList":["nope"]}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a":null}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","scope":"no-slash"}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"Property","value":1}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[200,10]}}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1]}}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Circle","coordinates":[0,0]}}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"LineString","coordinates":[[0,0]]}}}""")]
    public async Task Invalid_entity_is_400_BadRequestData(string body)
    {
        var response = await _client.CreateAsync(body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{\"id\": }")]
    [InlineData("not json")]
    public async Task Unparseable_body_is_400_InvalidRequest(string body)
    {
        var response = await _client.CreateAsync(body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("multipart/form-data")]
    public async Task Unsupported_content_type_is_415(string contentType)
    {
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T"}""", contentType);
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
    }

    [Fact]
    public async Task Missing_content_type_is_415()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Api.Entities) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}")) };
        var response = await _client.SendAsync(request);
        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
    }

    [Fact]
    public async Task Body_over_the_size_cap_is_413_and_nothing_is_stored()
    {
        var id = Api.NewId();
        var big = new string('x', 3 * 1024 * 1024);

        var response = await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","blob":"{{{{big}}}}"}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Chunked_body_without_content_length_is_411_with_no_body()
    {
        // Clause 6.3.4: a POST, PATCH or PUT carries a Content-Length, so a chunked body is refused before it is read
        // (the streaming cap of ReadJsonAsync stays as a second line, for transports that frame bodies otherwise).
        var big = Encoding.UTF8.GetBytes($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T","blob":"{{{{new string('x', 3 * 1024 * 1024)}}}}"}""");
        var request = new HttpRequestMessage(HttpMethod.Post, Api.Entities) { Content = new StreamContent(new MemoryStream(big)) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("NGSILD-Tenant", "no-such-tenant-411");

        var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.LengthRequired);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
    }

    [Theory]
    [InlineData("""[{"id":"urn:ngsi-ld:T:1","type":"T"}]""")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    public async Task A_body_that_is_not_a_json_object_is_400_InvalidRequest(string body)
    {
        var response = await _client.CreateAsync(body);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task Unknown_path_is_404_with_problem_details()
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/nothing-here");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task Deeply_nested_json_is_rejected_not_crashing()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
        var response = await _client.CreateAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T","p":{{{{deep}}}}}""");
        ((int)response.StatusCode).Should().Be(400);
    }

    /// <summary>A small fuzz over mutated valid bodies: whatever comes in, the answer is never a 5xx.</summary>
    [Fact]
    public async Task Mutated_bodies_never_produce_a_server_error()
    {
        var random = new Random(1234);
        const string seed = """{"id":"urn:ngsi-ld:T:fuzz","type":"T","p":{"type":"Property","value":[1,{"x":"y"}],"observedAt":"2024-01-01T00:00:00Z","s":{"type":"Relationship","object":"urn:a:b"}},"location":{"type":"Point","coordinates":[1,2]},"l":{"type":"LanguageProperty","languageMap":{"en":"a"}}}""";
        const string alphabet = "{}[]\":,0123456789abcdefnulltrue-.:/ \\";
        for (var i = 0; i < 300; i++)
        {
            var chars = seed.ToCharArray();
            for (var m = 0; m < 1 + random.Next(4); m++) chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            var body = new string(chars).Replace("urn:ngsi-ld:T:fuzz", Api.NewId());
            foreach (var (method, path) in new[] { (HttpMethod.Post, Api.Entities), (HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:T:none/attrs") })
            {
                var response = await _client.Send(method, path, body);
                ((int)response.StatusCode).Should().BeLessThan(500, "body {0} gave {1}", body, await response.Content.ReadAsStringAsync());
            }
        }
    }
}
