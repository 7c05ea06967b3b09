using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>A broker with small caps, so each cap can be reached in a test.</summary>
public sealed class SmallLimitsFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Limits:MaxTenants"] = "3",
    ["Kontext:Limits:MaxSubscriptionsPerTenant"] = "2",
    ["Kontext:Limits:MaxOpenTenants"] = "2",
    ["Kontext:Adapters:AdminApiKey"] = "admin-key",
});

/// <summary>Every resource a caller can create has a cap with a clear 4xx when reached (D12).</summary>
public sealed class ResourceLimitTests(SmallLimitsFixture fixture) : IClassFixture<SmallLimitsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private static string Subscription(string id) => $$$$"""
        {"id":"{{{{id}}}}","type":"Subscription","entities":[{"type":"T"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}
        """;

    private static HttpRequestMessage Admin(HttpRequestMessage request)
    {
        request.Headers.Add("X-Admin-Key", "admin-key");
        return request;
    }

    [Fact]
    public async Task Adapter_validation_mode_with_a_text_body_is_415()
    {
        var response = await _client.SendAsync(Admin(Api.Request(HttpMethod.Put, "/adapters/validation/T", "mode=off", contentType: "text/plain")));

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType");
    }

    [Fact]
    public async Task Adapter_validation_mode_with_a_huge_body_is_413()
    {
        var response = await _client.SendAsync(Admin(Api.Request(HttpMethod.Put, "/adapters/validation/T", $$"""{"mode":"off","pad":"{{new string('x', 100_000)}}"}""")));

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
    }

    [Fact]
    public async Task Creating_a_tenant_beyond_MaxTenants_is_403_LimitExceeded_and_existing_tenants_keep_working()
    {
        var created = new List<string>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            var tenant = $"cap-{i}-{Guid.NewGuid():N}"[..20];
            var response = await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""", tenant: tenant);
            if (response.StatusCode == HttpStatusCode.Created) created.Add(tenant);
            else refused = response;
        }

        refused.Should().NotBeNull("at most 3 tenants may exist");
        await refused!.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        created.Should().HaveCountLessThanOrEqualTo(3);
        foreach (var tenant in created)
            (await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""", tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.CreateAsync($$"""{"id":"{{Api.NewId()}}","type":"T"}""")).StatusCode.Should().Be(HttpStatusCode.Created, "the default tenant is not counted");
    }

    [Fact]
    public async Task A_third_subscription_in_a_tenant_is_403_LimitExceeded()
    {
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap1"))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap2"))).StatusCode.Should().Be(HttpStatusCode.Created);

        var third = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", Subscription("urn:ngsi-ld:Subscription:cap3"));

        await third.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:cap3")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
