using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Distributed Create Entity, Update and Append Attributes and Delete Entity (clause 4.3.6.3 with 5.6) between two real
/// brokers: what exclusive and redirect registrations hold is written at the source, not locally.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedProvisionTests(FederatedBrokers fx)
{
    private readonly string _tenant = "prov-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Vehicle" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private string Entity(string id, string attributes) => $$"""{"id":"{{id}}","type":"{{_type}}"{{attributes}}}""";

    private Task RegisterAsync(string mode, string information, string endpoint = "") =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(endpoint.Length > 0 ? endpoint : fx.MunicipalUrl, information, mode,
            """, "operations": ["redirectionOps"]"""));

    private Task<HttpResponseMessage> LocalAsync(string id) => Region.Send(HttpMethod.Get, $"{Api.Entities}/{id}?local=true", tenant: _tenant);

    [Fact]
    public async Task Create_entity_sends_the_attribute_of_an_exclusive_registration_to_its_source_and_keeps_the_rest_locally()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("exclusive", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}],"propertyNames":["speed"]}]""");

        var response = await Region.CreateAsync(Entity(id, ""","speed":{"type":"Property","value":12},"name":{"type":"Property","value":"bus"}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var remote = await fx.MunicipalClient.GetEntityAsync(id);
        remote["speed"]!["value"]!.GetValue<int>().Should().Be(12);
        remote.ContainsKey("name").Should().BeFalse();
        var local = await (await LocalAsync(id)).JsonAsync();
        local["name"]!["value"]!.GetValue<string>().Should().Be("bus");
        local.ContainsKey("speed").Should().BeFalse("an exclusive registration's attribute is not held locally");
    }

    [Fact]
    public async Task Update_attributes_of_an_entity_a_redirect_registration_holds_are_written_at_the_source_only()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}"}]}]""");

        var response = await Region.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"speed":{"type":"Property","value":50}}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await fx.MunicipalClient.GetEntityAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(50);
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Append_attributes_for_a_redirect_registration_are_appended_at_the_source()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}"}]}]""");

        var response = await Region.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"colour":{"type":"Property","value":"blue"}}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await fx.MunicipalClient.GetEntityAsync(id))["colour"]!["value"]!.GetValue<string>().Should().Be("blue");
    }

    [Fact]
    public async Task Delete_entity_is_forwarded_to_a_redirect_source()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}]}]""");

        var response = await Region.Send(HttpMethod.Delete, $"{Api.Entities}/{id}", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await fx.MunicipalClient.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Replace_entity_is_sent_again_to_a_redirect_source_whose_connection_ended_without_an_answer()
    {
        using var source = RawContextSource.Start(n => n == 0 ? RawContextSource.Reply.CloseWithoutAnswer : RawContextSource.Reply.Answer);
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}]}]""", endpoint: source.BaseUrl);

        var response = await Region.Send(HttpMethod.Put, $"{Api.Entities}/{id}", Entity(id, ""","speed":{"type":"Property","value":3}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        source.Requests.Should().Equal([$"PUT /ngsi-ld/v1/entities/{id}", $"PUT /ngsi-ld/v1/entities/{id}"], "a replace is idempotent, so it is sent once more");
    }

    [Fact]
    public async Task Update_attributes_is_not_sent_again_to_a_redirect_source_whose_connection_ended_without_an_answer()
    {
        using var source = RawContextSource.Start(n => n == 0 ? RawContextSource.Reply.CloseWithoutAnswer : RawContextSource.Reply.Answer);
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}]}]""", endpoint: source.BaseUrl);

        var response = await Region.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"speed":{"type":"Property","value":50}}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout, "the only part of the write failed: the source gave no answer");
        source.Requests.Should().ContainSingle("an update that may have reached the source is not sent twice");
    }

    [Fact]
    public async Task A_source_that_fails_makes_the_create_207_with_a_BatchOperationResult_naming_the_registration()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("exclusive", $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}],"propertyNames":["speed"]}]""", endpoint: "http://127.0.0.1:9");

        var response = await Region.CreateAsync(Entity(id, ""","speed":{"type":"Property","value":12},"name":{"type":"Property","value":"bus"}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var result = await response.JsonAsync();
        result["success"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(id);
        var error = result["errors"]!.AsArray().Should().ContainSingle().Subject!;
        error["entityId"]!.GetValue<string>().Should().Be(id);
        error["registrationId"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:ContextSourceRegistration:");
        error["error"]!["status"]!.GetValue<int>().Should().Be(504, "the source could not be reached");
        (await (await LocalAsync(id)).JsonAsync())["name"]!["value"]!.GetValue<string>().Should().Be("bus");
    }

    [Fact]
    public async Task A_write_that_came_back_and_would_be_redirected_again_is_508_LoopDetected()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", $$"""[{"entities":[{"type":"{{_type}}"}]}]""");
        var request = Api.Request(HttpMethod.Delete, $"{Api.Entities}/{id}", tenant: _tenant);
        request.Headers.TryAddWithoutValidation("Via", $"1.1 urn:ngsi-ld:ContextSource:region:{_tenant}");

        var response = await Region.SendAsync(request);

        await response.ShouldBeProblemAsync((HttpStatusCode)508, "LoopDetected");
    }
}
