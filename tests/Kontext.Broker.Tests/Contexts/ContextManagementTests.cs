using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Contexts;

/// <summary>@context management (clause 5.13): kinds, details, tenants, reload.</summary>
public sealed class ContextManagementTests : IAsyncLifetime
{
    private const string Base = "/ngsi-ld/v1/jsonldContexts";
    private ContextServer _server = null!;
    private BrokerFactory _broker = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ContextServer.StartAsync();
        _broker = new BrokerFactory();
        _client = _broker.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
        _broker.DeleteData();
        await _server.DisposeAsync();
    }

    private async Task<string> AddAsync(string term, string? tenant = null)
    {
        var added = await _client.Send(HttpMethod.Post, Base, $$$$"""{"@context":{"{{{{term}}}}":"https://example.org/{{{{term}}}}"}}""", tenant: tenant);
        added.StatusCode.Should().Be(HttpStatusCode.Created);
        return added.Headers.Location!.ToString()[(Base.Length + 1)..];
    }

    private async Task<JsonArray> ListAsync(string query, string? tenant = null) =>
        JsonNode.Parse(await (await _client.Send(HttpMethod.Get, Base + query, tenant: tenant)).Content.ReadAsStringAsync())!.AsArray();

    [Fact]
    public async Task An_added_context_is_Hosted_and_served_as_json_or_as_its_details()
    {
        var id = await AddAsync("seats");

        var document = await _client.Send(HttpMethod.Get, $"{Base}/{id}");
        var details = await _client.Send(HttpMethod.Get, $"{Base}/{id}?details=true");

        document.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await document.JsonAsync())["@context"]!["seats"]!.GetValue<string>().Should().Be("https://example.org/seats");
        var record = await details.JsonAsync();
        record["kind"]!.GetValue<string>().Should().Be("Hosted");
        record["localId"]!.GetValue<string>().Should().Be(id);
        record["URL"]!.GetValue<string>().Should().EndWith($"{Base}/{id}");
        record["createdAt"]!.GetValue<string>().Should().EndWith("Z");
        record.Select(p => p.Key).Should().BeSubsetOf(["URL", "localId", "kind", "createdAt", "lastUsage", "numberOfHits", "extraInfo"]);
    }

    [Fact]
    public async Task An_inline_subscription_context_is_ImplicitlyCreated_and_named_by_the_jsonldContext()
    {
        var subscription = $$$$"""
            {"id":"urn:ngsi-ld:Subscription:{{{{Guid.NewGuid():N}}}}","type":"Subscription","entities":[{"type":"T1"}],
             "notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}},"@context":[{"T1":"https://example.org/T1"}]}
            """;
        var created = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription, "application/ld+json");
        created.StatusCode.Should().Be(HttpStatusCode.Created);

        var retrieved = await (await _client.GetAsync(created.Headers.Location)).JsonAsync();
        var url = retrieved["jsonldContext"]!.GetValue<string>();
        var implicitId = url[(url.LastIndexOf('/') + 1)..];

        (await (await _client.Send(HttpMethod.Get, $"{Base}/{implicitId}?details=true")).JsonAsync())["kind"]!.GetValue<string>().Should().Be("ImplicitlyCreated");
        (await ListAsync("?details=true&kind=ImplicitlyCreated")).Select(e => e!["localId"]!.GetValue<string>()).Should().Contain(implicitId);
        (await ListAsync("?kind=Hosted")).Select(e => e!.GetValue<string>()).Should().NotContain(url);
        await (await _client.Send(HttpMethod.Delete, $"{Base}/{implicitId}?reload=true")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Delete, $"{Base}/{implicitId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task The_contexts_an_added_context_names_become_Cached()
    {
        var remote = _server.Serve("/remote.jsonld", """{"@context":{"doors":"https://example.org/doors"}}""");

        (await _client.Send(HttpMethod.Post, Base, $$$$"""{"@context":["{{{{remote}}}}"]}""")).StatusCode.Should().Be(HttpStatusCode.Created);

        var details = await (await _client.Send(HttpMethod.Get, $"{Base}/{Uri.EscapeDataString(remote)}?details=true")).JsonAsync();
        details["kind"]!.GetValue<string>().Should().Be("Cached");
        details["URL"]!.GetValue<string>().Should().Be(remote);
        (await ListAsync("?details=true&kind=Cached")).Select(e => e!["URL"]!.GetValue<string>()).Should().Contain(remote);
    }

    [Fact]
    public async Task The_core_context_is_served_by_its_url_and_reloading_it_changes_nothing()
    {
        var core = Uri.EscapeDataString("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld");

        var details = await (await _client.Send(HttpMethod.Get, $"{Base}/{core}?details=true")).JsonAsync();
        var reload = await _client.Send(HttpMethod.Delete, $"{Base}/{core}?reload=true");

        details["kind"]!.GetValue<string>().Should().Be("Cached");
        reload.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Get, $"{Base}/{core}")).StatusCode.Should().Be(HttpStatusCode.OK);
        await (await _client.Send(HttpMethod.Delete, $"{Base}/{core}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("?details=maybe")]
    [InlineData("?kind=Other")]
    [InlineData("?details=true&kind=other")]
    public async Task List_refuses_unknown_details_and_kind_values(string query)
    {
        await (await _client.Send(HttpMethod.Get, Base + query)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task Listing_with_a_kind_and_no_details_gives_urls()
    {
        var id = await AddAsync("wheels");

        var hosted = await ListAsync("?kind=Hosted");
        var implicitly = await ListAsync("?details=false&kind=ImplicitlyCreated");

        hosted.Select(e => e!.GetValue<string>()).Should().Contain(u => u.EndsWith("/" + id));
        implicitly.Select(e => e!.GetValue<string>()).Should().NotContain(u => u.EndsWith("/" + id));
    }

    [Theory]
    [InlineData("wrong_id_context", "true", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("wrong_id_context", "xxx", HttpStatusCode.BadRequest, "BadRequestData")]
    [InlineData("wrong_id_context", "false", HttpStatusCode.NotFound, "ResourceNotFound")]
    public async Task Delete_checks_reload_before_looking_the_context_up(string id, string reload, HttpStatusCode status, string type)
    {
        await (await _client.Send(HttpMethod.Delete, $"{Base}/{id}?reload={reload}")).ShouldBeProblemAsync(status, type);
    }

    [Fact]
    public async Task Reloading_a_Hosted_context_is_400_and_it_stays()
    {
        var id = await AddAsync("bells");

        await (await _client.Send(HttpMethod.Delete, $"{Base}/{id}?reload=true")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, $"{Base}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_failed_reload_keeps_the_cached_copy()
    {
        var url = _server.Serve("/flaky.jsonld", """{"@context":{"gears":"https://example.org/gears"}}""");
        await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T"}""", link: Api.Link(url));
        _server.Serve("/flaky.jsonld", "gone", status: 500);

        var reload = await _client.Send(HttpMethod.Delete, $"{Base}/{Uri.EscapeDataString(url)}?reload=true");

        await reload.ShouldBeProblemAsync(HttpStatusCode.GatewayTimeout, "LdContextNotAvailable");
        (await (await _client.Send(HttpMethod.Get, $"{Base}/{Uri.EscapeDataString(url)}")).JsonAsync())["@context"]!["gears"].Should().NotBeNull();
    }

    [Fact]
    public async Task Another_tenant_neither_gets_lists_nor_deletes_a_hosted_context()
    {
        var (a, b) = ("ctx-a-" + Guid.NewGuid().ToString("N")[..8], "ctx-b-" + Guid.NewGuid().ToString("N")[..8]);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{Api.NewId()}}}}","type":"T"}""", tenant: b);
        var id = await AddAsync("secretTerm", tenant: a);

        await (await _client.Send(HttpMethod.Get, $"{Base}/{id}", tenant: b)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        await (await _client.Send(HttpMethod.Get, $"{Base}/{id}?details=true", tenant: b)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
        (await ListAsync("?details=true", tenant: b)).ToJsonString().Should().NotContain(id);
        await (await _client.Send(HttpMethod.Delete, $"{Base}/{id}", tenant: b)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");

        (await _client.Send(HttpMethod.Get, $"{Base}/{id}", tenant: a)).StatusCode.Should().Be(HttpStatusCode.OK);
        // A JSON-LD processor dereferencing the URL sends no tenant: the document is public by its URL.
        (await _client.Send(HttpMethod.Get, $"{Base}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
