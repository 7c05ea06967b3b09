using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>A broker allowing two registrations and one registration subscription per tenant.</summary>
public sealed class RegistrationLimitFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Limits:MaxRegistrationsPerTenant"] = "2",
    ["Kontext:Limits:MaxRegistrationSubscriptionsPerTenant"] = "1",
});

/// <summary>Kontext:Limits caps what a caller can create (D12): registrations and registration subscriptions per tenant.</summary>
public sealed class RegistrationLimitTests(RegistrationLimitFixture fx) : IClassFixture<RegistrationLimitFixture>
{
    [Fact]
    public async Task A_registration_beyond_the_tenant_cap_returns_403_LimitExceeded()
    {
        var tenant = "cap-" + Guid.NewGuid().ToString("N")[..8];
        for (var i = 0; i < 2; i++)
            (await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, RegistrationApiTests.Registration(Api.NewId("ContextSourceRegistration")), tenant: tenant))
                .StatusCode.Should().Be(HttpStatusCode.Created);

        var third = await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, RegistrationApiTests.Registration(Api.NewId("ContextSourceRegistration")), tenant: tenant);

        await third.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
    }

    [Fact]
    public async Task A_registration_subscription_beyond_the_tenant_cap_returns_403_LimitExceeded()
    {
        var tenant = "cap-" + Guid.NewGuid().ToString("N")[..8];
        const string body = """{"type":"Subscription","entities":[{"type":"Vehicle"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""";
        (await fx.Client.Send(HttpMethod.Post, RegistrationSubscriptionApiTests.Subscriptions, body, tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.Created);

        var second = await fx.Client.Send(HttpMethod.Post, RegistrationSubscriptionApiTests.Subscriptions, body, tenant: tenant);

        await second.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
    }
}
