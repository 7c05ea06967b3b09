using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Subscriptions;

/// <summary>The subscription resources (clauses 5.8.1–5.8.5): create, retrieve, list, update, delete and validation.</summary>
public sealed class SubscriptionApiTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "subs-" + Guid.NewGuid().ToString("N")[..8];

    private static string Valid(string id = "urn:ngsi-ld:Subscription:s1") => $$$$"""
        {"id":"{{{{id}}}}","type":"Subscription","subscriptionName":"speeding","entities":[{"type":"Car"}],"watchedAttributes":["speed"],
         "q":"speed>50","notification":{"attributes":["speed"],"format":"keyValues","endpoint":{"uri":"http://127.0.0.1:9/notify","accept":"application/json"}}}
        """;

    [Fact]
    public async Task Create_returns_201_with_location_and_reads_back_with_status()
    {
        var created = await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().Be($"{Subscriptions}/urn:ngsi-ld:Subscription:s1");
        var subscription = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).JsonAsync();
        subscription["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Subscription:s1");
        subscription["subscriptionName"]!.GetValue<string>().Should().Be("speeding");
        subscription["status"]!.GetValue<string>().Should().Be("active");
        subscription.ContainsKey("isActive").Should().BeFalse("isActive was not given: its default shows as status active");
        subscription["q"]!.GetValue<string>().Should().Be("speed>50");
        subscription["notification"]!.AsObject().ContainsKey("timesSent").Should().BeFalse("nothing was sent yet");
        subscription["notification"]!["endpoint"]!["uri"]!.GetValue<string>().Should().Be("http://127.0.0.1:9/notify");
        subscription["notificationTrigger"]!.AsArray().Select(t => t!.GetValue<string>()).Should()
            .Equal(["attributeCreated", "attributeUpdated"], "a subscription without triggers shows the default ones (Table 5.2.12-1)");
    }

    [Fact]
    public async Task Create_without_id_generates_one()
    {
        var body = JsonNode.Parse(Valid())!.AsObject();
        body.Remove("id");

        var created = await _client.Send(HttpMethod.Post, Subscriptions, body.ToJsonString(), tenant: _tenant);

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().StartWith($"{Subscriptions}/urn:ngsi-ld:Subscription:");
    }

    [Fact]
    public async Task Create_twice_is_409()
    {
        await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);
        var again = await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);
        await again.ShouldBeProblemAsync(HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Theory]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}]}""", "notification")]
    [InlineData("""{"type":"Other","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://a/b"}}}""", "type")]
    [InlineData("""{"type":"Subscription","notification":{"endpoint":{"uri":"http://a/b"}}}""", "entities")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"ftp://a/b"}}}""", "uri")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://a/b","accept":"text/html"}}}""", "accept")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"format":"fancy","endpoint":{"uri":"http://a/b"}}}""", "format")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"q":"speed>","notification":{"endpoint":{"uri":"http://a/b"}}}""", "q")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"expiresAt":"2000-01-01T00:00:00Z","notification":{"endpoint":{"uri":"http://a/b"}}}""", "past")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"throttling":-1,"notification":{"endpoint":{"uri":"http://a/b"}}}""", "throttling")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"timeInterval":5,"throttling":1,"notification":{"endpoint":{"uri":"http://a/b"}}}""", "timeInterval")]
    [InlineData("""{"type":"Subscription","watchedAttributes":["a"],"timeInterval":5,"notification":{"endpoint":{"uri":"http://a/b"}}}""", "timeInterval")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"notificationTrigger":["sometimes"],"notification":{"endpoint":{"uri":"http://a/b"}}}""", "notificationTrigger")]
    [InlineData("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://a/b","receiverInfo":[{"key":"Bad Header","value":"x"}]}}}""", "header")]
    [InlineData("""{"type":"Subscription","entities":[{}],"notification":{"endpoint":{"uri":"http://a/b"}}}""", "entities")]
    [InlineData("""{"id":"not a uri","type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://a/b"}}}""", "URI")]
    public async Task Invalid_subscription_is_400_with_the_reason(string body, string reason)
    {
        var response = await _client.Send(HttpMethod.Post, Subscriptions, body, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        var again = await _client.Send(HttpMethod.Post, Subscriptions, body, tenant: _tenant);
        (await again.Content.ReadAsStringAsync()).Should().Contain(reason);
    }

    [Fact]
    public async Task List_pages_and_counts()
    {
        for (var i = 0; i < 5; i++) await _client.Send(HttpMethod.Post, Subscriptions, Valid($"urn:ngsi-ld:Subscription:list{i}"), tenant: _tenant);

        var response = await _client.Send(HttpMethod.Get, $"{Subscriptions}?limit=2&offset=1&count=true", tenant: _tenant);
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        list.Select(s => s!["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Subscription:list1", "urn:ngsi-ld:Subscription:list2");
        response.Headers.GetValues("NGSILD-Results-Count").Single().Should().Be("5");
    }

    [Fact]
    public async Task Update_replaces_the_members_of_the_fragment_and_keeps_the_rest()
    {
        await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);

        var response = await _client.Send(HttpMethod.Patch, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1",
            """{"q":"speed>90","isActive":false,"notification":{"format":"normalized","endpoint":{"uri":"http://127.0.0.1:9/other"}}}""", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var subscription = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).JsonAsync();
        subscription["q"]!.GetValue<string>().Should().Be("speed>90");
        subscription["status"]!.GetValue<string>().Should().Be("paused");
        subscription["notification"]!["format"]!.GetValue<string>().Should().Be("normalized");
        subscription["notification"]!["endpoint"]!["uri"]!.GetValue<string>().Should().Be("http://127.0.0.1:9/other");
        subscription["notification"]!.AsObject().ContainsKey("attributes").Should().BeFalse("the fragment's notification replaced the whole member");
        subscription["subscriptionName"]!.GetValue<string>().Should().Be("speeding");
    }

    [Theory]
    [InlineData("""{"q":"speed>>"}""", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("""{"notification":{"format":"normalized"}}""", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("""{"notification":{"endpoint":null}}""", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("""{"id":"urn:ngsi-ld:Subscription:other"}""", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("{}", HttpStatusCode.BadRequest, "BadRequestData")]
    public async Task Invalid_update_is_rejected_and_changes_nothing(string fragment, HttpStatusCode status, string type)
    {
        await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);

        var response = await _client.Send(HttpMethod.Patch, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", fragment, tenant: _tenant);

        await response.ShouldBeProblemAsync(status, type);
        var subscription = await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).JsonAsync();
        subscription["q"]!.GetValue<string>().Should().Be("speed>50");
    }

    [Fact]
    public async Task Delete_removes_it_and_unknown_ids_are_404()
    {
        await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);

        (await _client.Send(HttpMethod.Delete, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Delete, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Patch, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1", """{"q":"a"}""", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Get, $"{Subscriptions}/not-a-uri", tenant: _tenant)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Subscriptions_are_per_tenant()
    {
        await _client.Send(HttpMethod.Post, Subscriptions, Valid(), tenant: _tenant);
        var other = await _client.Send(HttpMethod.Get, $"{Subscriptions}/urn:ngsi-ld:Subscription:s1");
        await other.ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
