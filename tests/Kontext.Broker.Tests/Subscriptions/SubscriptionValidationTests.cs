using System.Net;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Subscriptions;

/// <summary>
/// The restrictions of the Subscription and NotificationParams data types (clauses 5.2.12, 5.2.14) on creation (5.8.1)
/// and update (5.8.2): each broken one is a 400 BadRequestData.
/// </summary>
public sealed class SubscriptionValidationTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>
{
    private const string Subscriptions = "/ngsi-ld/v1/subscriptions";
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "subval-" + Guid.NewGuid().ToString("N")[..8];

    private static string With(string notification, string members = "") => $$$$"""
        {"type":"Subscription","entities":[{"type":"Car"}]{{{{members}}}},
         "notification":{ {{{{notification}}}} "endpoint":{"uri":"http://127.0.0.1:9/notify"}}}
        """;

    private Task<HttpResponseMessage> CreateAsync(string body) => _client.Send(HttpMethod.Post, Subscriptions, body, tenant: _tenant);

    [Theory]
    [InlineData("\"pick\":[\"speed\"],\"attributes\":[\"speed\"],", "pick")]
    [InlineData("\"omit\":[\"speed\"],\"attributes\":[\"color\"],", "omit")]
    [InlineData("\"pick\":[\"id\",\"speed\"],\"omit\":[\"speed\"],", "both picked and omitted")]
    [InlineData("\"pick\":[\"id\"],\"omit\":[\"id\"],", "both picked and omitted")]
    [InlineData("\"pick\":[],", "pick")]
    [InlineData("\"omit\":[],", "omit")]
    [InlineData("\"attributes\":[],", "attributes")]
    [InlineData("\"format\":\"keyValues\",\"showChanges\":true,", "showChanges")]
    [InlineData("\"format\":\"simplified\",\"showChanges\":true,", "showChanges")]
    public async Task Conflicting_or_empty_notification_selections_are_400(string notification, string reason)
    {
        var response = await CreateAsync(With(notification));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await (await CreateAsync(With(notification))).Content.ReadAsStringAsync()).Should().Contain(reason);
    }

    [Theory]
    [InlineData("\"pick\":[\"id\",\"speed\"],")]
    [InlineData("\"omit\":[\"type\",\"color\"],")]
    [InlineData("\"pick\":[\"speed\"],\"omit\":[\"type\"],")]
    [InlineData("\"format\":\"normalized\",\"showChanges\":true,")]
    public async Task Valid_notification_selections_are_accepted(string notification)
    {
        (await CreateAsync(With(notification))).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_csf_that_is_no_query_is_400_before_csf_is_found_unsupported()
    {
        await (await CreateAsync(With("", ",\"csf\":\"((\""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await CreateAsync(With("", ",\"csf\":\"endpoint==\\\"x\\\"\""))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "OperationNotSupported");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[42]")]
    [InlineData("[\"not a uri\"]")]
    public async Task An_invalid_datasetId_is_400(string datasetId)
    {
        await (await CreateAsync(With("", $",\"datasetId\":{datasetId}"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_datasetId_selection_is_accepted_and_shown()
    {
        var created = await CreateAsync(With("", ",\"datasetId\":[\"urn:ngsi-ld:Dataset:a\",\"@none\"]"));
        created.StatusCode.Should().Be(HttpStatusCode.Created);

        var subscription = await (await _client.Send(HttpMethod.Get, created.Headers.Location!.ToString(), tenant: _tenant)).JsonAsync();
        subscription["datasetId"]!.AsArray().Select(d => d!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Dataset:a", "@none");
    }

    [Fact]
    public async Task Update_whose_notification_lacks_its_endpoint_is_400_and_changes_nothing()
    {
        var created = await CreateAsync(With("\"format\":\"normalized\","));
        var location = created.Headers.Location!.ToString();

        var response = await _client.Send(HttpMethod.Patch, location, """{"notification":{"format":"keyValues"}}""", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        var subscription = await (await _client.Send(HttpMethod.Get, location, tenant: _tenant)).JsonAsync();
        subscription["notification"]!["format"]!.GetValue<string>().Should().Be("normalized");
    }

    [Fact]
    public async Task Update_that_would_combine_showChanges_with_keyValues_is_400()
    {
        var created = await CreateAsync(With("\"showChanges\":true,"));

        var response = await _client.Send(HttpMethod.Patch, created.Headers.Location!.ToString(),
            """{"notification":{"format":"keyValues","showChanges":true,"endpoint":{"uri":"http://127.0.0.1:9/notify"}}}""", tenant: _tenant);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
