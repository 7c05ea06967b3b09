using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>One reader connection for the whole process, and a short wait for it.</summary>
public sealed class OneProcessReaderFixture() : BrokerFixtureBase(new Dictionary<string, string?>
{
    ["Kontext:Limits:MaxReaders"] = "1",
    ["Kontext:Limits:ReaderWait"] = "00:00:02",
});

/// <summary>
/// A read that cannot get a reader connection within Kontext:Limits:ReaderWait answers 503 with Retry-After and an NGSI-LD
/// ProblemDetails body (never a 500, never a hang), and the process-wide cap lets a tenant take over another tenant's idle
/// connection. The test itself holds the one connection, so which reads must wait is certain, not a matter of timing.
/// </summary>
public sealed class ReaderWaitTests(OneProcessReaderFixture fixture) : IClassFixture<OneProcessReaderFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> EntityInAsync(string tenant)
    {
        var id = Api.NewId("Meter");
        await _client.CreateOkAsync(new JsonObject { ["id"] = id, ["type"] = "Meter", ["n"] = new JsonObject { ["type"] = "Property", ["value"] = 1 } }.ToJsonString(),
            tenant: tenant);
        return id;
    }

    [Fact]
    public async Task A_read_that_finds_every_reader_busy_past_the_wait_answers_503_with_Retry_After_then_reads_resume()
    {
        var (holder, other) = ("wait-a-" + Guid.NewGuid().ToString("N")[..8], "wait-b-" + Guid.NewGuid().ToString("N")[..8]);
        var held = await EntityInAsync(holder);
        var wanted = await EntityInAsync(other);
        var storage = (SqliteStorage)fixture.Factory.Services.GetRequiredService<IEntityStorage>();
        // Opened by the writes; renting takes the process's one reader connection (taking it over from the other tenant if idle there).
        var reader = await storage.Readers(holder)!.RentAsync(default);

        using (var refused = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{wanted}", tenant: other))
        {
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
            refused.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!.AsObject();
            problem["type"]!.GetValue<string>().Should().Be("https://uri.etsi.org/ngsi-ld/errors/ServiceUnavailable");
            problem["status"]!.GetValue<int>().Should().Be(503);
            problem["detail"]!.GetValue<string>().Should().Contain("reader connection");
        }
        using (var refused = await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=Meter", tenant: holder))
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the holder's own tenant has no second connection either");

        await reader.DisposeAsync(); // idle in the holder's pool: the other tenant's read takes over its place
        using (var answered = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{wanted}", tenant: other))
            answered.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var answered = await _client.Send(HttpMethod.Get, $"{Api.Entities}/{held}", tenant: holder))
            answered.StatusCode.Should().Be(HttpStatusCode.OK);

        // Not which tenant holds it now: the broker's background reads (expiry sweeps) take it over too.
        storage.ReaderBudget.Places.Peak.Should().Be(1, "one reader connection for the whole process");
    }
}
