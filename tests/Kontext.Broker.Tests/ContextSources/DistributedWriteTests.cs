using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// Distributed Merge and Replace Entity, the single-attribute writes, Purge Entities and the batch operations (clause
/// 4.3.6.3 with 5.6), local=true (clause 8.6), registrations that do not offer the write (Conflict), and the 207 answers,
/// between two real brokers.
/// </summary>
[Collection(FederationCollection.Name)]
public sealed class DistributedWriteTests(FederatedBrokers fx)
{
    private const string Batch = "/ngsi-ld/v1/entityOperations";
    private readonly string _tenant = "write-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _type = "Vehicle" + Guid.NewGuid().ToString("N")[..8];
    private HttpClient Region => fx.Client;

    private string Entity(string id, string attributes) => $$"""{"id":"{{id}}","type":"{{_type}}"{{attributes}}}""";

    private Task RegisterAsync(string mode, string information, string operations = "\"redirectionOps\"", string endpoint = "") =>
        fx.RegisterAsync(_tenant, FederatedBrokers.Registration(endpoint.Length > 0 ? endpoint : fx.MunicipalUrl, information, mode,
            $$""", "operations": [{{operations}}]"""));

    private string SpeedOf(string id) => $$"""[{"entities":[{"type":"{{_type}}","id":"{{id}}"}],"propertyNames":["speed"]}]""";

    private string AllOfType => $$"""[{"entities":[{"type":"{{_type}}"}]}]""";

    private Task<HttpResponseMessage> LocalAsync(string id) => Region.Send(HttpMethod.Get, $"{Api.Entities}/{id}?local=true", tenant: _tenant);

    private async Task<JsonObject> RemoteAsync(string id) => await fx.MunicipalClient.GetEntityAsync(id);

    private async Task<HttpStatusCode> RemoteStatusAsync(string id) => (await fx.MunicipalClient.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode;

    [Fact]
    public async Task Merge_entity_merges_the_attribute_of_an_exclusive_registration_at_its_source_and_the_rest_locally()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"bus"}"""), tenant: _tenant);
        await RegisterAsync("exclusive", SpeedOf(id));

        var response = await Region.Send(HttpMethod.Patch, $"{Api.Entities}/{id}",
            """{"speed":{"type":"Property","value":80},"name":{"type":"Property","value":"tram"}}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(80);
        var local = await (await LocalAsync(id)).JsonAsync();
        local["name"]!["value"]!.GetValue<string>().Should().Be("tram");
        local.ContainsKey("speed").Should().BeFalse("the exclusive source holds speed");
    }

    [Fact]
    public async Task Replace_entity_for_a_redirect_registration_is_done_at_the_source_only()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1},"old":{"type":"Property","value":true}"""));
        await RegisterAsync("redirect", AllOfType);

        var response = await Region.Send(HttpMethod.Put, $"{Api.Entities}/{id}", Entity(id, ""","speed":{"type":"Property","value":7}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        var remote = await RemoteAsync(id);
        remote["speed"]!["value"]!.GetValue<int>().Should().Be(7);
        remote.ContainsKey("old").Should().BeFalse("Replace Entity replaces the whole entity at the source");
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Partial_attribute_update_and_replace_attribute_of_a_redirected_attribute_are_written_at_the_source()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", AllOfType);

        var patch = await Region.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/speed", """{"value":5}""", tenant: _tenant);
        var patched = (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>();
        var put = await Region.Send(HttpMethod.Put, $"{Api.Entities}/{id}/attrs/speed", """{"type":"Property","value":9}""", tenant: _tenant);

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent, await patch.Content.ReadAsStringAsync());
        put.StatusCode.Should().Be(HttpStatusCode.NoContent, await put.Content.ReadAsStringAsync());
        patched.Should().Be(5);
        (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(9);
    }

    [Fact]
    public async Task Delete_attribute_of_an_inclusive_registration_is_deleted_at_the_source_and_locally()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1},"name":{"type":"Property","value":"a"}"""));
        await Region.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":2},"name":{"type":"Property","value":"b"}"""), tenant: _tenant);
        await RegisterAsync("inclusive", AllOfType);

        var response = await Region.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/speed", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await RemoteAsync(id)).ContainsKey("speed").Should().BeFalse();
        (await (await LocalAsync(id)).JsonAsync()).ContainsKey("speed").Should().BeFalse();
    }

    [Fact]
    public async Task Purge_entities_of_a_type_is_forwarded_to_the_registered_source_with_the_same_selection()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("inclusive", AllOfType);

        var response = await Region.Send(HttpMethod.Delete, $"{Api.Entities}?type={_type}", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_create_sends_each_entity_the_attributes_an_exclusive_registration_holds_in_one_batch_request()
    {
        var first = Api.NewId(_type);
        var second = Api.NewId(_type);
        await RegisterAsync("exclusive", $$"""[{"entities":[{"type":"{{_type}}","id":"{{first}}"},{"type":"{{_type}}","id":"{{second}}"}],"propertyNames":["speed"]}]""");

        var response = await Region.Send(HttpMethod.Post, $"{Batch}/create",
            $"[{Entity(first, ""","speed":{"type":"Property","value":1},"name":{"type":"Property","value":"a"}""")},{Entity(second, ""","speed":{"type":"Property","value":2}""")}]",
            tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        (await RemoteAsync(first))["speed"]!["value"]!.GetValue<int>().Should().Be(1);
        (await RemoteAsync(first)).ContainsKey("name").Should().BeFalse();
        (await RemoteAsync(second))["speed"]!["value"]!.GetValue<int>().Should().Be(2);
        var local = await (await LocalAsync(first)).JsonAsync();
        local["name"]!["value"]!.GetValue<string>().Should().Be("a");
        local.ContainsKey("speed").Should().BeFalse();
        (await LocalAsync(second)).StatusCode.Should().Be(HttpStatusCode.NotFound, "the source holds everything the second entity had");
    }

    [Fact]
    public async Task Batch_upsert_update_merge_and_delete_of_redirected_entities_are_done_at_the_source()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", AllOfType);

        var upsert = await Region.Send(HttpMethod.Post, $"{Batch}/upsert", $"[{Entity(id, ""","speed":{"type":"Property","value":1}""")}]", tenant: _tenant);
        var update = await Region.Send(HttpMethod.Post, $"{Batch}/update", $"[{Entity(id, ""","colour":{"type":"Property","value":"red"}""")}]", tenant: _tenant);
        var merge = await Region.Send(HttpMethod.Post, $"{Batch}/merge", $"[{Entity(id, ""","speed":{"type":"Property","value":3}""")}]", tenant: _tenant);
        var remote = await RemoteAsync(id);
        var delete = await Region.Send(HttpMethod.Post, $"{Batch}/delete", $"[\"{id}\"]", tenant: _tenant);

        upsert.StatusCode.Should().Be(HttpStatusCode.Created, "the source created the entity: {0}", await upsert.Content.ReadAsStringAsync());
        update.StatusCode.Should().Be(HttpStatusCode.NoContent, await update.Content.ReadAsStringAsync());
        merge.StatusCode.Should().Be(HttpStatusCode.NoContent, await merge.Content.ReadAsStringAsync());
        delete.StatusCode.Should().Be(HttpStatusCode.NoContent, await delete.Content.ReadAsStringAsync());
        remote["speed"]!["value"]!.GetValue<int>().Should().Be(3);
        remote["colour"]!["value"]!.GetValue<string>().Should().Be("red");
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.NotFound);
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("upsert")]
    public async Task A_batch_forwarded_to_a_source_carries_every_entity_exactly_as_the_client_sent_it(string operation)
    {
        // The local parse moves the request's values into the entities; what a source gets must still be the client's text.
        await using var source = await CapturingSource.StartAsync();
        await RegisterAsync("redirect", AllOfType, endpoint: source.Url);
        var sent = JsonNode.Parse($"[{Entity(Api.NewId(_type), ""","speed":{"type":"Property","value":1.5,"unitCode":"KMH","observedAt":"2025-01-01T00:00:00Z","accuracy":{"type":"Property","value":0.1}},"name":"concise","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-3.7,40.4]}},"seats":[{"type":"Property","value":40},{"type":"Property","value":12,"datasetId":"urn:ngsi-ld:Dataset:upper"}],"owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:1"}""")}," +
                                 $"{Entity(Api.NewId(_type), ""","tags":{"type":"Property","value":{"a":[1,{"b":true}]}}""")}]")!;

        var response = await Region.Send(HttpMethod.Post, $"{Batch}/{operation}", sent.ToJsonString(), tenant: _tenant);

        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
        var received = source.Received.Should().ContainSingle().Subject;
        received.Path.Should().Be($"/ngsi-ld/v1/entityOperations/{operation}");
        JsonNode.DeepEquals(JsonNode.Parse(received.Body), sent).Should().BeTrue($"the source got {received.Body}");
    }

    /// <summary>A context source that records each request's path and body and answers every write 201.</summary>
    private sealed class CapturingSource : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string Path, string Body)> _received = new();

        private CapturingSource(WebApplication app, string url) => (_app, Url) = (app, url);

        public string Url { get; }
        public IReadOnlyList<(string Path, string Body)> Received => _received.ToList();

        public static async Task<CapturingSource> StartAsync()
        {
            var url = $"http://127.0.0.1:{NotificationReceiver.FreePort()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls(url);
            var app = builder.Build();
            var source = new CapturingSource(app, url);
            app.Run(async http =>
            {
                source._received.Enqueue((http.Request.Path.Value!, await new StreamReader(http.Request.Body).ReadToEndAsync()));
                http.Response.StatusCode = StatusCodes.Status201Created;
            });
            await app.StartAsync();
            return source;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_batch_entity_the_source_refuses_is_listed_in_errors_with_the_registration()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", AllOfType);

        var response = await Region.Send(HttpMethod.Post, $"{Batch}/create", $"[{Entity(id, ""","speed":{"type":"Property","value":1}""")}]", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var error = (await response.JsonAsync())["errors"]!.AsArray().Should().ContainSingle().Subject!;
        error["entityId"]!.GetValue<string>().Should().Be(id);
        error["registrationId"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:ContextSourceRegistration:");
        error["error"]!["status"]!.GetValue<int>().Should().Be(409, "the source already had the entity");
    }

    [Fact]
    public async Task Local_true_keeps_a_write_local_even_when_a_redirect_registration_matches()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", AllOfType);

        var response = await Region.Send(HttpMethod.Post, $"{Api.Entities}?local=true", Entity(id, ""","speed":{"type":"Property","value":1}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Replace_attribute_with_the_fragment_wrapped_in_the_attribute_name_is_written_at_the_redirect_source()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("redirect", AllOfType);

        var put = await Region.Send(HttpMethod.Put, $"{Api.Entities}/{id}/attrs/speed", """{"speed":{"type":"Property","value":12}}""", tenant: _tenant);

        put.StatusCode.Should().Be(HttpStatusCode.NoContent, await put.Content.ReadAsStringAsync());
        (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(12);
    }

    [Fact]
    public async Task Update_attributes_of_an_exclusive_registration_takes_its_target_from_the_url_whatever_id_the_fragment_names()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"bus"}"""), tenant: _tenant);
        await RegisterAsync("exclusive", SpeedOf(id));

        var patch = await Region.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs",
            $$$"""{"id":"urn:ngsi-ld:{{{_type}}}:other","type":"{{{_type}}}","speed":{"type":"Property","value":66}}""", tenant: _tenant);

        patch.StatusCode.Should().Be(HttpStatusCode.NoContent, await patch.Content.ReadAsStringAsync());
        (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(66);
    }

    [Fact]
    public async Task Delete_entity_with_a_type_selector_that_matches_neither_part_is_404_and_deletes_nothing()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await Region.CreateOkAsync(Entity(id, ""","name":{"type":"Property","value":"bus"}"""), tenant: _tenant);
        await RegisterAsync("redirect", SpeedOf(id));

        var response = await Region.Send(HttpMethod.Delete, $"{Api.Entities}/{id}?type=SomethingElse", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.OK);
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Create_entity_covered_by_a_redirect_registration_without_createEntity_is_409_Conflict()
    {
        var id = Api.NewId(_type);
        await RegisterAsync("redirect", AllOfType, operations: "\"retrieveOps\"");

        var response = await Region.CreateAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""), tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "Conflict");
        (await LocalAsync(id)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Create_entity_that_exists_locally_but_not_at_an_inclusive_source_is_207_with_the_local_error()
    {
        var id = Api.NewId(_type);
        await Region.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""), tenant: _tenant);
        await RegisterAsync("inclusive", AllOfType);

        var response = await Region.CreateAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""), tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var result = await response.JsonAsync();
        result["success"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal(id);
        var error = result["errors"]!.AsArray().Should().ContainSingle().Subject!;
        error["error"]!["status"]!.GetValue<int>().Should().Be(409);
        error.AsObject().ContainsKey("registrationId").Should().BeFalse("the error is this broker's own");
        (await RemoteAsync(id))["speed"]!["value"]!.GetValue<int>().Should().Be(1);
    }

    [Fact]
    public async Task Delete_entity_held_only_by_an_inclusive_source_is_207_with_the_local_404()
    {
        var id = Api.NewId(_type);
        await fx.MunicipalClient.CreateOkAsync(Entity(id, ""","speed":{"type":"Property","value":1}"""));
        await RegisterAsync("inclusive", AllOfType);

        var response = await Region.Send(HttpMethod.Delete, $"{Api.Entities}/{id}", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.MultiStatus);
        var error = (await response.JsonAsync())["errors"]!.AsArray().Should().ContainSingle().Subject!;
        error["error"]!["status"]!.GetValue<int>().Should().Be(404);
        (await RemoteStatusAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }
}
