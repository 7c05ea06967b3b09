using System.Net;
using System.Text.RegularExpressions;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>Retrieve Context Source Identity Information (clause 5.15.1, ContextSourceIdentity of clause 5.2.40).</summary>
[Collection(BrokerCollection.Name)]
public sealed class SourceIdentityTests(BrokerFixture fx)
{
    private const string Path = "/ngsi-ld/v1/info/sourceIdentity";

    [Fact]
    public async Task Source_identity_has_the_mandatory_members()
    {
        var response = await fx.Client.Send(HttpMethod.Get, Path);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body["type"]!.GetValue<string>().Should().Be("ContextSourceIdentity");
        body["id"]!.GetValue<string>().Should().StartWith("urn:");
        body["contextSourceAlias"]!.GetValue<string>().Should().NotBeEmpty();
        body["contextSourceUptime"]!.GetValue<string>().Should().MatchRegex(@"^P(?!$)(\d+D)?(T(?!$)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$");
        Regex.IsMatch(body["contextSourceTimeAt"]!.GetValue<string>(), @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$").Should().BeTrue();
    }

    [Fact]
    public async Task Each_tenant_has_its_own_stable_alias_and_needs_not_exist()
    {
        async Task<string> Alias(string? tenant) =>
            (await (await fx.Client.Send(HttpMethod.Get, Path, tenant: tenant)).JsonAsync())["contextSourceAlias"]!.GetValue<string>();

        var tenantA = await Alias("alias-a-" + Guid.NewGuid().ToString("N")[..6]);
        var defaultTenant = await Alias(null);

        tenantA.Should().NotBe(defaultTenant);
        (await Alias("alias-b")).Should().NotBe(await Alias("alias-c"));
        (await Alias("alias-b")).Should().Be(await Alias("alias-b"));
    }

    [Fact]
    public async Task Source_identity_in_json_ld_carries_its_context_in_the_body()
    {
        var response = await fx.Client.Send(HttpMethod.Get, Path, accept: "application/ld+json");

        (await response.JsonAsync()).ContainsKey("@context").Should().BeTrue();
    }
}
