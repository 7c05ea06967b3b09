using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Security.AuthFixture;

namespace Kontext.Broker.Tests.Security;

/// <summary>A broker with API keys and a low rate limit: 1 request per second, burst 1.</summary>
public sealed class RateLimitFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Auth:Mode"] = "apikey",
    ["Kontext:Auth:ApiKeys:busy:Key"] = Busy,
    ["Kontext:Auth:ApiKeys:busy:Tenants:0"] = "*",
    ["Kontext:Auth:ApiKeys:busy:Roles:0"] = "read",
    ["Kontext:Auth:ApiKeys:calm:Key"] = Calm,
    ["Kontext:Auth:ApiKeys:calm:Tenants:0"] = "*",
    ["Kontext:Auth:ApiKeys:calm:Roles:0"] = "read",
    ["Kontext:Limits:RequestsPerSecond"] = "1",
    ["Kontext:Limits:RequestBurst"] = "1",
})
{
    public const string Busy = "busy-key-0123456789";
    public const string Calm = "calm-key-0123456789";

    public Task<HttpResponseMessage> Get(string path, string key)
    {
        var request = Api.Request(HttpMethod.Get, path);
        ApiKey(key)(request);
        return Client.SendAsync(request);
    }
}

public sealed class RateLimitTests(RateLimitFixture fx) : IClassFixture<RateLimitFixture>
{
    [Fact]
    public async Task Principal_over_its_rate_gets_429_with_Retry_After_and_others_are_not_held_back()
    {
        // One token a second: within ten back-to-back requests one must find the bucket empty, however slow the machine.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await fx.Get(Api.Entities + "?type=Thing", RateLimitFixture.Busy);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else response.StatusCode.Should().Be(HttpStatusCode.OK);
        }
        refused.Should().NotBeNull("ten requests at once exceed one per second");
        await refused!.ShouldBeRefusedAsync(HttpStatusCode.TooManyRequests, AccessAssertions.TooManyRequests);
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);

        // Another principal has its own, full bucket.
        await (await fx.Get(Api.Entities + "?type=Thing", RateLimitFixture.Calm)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Health_probe_is_not_rate_limited()
    {
        for (var i = 0; i < 5; i++)
            (await fx.Client.Send(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>A broker with Mode apikey alone (no rate limit).</summary>
public sealed class ApiKeyModeFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Auth:Mode"] = "apikey",
    ["Kontext:Auth:ApiKeys:reader:Key"] = RateLimitFixture.Calm,
    ["Kontext:Auth:ApiKeys:reader:Tenants:0"] = "*",
    ["Kontext:Auth:ApiKeys:reader:Roles:0"] = "read",
});

/// <summary>Mode apikey alone: no credential, or a bearer token, is 401.</summary>
public sealed class ApiKeyModeTests(ApiKeyModeFixture fx) : IClassFixture<ApiKeyModeFixture>
{
    [Fact]
    public async Task Anonymous_request_returns_401_in_apikey_mode()
    {
        var response = await fx.Client.Send(HttpMethod.Get, Api.Entities + "?type=Thing");
        await response.ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
        response.Headers.WwwAuthenticate.Select(h => h.Scheme).Should().Equal("ApiKey");
    }

    [Fact]
    public async Task Bearer_token_returns_401_when_oidc_is_off()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        Bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")(request);
        await (await fx.Client.SendAsync(request)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }
}
