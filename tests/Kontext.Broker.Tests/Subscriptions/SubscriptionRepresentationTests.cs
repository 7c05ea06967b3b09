using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Subscriptions;

/// <summary>
/// How a subscription reads back (clauses 5.8.3, 5.8.4, 5.2.12): the members of the data type only, read-only members
/// from the broker, terms compacted with the reader's @context, pages linked as clause 6.3.13 says.
/// </summary>
public sealed class SubscriptionRepresentationTests : IAsyncLifetime
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";
    private const string Context = """{"@context":{"ex":"https://example.org/ns#","Car":"ex:Car","speed":"ex:speed"}}""";
    private readonly string _tenant = "subrep-" + Guid.NewGuid().ToString("N")[..8];
    private ContextServer _server = null!;
    private BrokerFactory _broker = null!;
    private HttpClient _client = null!;
    private string _contextUrl = "";

    public async Task InitializeAsync()
    {
        _server = await ContextServer.StartAsync();
        _contextUrl = _server.Serve("/cars.jsonld", Context);
        _broker = new BrokerFactory(settings: SubscriptionFixture.FastNotifications);
        _client = _broker.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
        _broker.DeleteData();
        await _server.DisposeAsync();
    }

    private async Task<string> CreateAsync(string body, string? link = null)
    {
        var response = await _client.Send(HttpMethod.Post, Subscriptions, body, link: link, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    [Fact]
    public async Task Read_only_and_unknown_members_given_on_creation_are_ignored()
    {
        var location = await CreateAsync("""
            {"type":"Subscription","entities":[{"type":"Car"}],"status":"expired","__context":"http://127.0.0.1:9/other.jsonld",
             "notification":{"timesSent":42,"lastSuccess":"2020-01-01T00:00:00Z","endpoint":{"uri":"http://127.0.0.1:9/notify"}}}
            """);

        var response = await _client.Send(HttpMethod.Get, location, tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        var subscription = await response.JsonAsync();

        text.Should().NotContain("__context").And.NotContain("other.jsonld").And.NotContain("2020-01-01");
        subscription["status"]!.GetValue<string>().Should().Be("active");
        subscription["notification"]!.AsObject().ContainsKey("timesSent").Should().BeFalse("nothing was sent: the given count is ignored");
    }

    [Fact]
    public async Task IsActive_is_shown_only_when_the_client_gave_it()
    {
        var given = await CreateAsync("""{"type":"Subscription","entities":[{"type":"Car"}],"isActive":false,"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""");
        var defaulted = await CreateAsync("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""");

        var paused = await (await _client.Send(HttpMethod.Get, given, tenant: _tenant)).JsonAsync();
        var active = await (await _client.Send(HttpMethod.Get, defaulted, tenant: _tenant)).JsonAsync();

        paused["isActive"]!.GetValue<bool>().Should().BeFalse();
        paused["status"]!.GetValue<string>().Should().Be("paused");
        active.ContainsKey("isActive").Should().BeFalse();
        active["status"]!.GetValue<string>().Should().Be("active");
    }

    [Fact]
    public async Task Terms_are_compacted_with_the_readers_context()
    {
        var location = await CreateAsync("""
            {"type":"Subscription","entities":[{"type":"Car"}],"watchedAttributes":["speed"],
             "notification":{"attributes":["speed"],"endpoint":{"uri":"http://127.0.0.1:9/notify"}}}
            """, Api.Link(_contextUrl));

        var withContext = await (await _client.Send(HttpMethod.Get, location, link: Api.Link(_contextUrl), tenant: _tenant)).JsonAsync();
        var withoutContext = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();

        withContext["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Car");
        withContext["watchedAttributes"]![0]!.GetValue<string>().Should().Be("speed");
        withoutContext["entities"]![0]!["type"]!.GetValue<string>().Should().Be("https://example.org/ns#Car");
        withoutContext["watchedAttributes"]![0]!.GetValue<string>().Should().Be("https://example.org/ns#speed");
        withoutContext["notification"]!["attributes"]![0]!.GetValue<string>().Should().Be("https://example.org/ns#speed");
    }

    [Fact]
    public async Task Update_without_a_context_keeps_the_context_the_subscription_was_written_with()
    {
        var location = await CreateAsync("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""",
            Api.Link(_contextUrl));

        (await _client.Send(HttpMethod.Patch, location, """{"isActive":false}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var subscription = await (await _client.Send(HttpMethod.Get, location, link: Api.Link(_contextUrl), tenant: _tenant)).JsonAsync();
        subscription["entities"]![0]!["type"]!.GetValue<string>().Should().Be("Car");
        var expanded = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
        expanded["entities"]![0]!["type"]!.GetValue<string>().Should().Be("https://example.org/ns#Car", "Car still means ex:Car");
    }

    [Fact]
    public async Task Pages_link_to_their_neighbours_with_sorted_parameters_and_the_media_type()
    {
        for (var i = 0; i < 3; i++)
            await CreateAsync("""{"type":"Subscription","entities":[{"type":"Car"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}}""");

        var response = await _client.Send(HttpMethod.Get, $"{Subscriptions}/?offset=1&limit=1", accept: "application/ld+json", tenant: _tenant);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Link").Should().BeEquivalentTo(
            $"<{Subscriptions}?limit=1&offset=0>; rel=\"prev\"; type=\"application/ld+json\"",
            $"<{Subscriptions}?limit=1&offset=2>; rel=\"next\"; type=\"application/ld+json\"");
    }

    [Fact]
    public async Task Page_links_keep_the_other_parameters_readable_and_escape_what_a_link_cannot_hold()
    {
        var entities = Api.Entities;
        for (var i = 0; i < 2; i++)
            await _client.CreateOkAsync($$$"""{"id":"urn:ngsi-ld:Car:page{{{i}}}","type":"Car","speed":{{{i}}}}""", tenant: _tenant);

        var response = await _client.Send(HttpMethod.Get, $"{entities}?type=Car&q=speed%3E%3D0&idPattern=urn:ngsi-ld:Car:page.*&limit=1", tenant: _tenant);

        response.Headers.GetValues("Link").Where(l => l.Contains("rel=\"next\"")).Should().Equal(
            $"<{entities}?idPattern=urn:ngsi-ld:Car:page.*&limit=1&offset=1&q=speed%3E%3D0&type=Car>; rel=\"next\"; type=\"application/json\"");
    }
}
