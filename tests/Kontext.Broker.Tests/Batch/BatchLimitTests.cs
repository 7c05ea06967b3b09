using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Batch.BatchApi;

namespace Kontext.Broker.Tests.Batch;

/// <summary>Kontext:Limits:MaxBatchSize and MaxRequestBodyBytes on batch requests, on a broker of its own with small limits.</summary>
public sealed class BatchLimitTests : IAsyncLifetime
{
    private readonly BrokerFactory _factory = new(settings: new Dictionary<string, string?>
    {
        ["Kontext:Limits:MaxBatchSize"] = "3",
        ["Kontext:Limits:MaxRequestBodyBytes"] = "2048",
    });
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        _factory.DeleteData();
    }

    [Theory]
    [InlineData("create")]
    [InlineData("delete")]
    public async Task Batch_with_more_items_than_MaxBatchSize_is_413_and_writes_nothing(string operation)
    {
        var ids = Enumerable.Range(0, 4).Select(_ => Api.NewId()).ToArray();
        var body = operation == "delete" ? Ids(ids) : Array(ids.Select(id => Entity(id)));

        var response = await _client.BatchAsync(operation, body);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
        (await _client.StatusOfAsync(ids[0])).Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Batch_of_exactly_MaxBatchSize_items_is_accepted()
    {
        var ids = Enumerable.Range(0, 3).Select(_ => Api.NewId()).ToArray();
        var response = await _client.BatchAsync("create", Array(ids.Select(id => Entity(id))));
        await response.ShouldBeCreatedIdsAsync(ids);
    }

    [Fact]
    public async Task Batch_body_over_MaxRequestBodyBytes_is_413()
    {
        var id = Api.NewId();
        var response = await _client.BatchAsync("upsert", Array([Entity(id, attributes: $$$$""" "blob":"{{{{new string('x', 4096)}}}}" """)]));

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge");
        (await _client.StatusOfAsync(id)).Should().Be(HttpStatusCode.NotFound);
    }
}
