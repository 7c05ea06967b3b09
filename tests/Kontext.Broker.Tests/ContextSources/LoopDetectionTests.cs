using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// What a forwarded request carries and when a request is not forwarded (clauses 4.3.6, 6.3.17, 6.3.18), seen from a
/// context source stub that records every request it gets.
/// </summary>
public sealed class LoopDetectionTests(FederationFixture fx) : IClassFixture<FederationFixture>, IAsyncLifetime
{
    private const string Alias = "urn:ngsi-ld:ContextSource:test-broker";
    private readonly string _tenant = "loop-" + Guid.NewGuid().ToString("N")[..8];
    private ContextSourceStub _source = null!;

    public async Task InitializeAsync() => _source = await ContextSourceStub.StartAsync();

    public async Task DisposeAsync() => await _source.DisposeAsync();

    private async Task RegisterAsync(string extra = "")
    {
        var registration = FederatedBrokers.Registration(_source.BaseUrl, """[{"entities":[{"type":"Vehicle"}]}]""", extra: extra);
        var response = await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> QueryAsync(string? via = null)
    {
        var request = Api.Request(HttpMethod.Get, $"{Api.Entities}?type=Vehicle", tenant: _tenant);
        if (via is not null) request.Headers.TryAddWithoutValidation("Via", via);
        return fx.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_forwarded_query_carries_Via_with_this_brokers_alias_and_asks_for_system_attributes()
    {
        await RegisterAsync();

        (await QueryAsync(via: "1.1 urn:ngsi-ld:ContextSource:upstream")).StatusCode.Should().Be(HttpStatusCode.OK);

        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Headers["Via"].Should().Be($"1.1 urn:ngsi-ld:ContextSource:upstream, 1.1 {Alias}:{_tenant}");
        sent.PathAndQuery.Should().Contain("type=Vehicle").And.Contain("options=sysAttrs");
    }

    [Fact]
    public async Task A_query_forwarded_to_a_localOnly_registration_carries_local_true()
    {
        await RegisterAsync(""","management":{"localOnly":true}""");

        (await QueryAsync()).StatusCode.Should().Be(HttpStatusCode.OK);

        _source.Requests.Should().ContainSingle().Which.PathAndQuery.Should().Contain("local=true");
    }

    [Fact]
    public async Task A_retrieve_forwarded_to_a_registration_with_a_top_level_localOnly_carries_local_true()
    {
        await RegisterAsync(""","localOnly":true""");
        _source.Body = """{"id":"urn:ngsi-ld:Vehicle:lo1","type":"Vehicle"}""";

        await fx.Client.Send(HttpMethod.Get, $"{Api.Entities}/urn:ngsi-ld:Vehicle:lo1", tenant: _tenant);

        _source.Requests.Should().ContainSingle().Which.PathAndQuery.Should().Contain("local=true");
    }

    [Fact]
    public async Task A_forwarded_batch_whose_entities_share_one_context_goes_as_json_with_the_context_in_the_Link_header()
    {
        var context = Kontext.Ngsi.JsonLd.CoreContext.V18Url;
        var registration = FederatedBrokers.Registration(_source.BaseUrl, """[{"entities":[{"type":"Vehicle"}]}]""", mode: "redirect",
            extra: ""","operations":["redirectionOps"]""");
        (await fx.Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        (_source.Status, _source.Body) = (204, "");
        var entities = string.Join(',', new[] { "urn:ngsi-ld:Vehicle:b1", "urn:ngsi-ld:Vehicle:b2" }.Select(id =>
            $$"""{"id":"{{id}}","type":"Vehicle","speed":{"type":"Property","value":1},"@context":["{{context}}"]}"""));

        var response = await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert", $"[{entities}]", tenant: _tenant,
            contentType: "application/ld+json");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var sent = _source.Requests.Should().ContainSingle().Subject;
        sent.Headers["Content-Type"].Should().StartWith("application/json");
        sent.Headers["Link"].Should().Contain(context);
        sent.Body.Should().NotContain("@context").And.Contain("urn:ngsi-ld:Vehicle:b1").And.Contain("urn:ngsi-ld:Vehicle:b2");
    }

    [Fact]
    public async Task An_answer_larger_than_the_cap_is_not_incorporated_and_warned_with_111()
    {
        _source.Body = "[" + string.Join(",", Enumerable.Repeat("{}", 1000)) + "]"; // over the fixture's 1 KiB cap
        await RegisterAsync();

        var response = await QueryAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("NGSILD-Warning").Should().ContainSingle().Which.Should().StartWith("111 ");
    }

    [Fact]
    public async Task A_request_that_already_passed_this_broker_is_not_forwarded_again()
    {
        await RegisterAsync();

        var response = await QueryAsync(via: $"1.1 urn:ngsi-ld:ContextSource:other, 1.1 {Alias}:{_tenant}");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _source.Requests.Should().BeEmpty();
        response.Headers.GetValues("NGSILD-Warning").Should().ContainSingle().Which.Should().StartWith($"199 {Alias}:{_tenant} ");
    }

    [Fact]
    public async Task A_request_is_not_forwarded_to_a_source_it_already_passed()
    {
        await RegisterAsync(""","contextSourceAlias":"urn:ngsi-ld:ContextSource:peer" """);

        (await QueryAsync(via: "1.1 urn:ngsi-ld:ContextSource:peer")).StatusCode.Should().Be(HttpStatusCode.OK);

        _source.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData(403, "not json", "299 ")]
    [InlineData(200, "not json", "111 ")]
    public async Task An_abnormal_answer_of_a_source_gives_an_NGSILD_Warning_and_is_not_incorporated(int status, string body, string warning)
    {
        (_source.Status, _source.Body) = (status, body);
        await RegisterAsync();

        var response = await fx.Client.Send(HttpMethod.Get, $"{Api.Entities}/{Api.NewId("Vehicle")}", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        response.Headers.GetValues("NGSILD-Warning").Should().ContainSingle().Which.Should().StartWith(warning);
    }

    [Fact]
    public async Task A_404_from_a_source_is_no_data_and_no_warning()
    {
        _source.Status = 404;
        await RegisterAsync();

        var response = await fx.Client.Send(HttpMethod.Get, $"{Api.Entities}/{Api.NewId("Vehicle")}", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        response.Headers.Contains("NGSILD-Warning").Should().BeFalse();
    }
}
