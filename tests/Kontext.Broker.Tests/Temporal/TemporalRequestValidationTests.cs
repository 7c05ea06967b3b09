using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>
/// Malformed temporal requests (clauses 5.6.12–5.6.15, 5.7.3.4, 5.7.4.4, 4.21): ids and names in the URL, projections,
/// Linked Entity requests the temporal operations do not offer, and retrievals that find nothing to show.
/// </summary>
public sealed class TemporalRequestValidationTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<(string Id, string InstanceId)> CreateAsync()
    {
        var id = Api.NewId("Vehicle");
        (await _client.CreateTemporalAsync(Vehicle(id, ("speed", 120, T(3)), ("speed", 80, T(5)), ("fuelLevel", 67, T(3)))))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}");
        return (id, Instances(body, "speed")[0]["instanceId"]!.GetValue<string>());
    }

    private const string Fragment = """{"speed":{"type":"Property","value":1,"observedAt":"2020-08-01T12:09:00Z"}}""";

    [Fact]
    public async Task An_empty_entity_id_in_the_URL_is_BadRequestData()
    {
        var (_, instanceId) = await CreateAsync();
        await (await _client.Send(HttpMethod.Post, $"{Root}//attrs", Fragment)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Delete, $"{Root}//attrs/speed")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Delete, $"{Root}//attrs/speed/{instanceId}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Patch, $"{Root}//attrs/speed/{instanceId}", Fragment)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task An_empty_attribute_name_before_an_instance_id_is_BadRequestData_and_PATCH_there_is_not_allowed()
    {
        var (id, instanceId) = await CreateAsync();
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs//{instanceId}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Patch, $"{Root}/{id}/attrs//{instanceId}", Fragment)).StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task An_instance_id_that_is_not_a_URI_is_BadRequestData()
    {
        var (id, _) = await CreateAsync();
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/speed/notAUri")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Patch, $"{Root}/{id}/attrs/speed/notAUri", Fragment)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_doubly_encoded_dot_segment_attribute_name_is_BadRequestData_and_leaves_the_evolution_intact()
    {
        // HttpClient resolves "%2e%2e" itself before sending; its doubly-encoded spelling reaches the broker.
        var (id, _) = await CreateAsync();
        await (await _client.Send(HttpMethod.Delete, $"{Root}/{id}/attrs/%252e%252e")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        (await _client.Send(HttpMethod.Get, $"{Root}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("attrs=speed&pick=id")]
    [InlineData("attrs=speed&omit=fuelLevel")]
    [InlineData("pick=owner{name}")]
    public async Task Pick_or_omit_with_attrs_and_a_linked_projection_are_BadRequestData(string query)
    {
        var (id, _) = await CreateAsync();
        await (await _client.Send(HttpMethod.Get, $"{Root}/{id}?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle&{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task A_linked_entity_filter_and_a_malformed_csf_are_BadRequestData()
    {
        await (await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle&q=owner{{name}}==%22x%22")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
        await (await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle&csf=))bad((")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("attrs=unknownAttribute")]
    [InlineData("pick=unknown")]
    [InlineData("omit=id,type,speed,fuelLevel")]
    public async Task Retrieving_nothing_of_an_entity_is_ResourceNotFound(string query)
    {
        var (id, _) = await CreateAsync();
        await (await _client.Send(HttpMethod.Get, $"{Root}/{id}?{query}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
