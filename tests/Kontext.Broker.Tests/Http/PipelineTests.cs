using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Http;

/// <summary>
/// What the pipeline around the handlers adds to every answer (request id, tenant echo, ProblemDetails for the 404 and
/// 405 that no handler wrote) since the status-code pages live in the error middleware (issue 12).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class PipelineTests(BrokerFixture fixture)
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task An_unknown_path_is_404_ProblemDetails_with_the_request_id_and_the_tenant()
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/nowhere/at/all", tenant: "pipeline404");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        body["detail"]!.GetValue<string>().Should().Contain("/ngsi-ld/v1/nowhere/at/all");
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        body["requestId"]!.GetValue<string>().Should().Be(requestId);
        response.Headers.GetValues("NGSILD-Tenant").Single().Should().Be("pipeline404");
    }

    [Fact]
    public async Task A_method_the_route_does_not_allow_is_405_ProblemDetails()
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entities/urn:ngsi-ld:T:pipeline405", "{}");
        await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed");
        response.Headers.Contains("X-Request-Id").Should().BeTrue();
    }

    [Fact]
    public async Task A_404_the_handler_wrote_keeps_its_own_problem()
    {
        var response = await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/entities/urn:ngsi-ld:T:pipelineMissing");
        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        body["detail"]!.GetValue<string>().Should().Be("The entity 'urn:ngsi-ld:T:pipelineMissing' does not exist");
    }

    [Fact]
    public async Task GET_and_PATCH_answer_with_the_request_id_the_tenant_and_the_context_link()
    {
        const string tenant = "pipelineok";
        const string id = "urn:ngsi-ld:T:pipelineOk";
        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entities", $$$"""{"id":"{{{id}}}","type":"T","p":{"type":"Property","value":1}}""", tenant: tenant))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        var patch = await _client.Send(HttpMethod.Patch, $"/ngsi-ld/v1/entities/{id}/attrs", """{"p":{"type":"Property","value":2}}""", tenant: tenant);
        patch.StatusCode.Should().Be(HttpStatusCode.NoContent);
        patch.Headers.GetValues("NGSILD-Tenant").Single().Should().Be(tenant);
        patch.Headers.GetValues("X-Request-Id").Single().Should().NotBeNullOrWhiteSpace();

        var get = await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/entities/{id}", tenant: tenant);
        get.StatusCode.Should().Be(HttpStatusCode.OK);
        get.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        get.Headers.GetValues("NGSILD-Tenant").Single().Should().Be(tenant);
        get.Headers.GetValues("X-Request-Id").Single().Should().NotBeNullOrWhiteSpace();
        get.Headers.GetValues("Link").Single().Should().Contain("rel=\"http://www.w3.org/ns/json-ld#context\"");
        (await get.JsonAsync())["p"]!["value"]!.GetValue<int>().Should().Be(2);
    }
}
