using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kontext.Broker.Http;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Http;

/// <summary>Behaviours every NGSI-LD operation shares (clause 6.3): URL parameters, Content-Length, media types, preferences.</summary>
[Collection(BrokerCollection.Name)]
public sealed class CommonResponseTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    private List<(string Method, string Pattern)> MappedNgsiRoutes() =>
        fixture.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/ngsi-ld/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (m, Kontext.Broker.Security.RouteRights.Normalize(e.RoutePattern.RawText!))))
            .ToList();

    [Fact]
    public void Every_ngsi_ld_route_declares_the_url_parameters_it_accepts()
    {
        var routes = MappedNgsiRoutes();
        routes.Should().HaveCountGreaterThan(40);
        routes.Where(r => RouteParameters.For(r.Method, r.Pattern) is null).Should().BeEmpty("every route needs a line in Http/RouteParameters.cs");
        RouteParameters.Declared.Except(routes).Should().BeEmpty("a stale line in RouteParameters checks nothing");
    }

    [Theory]
    [InlineData("GET", "/ngsi-ld/v1/entities?type=T&invalidParams=1")]
    [InlineData("POST", "/ngsi-ld/v1/entities?invalidParams=1")]
    [InlineData("DELETE", "/ngsi-ld/v1/entities?type=T&invalidParams=1")]
    [InlineData("GET", "/ngsi-ld/v1/types?invalidParams=1")]
    [InlineData("GET", "/ngsi-ld/v1/subscriptions?invalidParams=1")]
    [InlineData("POST", "/ngsi-ld/v1/subscriptions?invalidParams=1")]
    [InlineData("GET", "/ngsi-ld/v1/temporal/entities?type=T&invalidParams=1")]
    [InlineData("GET", "/ngsi-ld/v1/entities?TYPE=T")]
    public async Task Unknown_url_parameter_is_400_InvalidRequest_before_the_body_is_read(string method, string url)
    {
        // The body is not even an object: the parameter decides first.
        var response = await _client.Send(new HttpMethod(method), url, method == "POST" ? "\"not an entity\"" : null);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task Spec_parameters_an_operation_defines_are_accepted()
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/entities?type=T&limit=5&offset=0&count=true&options=keyValues&local=true");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("POST", "/ngsi-ld/v1/entities")]
    [InlineData("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:T:411/attrs")]
    [InlineData("PUT", "/ngsi-ld/v1/entities/urn:ngsi-ld:T:411")]
    public async Task A_body_without_Content_Length_is_411_with_no_body_whatever_the_tenant(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url)
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("""{"id":"urn:ngsi-ld:T:411","type":"T"}"""))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("NGSILD-Tenant", "no-such-tenant-at-all");

        var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.LengthRequired);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
    }

    [Theory]
    [InlineData("application/ld+json, application/json", "application/json")]
    [InlineData("application/geo+json, application/json", "application/json")]
    [InlineData("application/json;q=0.1, application/ld+json;q=0.9", "application/ld+json")]
    [InlineData("application/json;q=0, */*", "application/ld+json")]
    [InlineData("application/json;q=0, application/ld+json", "application/ld+json")]
    [InlineData("*/*;q=0.9, application/ld+json;q=0.8", "application/json")]
    [InlineData("application/ld+json;q=notanumber", "application/ld+json")]
    [InlineData("application/*", "application/json")]
    public async Task Accept_takes_the_weight_of_the_most_specific_range_and_breaks_ties_in_the_6_3_4_order(string accept, string expected)
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""");

        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", accept: accept);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be(expected);
    }

    [Fact]
    public async Task Accept_refusing_every_offered_type_is_406()
    {
        var response = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=T", accept: "application/json;q=0, application/ld+json;q=0, text/html");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotAcceptable, "NotAcceptable");
    }

    [Fact]
    public async Task GeoJson_answer_embeds_the_context_unless_the_client_prefers_a_Link_header()
    {
        var type = "Geo" + Guid.NewGuid().ToString("N");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"{{{{type}}}}","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""");

        var embedded = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type={type}", accept: "application/geo+json");
        var linked = await _client.SendAsync(WithPrefer(Api.Request(HttpMethod.Get, $"{Api.Entities}?type={type}", accept: "application/geo+json"), "body=json"));

        embedded.Content.Headers.ContentType!.MediaType.Should().Be("application/geo+json");
        (await embedded.JsonAsync()).ContainsKey("@context").Should().BeTrue();
        (await linked.JsonAsync()).ContainsKey("@context").Should().BeFalse();
        linked.ContextLink().Should().NotBeNull();
    }

    [Fact]
    public async Task Merge_patch_json_is_accepted_by_every_PATCH()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","speed":{"type":"Property","value":1}}""");

        var partial = await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/speed", """{"value":2}""", "application/merge-patch+json");

        partial.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.GetEntityAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(2);
    }

    [Theory]
    [InlineData("ngsi-ld=1.5")]
    [InlineData("NGSI-LD=1.5")]
    [InlineData("ngsi-ld=\"1.5\"")]
    [InlineData("respond-async, ngsi-ld=1.5;q=0.1")]
    public async Task An_earlier_version_preference_reformats_a_VocabProperty_answers_203_and_is_acknowledged(string prefer)
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","category":{"type":"VocabProperty","vocab":"commercial"}}""");

        var response = await _client.SendAsync(WithPrefer(Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}"), prefer));

        response.StatusCode.Should().Be(HttpStatusCode.NonAuthoritativeInformation);
        response.Headers.GetValues("Preference-Applied").Should().Equal("ngsi-ld=1.5");
        var entity = await response.JsonAsync();
        entity["category"]!["type"]!.GetValue<string>().Should().Be("Property");
        entity["category"]!["value"]!.GetValue<string>().Should().Be("commercial");
    }

    [Fact]
    public async Task A_payload_that_needs_no_change_is_200_with_the_preference_acknowledged_and_none_without_one()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","category":{"type":"VocabProperty","vocab":"commercial"}}""");

        var current = await _client.SendAsync(WithPrefer(Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}"), "ngsi-ld=1.9"));
        var unrelated = await _client.SendAsync(WithPrefer(Api.Request(HttpMethod.Get, $"{Api.Entities}/{id}"), "respond-async"));

        current.StatusCode.Should().Be(HttpStatusCode.OK);
        current.Headers.GetValues("Preference-Applied").Should().Equal("ngsi-ld=1.9");
        (await current.JsonAsync())["category"]!["type"]!.GetValue<string>().Should().Be("VocabProperty");
        unrelated.Headers.Contains("Preference-Applied").Should().BeFalse();
    }

    private static HttpRequestMessage WithPrefer(HttpRequestMessage request, string prefer)
    {
        request.Headers.TryAddWithoutValidation("Prefer", prefer);
        return request;
    }
}

/// <summary>The Accept negotiation as a pure function (clause 6.3.4, IETF RFC 9110 clause 5.3.2).</summary>
public sealed class AcceptHeaderTests
{
    private static readonly string[] Offered = ["application/json", "application/ld+json", "application/geo+json"];

    [Theory]
    [InlineData("application/geo+json", "application/geo+json")]
    [InlineData("application/json;q=0, application/ld+json;q=0, */*", "application/geo+json")]
    [InlineData("application/*;q=0.5, application/geo+json;q=0.4", "application/json")]
    [InlineData("text/html", null)]
    [InlineData("*/*;q=0", null)]
    public void Chooses_by_weight_then_by_the_order_of_the_offer(string accept, string? expected) =>
        AcceptHeader.Choose(accept, Offered).Should().Be(expected);
}
