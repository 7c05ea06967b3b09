using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Operations;

public sealed class CorsFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Cors:Origins:0"] = "https://dashboard.city.example",
});

/// <summary>Browser applications on the configured origins may call the broker and read the NGSI-LD headers.</summary>
public sealed class CorsTests(CorsFixture fx) : IClassFixture<CorsFixture>
{
    private const string Origin = "https://dashboard.city.example";

    [Fact]
    public async Task Preflight_from_a_configured_origin_is_answered_without_credentials()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, Api.Entities);
        request.Headers.Add("Origin", Origin);
        request.Headers.Add("Access-Control-Request-Method", "GET");
        request.Headers.Add("Access-Control-Request-Headers", "link, ngsild-tenant");
        var response = await fx.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        response.Headers.GetValues("Access-Control-Allow-Origin").Single().Should().Be(Origin);
        string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).ToLowerInvariant().Should().Contain("link").And.Contain("ngsild-tenant");
    }

    [Fact]
    public async Task Answers_to_a_configured_origin_expose_the_ngsi_ld_headers()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing&count=true");
        request.Headers.Add("Origin", Origin);
        var response = await fx.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Access-Control-Allow-Origin").Single().Should().Be(Origin);
        var exposed = string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers"));
        foreach (var header in new[] { "Link", "NGSILD-Results-Count", "NGSILD-Tenant", "Location", "X-Request-Id" }) exposed.Should().Contain(header);
    }

    [Fact]
    public async Task Error_answers_to_a_configured_origin_keep_the_cors_headers()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "/urn:ngsi-ld:Thing:absent");
        request.Headers.Add("Origin", Origin);
        var response = await fx.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Headers.GetValues("Access-Control-Allow-Origin").Single().Should().Be(Origin);
    }

    [Fact]
    public async Task Other_origins_get_no_cors_headers()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        request.Headers.Add("Origin", "https://evil.example");
        var response = await fx.Client.SendAsync(request);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }
}

[Collection(BrokerCollection.Name)]
public sealed class CorsOffByDefaultTests(BrokerFixture fx)
{
    [Fact]
    public async Task Without_configured_origins_there_are_no_cors_headers()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        request.Headers.Add("Origin", "https://dashboard.city.example");
        var response = await fx.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }
}
