using System.Diagnostics;
using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Storage;

/// <summary>Acknowledged writes survive restarts and kill -9; history and change log come with every write (D4, D5, D7).</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task Entity_written_before_a_restart_reads_back_after_it()
    {
        var id = Api.NewId();
        var first = new BrokerFactory();
        try
        {
            using (var client = first.CreateClient())
                await client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","p":{"type":"Property","value":"kept","unitCode":"C62"}}""");
            await first.DisposeAsync();

            await using var second = new BrokerFactory(first.DataDirectory);
            using var again = second.CreateClient();
            var entity = await again.GetEntityAsync(id);

            entity["p"]!["value"]!.GetValue<string>().Should().Be("kept");
            entity["p"]!["unitCode"]!.GetValue<string>().Should().Be("C62");
        }
        finally
        {
            first.DeleteData();
        }
    }

    [Fact]
    public async Task History_has_an_instance_for_every_attribute_change()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient();
        var id = Api.NewId();
        await client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","temperature":{"type":"Property","value":20,"observedAt":"2024-01-01T00:00:00Z"},"name":"x"}""");
        await client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"temperature":{"type":"Property","value":21,"observedAt":"2024-01-01T00:15:00Z"}}""");
        await client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/temperature", """{"value":22}""");
        await client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"temperature":{"type":"Property","value":23,"datasetId":"urn:ngsi-ld:Dataset:b"}}""");
        await client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/name");

        var store = await broker.Services.GetRequiredService<IEntityStorage>().GetTenantAsync(null, false, default);
        var temperature = await store!.ReadHistoryAsync(id, "https://uri.etsi.org/ngsi-ld/default-context/temperature", default);
        var name = await store.ReadHistoryAsync(id, "https://uri.etsi.org/ngsi-ld/default-context/name", default);

        temperature.Select(h => h.Kind).Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Updated, AttributeChangeKind.Updated, AttributeChangeKind.Created);
        temperature.Select(h => h.InstanceJson).Should().OnlyContain(j => j != null);
        temperature[0].ObservedAt.Should().Be(DateTimeOffset.Parse("2024-01-01T00:00:00Z"));
        temperature[1].ObservedAt.Should().Be(DateTimeOffset.Parse("2024-01-01T00:15:00Z"));
        temperature[2].InstanceJson.Should().Contain("22");
        temperature[3].DatasetId.Should().Be("urn:ngsi-ld:Dataset:b");
        temperature.Select(h => h.InstanceId).Should().OnlyHaveUniqueItems();
        name.Select(h => h.Kind).Should().Equal(AttributeChangeKind.Created, AttributeChangeKind.Deleted);
        broker.DeleteData();
    }

    [Fact]
    public async Task Every_write_appends_a_change_log_entry_with_before_and_after_while_the_tenant_has_a_subscription()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient();
        await SubscribeAsync(client);
        var id = Api.NewId();
        await client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","a":1}""");
        await client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", """{"b":2}""");
        await client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}");
        await client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}"""); // the create of a fresh entity after delete

        var store = await broker.Services.GetRequiredService<IEntityStorage>().GetTenantAsync(null, false, default);
        var changes = (await store!.ReadChangesAsync(0, 100, default)).Where(c => c.EntityId == id).ToList();

        changes.Select(c => c.Operation).Should().Equal("create", "update", "delete", "create");
        changes[0].BeforeJson.Should().BeNull();
        changes[1].BeforeJson.Should().NotContain("default-context/b").And.Contain("default-context/a");
        changes[1].AfterJson.Should().Contain("default-context/b");
        changes[2].AfterJson.Should().BeNull();
        changes.Select(c => c.Sequence).Should().BeInAscendingOrder();
        broker.DeleteData();
    }

    [Fact]
    public async Task A_failed_write_leaves_no_history_and_no_change()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient();
        await SubscribeAsync(client);
        var id = Api.NewId();
        await client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","a":1}""");

        (await client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","a":2}""")).StatusCode.Should().Be(HttpStatusCode.Conflict);

        var store = await broker.Services.GetRequiredService<IEntityStorage>().GetTenantAsync(null, false, default);
        (await store!.ReadChangesAsync(0, 100, default)).Count(c => c.EntityId == id).Should().Be(1);
        (await store.ReadHistoryAsync(id, null, default)).Should().HaveCount(1);
        broker.DeleteData();
    }

    [Fact]
    public async Task Concurrent_appends_to_one_entity_lose_no_update()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient();
        var id = Api.NewId();
        await client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T"}""");

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            client.Send(HttpMethod.Post, $"{Api.Entities}/{id}/attrs", $$$$"""{"attr{{{{i}}}}":{{{{i}}}}}""")));

        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.NoContent);
        var entity = await client.GetEntityAsync(id);
        Enumerable.Range(0, 60).Should().OnlyContain(i => entity.ContainsKey($"attr{i}"));
        broker.DeleteData();
    }

    [Fact]
    public async Task Concurrent_creates_of_the_same_id_yield_exactly_one_success()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient();
        var id = Api.NewId();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","n":{{{{i}}}}}""")));

        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.Conflict).Should().Be(19);
        broker.DeleteData();
    }

    /// <summary>
    /// The broker runs as its own process; every acknowledged create is checked after a SIGKILL in the middle of
    /// a write stream and a restart on the same data directory.
    /// </summary>
    [Fact]
    public async Task Acknowledged_writes_survive_kill_9()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "kontext-tests", "kill-" + Guid.NewGuid().ToString("N"));
        var acknowledged = new List<string>();
        try
        {
            using (var broker = await BrokerProcess.StartAsync(dataDirectory))
            {
                using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, 4).Select(async _ =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var id = Api.NewId();
                        try
                        {
                            var response = await client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","v":1}""");
                            if (response.StatusCode == HttpStatusCode.Created) lock (acknowledged) acknowledged.Add(id);
                        }
                        catch (HttpRequestException) { return; }
                        catch (TaskCanceledException) { return; }
                    }
                }).ToList();
                while (true)
                {
                    lock (acknowledged) if (acknowledged.Count >= 200) break;
                    await Task.Delay(20);
                }
                broker.Kill(); // SIGKILL while the writers are still sending
                stop.Cancel();
                await Task.WhenAll(writers);
            }

            using var restarted = await BrokerProcess.StartAsync(dataDirectory);
            using var reader = new HttpClient { BaseAddress = new Uri(restarted.Url) };
            List<string> snapshot;
            lock (acknowledged) snapshot = [.. acknowledged];
            foreach (var id in snapshot)
                (await reader.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK, "{0} was acknowledged", id);
        }
        finally
        {
            try { Directory.Delete(dataDirectory, true); } catch (IOException) { }
        }
    }

    /// <summary>A subscription that never fires (no entity has its type): with it the store logs every write (D5).</summary>
    internal static async Task SubscribeAsync(HttpClient client)
    {
        var response = await client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
            $$$$"""{"id":"urn:ngsi-ld:Subscription:{{{{Guid.NewGuid():N}}}}","type":"Subscription","entities":[{"type":"NeverWritten"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/never"}}}""");
        response.StatusCode.Should().Be(HttpStatusCode.Created);
    }
}
