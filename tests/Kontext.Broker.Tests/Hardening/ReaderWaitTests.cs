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

    /// <summary>
    /// A batch reads its entities through the tenant's writer connection, never a reader: every reader busy does not turn
    /// its items into 503s inside a 207. (The registrations it plans forwarding with are known here: read by the writes before.)
    /// </summary>
    [Fact]
    public async Task Batches_write_while_every_reader_is_busy()
    {
        var (holder, other) = ("wait-a-" + Guid.NewGuid().ToString("N")[..8], "wait-b-" + Guid.NewGuid().ToString("N")[..8]);
        await EntityInAsync(holder);
        var existing = await EntityInAsync(other);
        var storage = (SqliteStorage)fixture.Factory.Services.GetRequiredService<IEntityStorage>();
        var reader = await storage.Readers(holder)!.RentAsync(default);
        try
        {
            var fresh = Api.NewId("Meter");
            var entities = $$"""[{"id":"{{fresh}}","type":"Meter","n":2},{"id":"{{existing}}","type":"Meter","n":3}]""";
            foreach (var (operation, body, status) in new[]
            {
                ("create", entities, HttpStatusCode.MultiStatus), // the existing entity is AlreadyExists
                ("upsert", entities, HttpStatusCode.NoContent),
                ("update", entities, HttpStatusCode.NoContent),
                ("merge", entities, HttpStatusCode.NoContent),
                ("delete", $$"""["{{fresh}}"]""", HttpStatusCode.NoContent),
            })
            {
                using var response = await _client.Send(HttpMethod.Post, $"/ngsi-ld/v1/entityOperations/{operation}", body, tenant: other);
                var answer = await response.Content.ReadAsStringAsync();
                response.StatusCode.Should().Be(status, operation + " answered " + answer);
                answer.Should().NotContain("ServiceUnavailable");
            }
        }
        finally
        {
            await reader.DisposeAsync();
        }
        (await _client.GetEntityAsync(existing, tenant: other))["n"]!["value"]!.GetValue<int>().Should().Be(3);
    }

    /// <summary>
    /// The one read a batch makes through a reader is the tenant's registrations (are there sources to forward to?), before
    /// any entity is written: when it meets the wait, the whole request answers 503 with Retry-After and nothing is written
    /// (rather than a 207 of busy items). A tenant the batch creates has not read them yet.
    /// </summary>
    [Fact]
    public async Task A_batch_whose_registration_read_meets_the_wait_is_refused_whole_and_writes_nothing()
    {
        var (holder, fresh) = ("wait-a-" + Guid.NewGuid().ToString("N")[..8], "wait-c-" + Guid.NewGuid().ToString("N")[..8]);
        await EntityInAsync(holder);
        var storage = (SqliteStorage)fixture.Factory.Services.GetRequiredService<IEntityStorage>();
        var (first, second) = (Api.NewId("Meter"), Api.NewId("Meter"));
        var reader = await storage.Readers(holder)!.RentAsync(default);
        try
        {
            using var refused = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert",
                $$"""[{"id":"{{first}}","type":"Meter","n":1},{"id":"{{second}}","type":"Meter","n":2}]""", tenant: fresh);
            refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            refused.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
            (await refused.Content.ReadAsStringAsync()).Should().Contain("reader connection");
        }
        finally
        {
            await reader.DisposeAsync();
        }
        foreach (var id in new[] { first, second })
            (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}", tenant: fresh)).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
