using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>A broker with small @context caps, so each cap is reached in a few requests.</summary>
public sealed class SmallContextCapsFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Contexts:MaxDocumentBytes"] = "2048",
    ["Kontext:Contexts:MaxHostedPerTenant"] = "3",
    ["Kontext:Contexts:MaxHostedBytesPerTenant"] = "4096",
    ["Kontext:Contexts:MaxCachedDocuments"] = "2",
    ["Kontext:Contexts:MaxCachedBytes"] = "3000",
});

/// <summary>Hosted @contexts belong to a tenant and are capped per tenant; the remote-context cache is capped too.</summary>
public sealed class ContextCapTests(SmallContextCapsFixture fixture) : IClassFixture<SmallContextCapsFixture>
{
    private const string Base = "/ngsi-ld/v1/jsonldContexts";
    private readonly HttpClient _client = fixture.Client;

    private static string NewTenant() => "ctx-" + Guid.NewGuid().ToString("N")[..8];

    private static string ContextBody(string term, int padding = 0) =>
        new JsonObject { ["@context"] = new JsonObject { [term] = "https://example.org/" + term + new string('x', padding) } }.ToJsonString();

    private Task<HttpResponseMessage> AddAsync(string body, string? tenant) => _client.Send(HttpMethod.Post, Base, body, tenant: tenant);

    private async Task<JsonArray> ListAsync(string? tenant, string kind = "Hosted") =>
        JsonNode.Parse(await (await _client.Send(HttpMethod.Get, $"{Base}?details=true&kind={kind}", tenant: tenant)).Content.ReadAsStringAsync())!.AsArray();

    [Fact]
    public async Task Hosted_context_larger_than_MaxDocumentBytes_is_413()
    {
        var response = await AddAsync(ContextBody("big", padding: 3000), NewTenant());

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
    }

    [Fact]
    public async Task Hosted_contexts_beyond_the_tenant_count_cap_are_403_and_other_tenants_are_not_affected()
    {
        var tenant = NewTenant();
        for (var i = 0; i < 3; i++) (await AddAsync(ContextBody("t" + i), tenant)).StatusCode.Should().Be(HttpStatusCode.Created);

        var fourth = await AddAsync(ContextBody("t3"), tenant);
        var again = await AddAsync(ContextBody("t0"), tenant);
        var elsewhere = await AddAsync(ContextBody("t3"), NewTenant());

        await fourth.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        (await fourth.JsonAsync())["detail"]!.GetValue<string>().Should().Contain("MaxHostedPerTenant");
        again.StatusCode.Should().Be(HttpStatusCode.Created, "the same context is the same hosted document, not a new one");
        elsewhere.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Inline_context_named_in_a_Link_header_counts_against_the_same_cap()
    {
        var tenant = NewTenant();
        for (var i = 0; i < 3; i++) (await AddAsync(ContextBody("q" + i), tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Car"}""", tenant: tenant);

        var query = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/query",
            """{"type":"Query","entities":[{"type":"Car"}],"@context":{"fresh":"https://example.org/fresh"}}""", "application/ld+json",
            accept: "application/json", tenant: tenant);

        await query.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
    }

    [Fact]
    public async Task Hosted_contexts_beyond_the_tenant_byte_cap_are_403()
    {
        var tenant = NewTenant();
        (await AddAsync(ContextBody("b0", padding: 1800), tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await AddAsync(ContextBody("b1", padding: 1800), tenant)).StatusCode.Should().Be(HttpStatusCode.Created);

        var third = await AddAsync(ContextBody("b2", padding: 1800), tenant);

        await third.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "LimitExceeded");
        (await third.JsonAsync())["detail"]!.GetValue<string>().Should().Contain("MaxHostedBytesPerTenant");
    }

    [Fact]
    public async Task Hosted_context_is_listed_and_deletable_only_in_its_tenant_but_readable_by_url()
    {
        string owner = NewTenant(), other = NewTenant();
        var added = await AddAsync(ContextBody("mine"), owner);
        added.StatusCode.Should().Be(HttpStatusCode.Created);
        (await AddAsync(ContextBody("theirs"), other)).StatusCode.Should().Be(HttpStatusCode.Created);
        var location = added.Headers.Location!.ToString();
        var localId = location[(location.LastIndexOf('/') + 1)..];

        (await ListAsync(owner)).Select(e => e!["localId"]!.GetValue<string>()).Should().ContainSingle().Which.Should().Be(localId);
        (await ListAsync(other)).Select(e => e!["localId"]!.GetValue<string>()).Should().ContainSingle().Which.Should().NotBe(localId);
        (await ListAsync(null)).Select(e => e!["localId"]!.GetValue<string>()).Should().NotContain(localId);
        await (await _client.Send(HttpMethod.Delete, location, tenant: other)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, location)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        (await _client.Send(HttpMethod.Get, location)).StatusCode.Should().Be(HttpStatusCode.OK, "JSON-LD processors dereference Link URLs without tenant headers");

        (await _client.Send(HttpMethod.Delete, location, tenant: owner)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await ListAsync(owner)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_same_context_in_two_tenants_gets_two_urls()
    {
        var first = await AddAsync(ContextBody("common"), NewTenant());
        var second = await AddAsync(ContextBody("common"), NewTenant());

        first.Headers.Location.Should().NotBe(second.Headers.Location);
    }

    [Fact]
    public async Task Remote_context_larger_than_MaxDocumentBytes_is_not_fetched_beyond_the_cap()
    {
        await using var server = await ContextServer.StartAsync();
        var url = server.Serve("/too-big.jsonld", ContextBody("big", padding: 3000));

        var response = await _client.CreateAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Car"}""", link: Api.Link(url));

        await response.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
    }

    [Fact]
    public async Task Remote_context_cache_keeps_at_most_MaxCachedBytes_dropping_the_oldest()
    {
        await using var server = await ContextServer.StartAsync();
        var urls = Enumerable.Range(0, 2).Select(i => server.Serve($"/bytes-{i}.jsonld", ContextBody("d" + i, padding: 1600))).ToList();
        foreach (var url in urls)
            await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Car"}""", link: Api.Link(url));

        var cached = (await ListAsync(null, "Cached")).Select(e => e!["URL"]!.GetValue<string>()).ToList();

        cached.Should().Equal([urls[1]], "two documents of 1.6 kB exceed the 3,000 bytes the cache may hold");
    }

    [Fact]
    public async Task Remote_context_cache_keeps_at_most_MaxCachedDocuments_dropping_the_oldest()
    {
        await using var server = await ContextServer.StartAsync();
        var urls = Enumerable.Range(0, 3).Select(i => server.Serve($"/cap-{i}.jsonld", ContextBody("c" + i))).ToList();
        foreach (var url in urls)
            await _client.CreateOkAsync($$$"""{"id":"{{{Api.NewId()}}}","type":"Car"}""", link: Api.Link(url));

        var cached = (await ListAsync(null, "Cached")).Select(e => e!["URL"]!.GetValue<string>()).ToList();

        cached.Should().Equal(urls[1], urls[2]);
    }
}
