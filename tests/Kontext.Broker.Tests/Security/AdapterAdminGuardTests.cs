using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Security.AuthFixture;

namespace Kontext.Broker.Tests.Security;

/// <summary>The adapter admin endpoints are fail-closed with Kontext:Auth:Mode = none, while the NGSI-LD API stays open.</summary>
[Collection(BrokerCollection.Name)]
public sealed class AdapterAdminClosedTests(BrokerFixture fx)
{
    [Theory]
    [InlineData("GET", "/adapters/mappings")]
    [InlineData("POST", "/adapters/mappings/reload")]
    [InlineData("GET", "/adapters/deadletters")]
    [InlineData("GET", "/adapters/validation")]
    public async Task Adapter_admin_endpoint_without_an_admin_key_returns_403_and_no_data(string method, string path)
    {
        var response = await fx.Client.Send(new HttpMethod(method), path);
        await response.ShouldBeRefusedAsync(HttpStatusCode.Forbidden, AccessAssertions.Forbidden);
        (await response.Content.ReadAsStringAsync()).Should().NotContain("mappings\":").And.NotContain(Path.GetTempPath());
    }

    [Fact]
    public async Task Ngsi_ld_api_stays_open_in_mode_none_and_ignores_credentials()
    {
        (await fx.Client.Send(HttpMethod.Get, Api.Entities + "?type=Thing")).StatusCode.Should().Be(HttpStatusCode.OK);
        var withToken = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        withToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not.a.token");
        (await fx.Client.SendAsync(withToken)).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}

/// <summary>A broker in Mode none with Kontext:Adapters:AdminApiKey set.</summary>
public sealed class AdminKeyFixture() : BrokerFixtureBase(new Dictionary<string, string?> { ["Kontext:Adapters:AdminApiKey"] = AdminKeyFixture.Key })
{
    public const string Key = "operator-key-0123456789";
}

public sealed class AdapterAdminKeyTests(AdminKeyFixture fx) : IClassFixture<AdminKeyFixture>
{
    private Task<HttpResponseMessage> Get(string path, string? adminKey)
    {
        var request = Api.Request(HttpMethod.Get, path);
        if (adminKey is not null) request.Headers.Add("X-Admin-Key", adminKey);
        return fx.Client.SendAsync(request);
    }

    [Fact]
    public async Task Adapter_admin_endpoint_with_the_admin_key_answers()
    {
        await (await Get("/adapters/mappings", AdminKeyFixture.Key)).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Adapter_admin_endpoint_without_the_admin_key_returns_401()
    {
        await (await Get("/adapters/deadletters", null)).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Adapter_admin_endpoint_with_a_wrong_admin_key_returns_401()
    {
        await (await Get("/adapters/deadletters", "guess")).ShouldBeRefusedAsync(HttpStatusCode.Unauthorized, AccessAssertions.Unauthorized);
    }

    [Fact]
    public async Task Admin_key_opens_no_ngsi_ld_admin_route_it_was_not_made_for()
    {
        // Mode none leaves purge open anyway; what matters is that the key is not consulted there: a wrong one changes nothing.
        var request = Api.Request(HttpMethod.Delete, Api.Entities + "?type=Nothing");
        request.Headers.Add("X-Admin-Key", "guess");
        await (await fx.Client.SendAsync(request)).ShouldBeAsync(HttpStatusCode.NoContent);
    }
}
