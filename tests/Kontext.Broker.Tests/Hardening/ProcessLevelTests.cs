using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>What only a real server process shows: Kestrel's own refusals and the descriptor budget under a tenant flood.</summary>
public sealed class ProcessLevelTests
{
    private static async Task<string> RawExchangeAsync(string url, string request)
    {
        var uri = new Uri(url);
        using var socket = new TcpClient();
        await socket.ConnectAsync(uri.Host, uri.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20)); // the server closes after its refusal
    }

    private static JsonObject ProblemOf(string response, int status)
    {
        response.Should().StartWith($"HTTP/1.1 {status} ");
        response.Should().Contain("Content-Type: application/json");
        var body = JsonNode.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..])!.AsObject();
        body["status"]!.GetValue<int>().Should().Be(status);
        body["type"]!.GetValue<string>().Should().StartWith("https://uri.etsi.org/ngsi-ld/errors/");
        body["detail"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        return body;
    }

    [Fact]
    public async Task Requests_refused_by_the_server_itself_get_a_ProblemDetails_body()
    {
        var data = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
        var broker = await BrokerProcess.StartAsync(data);
        try
        {
            ProblemOf(await RawExchangeAsync(broker.Url, "GET /ngsi-ld/v1/entities/%00 HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
            ProblemOf(await RawExchangeAsync(broker.Url, $"GET /ngsi-ld/v1/entities?q={new string('a', 40_000)} HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
            ProblemOf(await RawExchangeAsync(broker.Url, "GET /ngsi-ld/v1/entities HTTP/3.0\r\nHost: x\r\n\r\n"), 505);
            ProblemOf(await RawExchangeAsync(broker.Url, $"GET /ngsi-ld/v1/entities HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 40_000)}\r\n\r\n"), 431);

            using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
            (await client.GetAsync("/ngsi-ld/v1/types")).StatusCode.Should().Be(HttpStatusCode.OK, "ordinary answers pass through unchanged");
        }
        finally
        {
            broker.Dispose();
            try { Directory.Delete(data, true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task The_broker_watches_no_directory_so_writes_under_its_content_root_wake_nothing()
    {
        // The default layout: the data directory inside the content root (./data of where the broker starts).
        var data = Path.Combine(AppContext.BaseDirectory, "data-" + Guid.NewGuid().ToString("N"));
        var broker = await BrokerProcess.StartAsync(data);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
            var entity = new StringContent("""{"id": "urn:ngsi-ld:Probe:1", "type": "Probe", "n": {"type": "Property", "value": 1}}""", Encoding.UTF8, "application/json");
            (await client.PostAsync("/ngsi-ld/v1/entities", entity)).StatusCode.Should().Be(HttpStatusCode.Created);
            broker.FileWatches().Should().Be(0, "a configuration reload watches the content root and every directory below it, so every database write would wake it");
        }
        finally
        {
            broker.Dispose();
            try { Directory.Delete(data, true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Only_a_bodiless_closing_error_head_is_taken_for_a_server_refusal()
    {
        static bool Bare(string head) => ServerErrorBodies.IsBareServerError(Encoding.ASCII.GetBytes(head), out _);

        Bare("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\nServer: Kestrel\r\n\r\n").Should().BeTrue();
        Bare("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").Should().BeFalse();
        Bare("HTTP/1.1 400 Bad Request\r\nContent-Length: 180\r\nConnection: close\r\n\r\n").Should().BeFalse();
        Bare("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").Should().BeFalse();
        Bare("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n").Should().BeFalse("the header block is not complete");
    }

    [Fact]
    public async Task A_flood_of_new_tenants_under_a_low_descriptor_limit_neither_crashes_nor_leaks_descriptors()
    {
        var data = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
        var broker = await BrokerProcess.StartAsync(data, new Dictionary<string, string>
        {
            ["Kontext__Limits__MaxTenants"] = "1000",
            ["Kontext__Limits__MaxOpenTenants"] = "8",
        }, maxOpenFiles: 512); // the runtime alone keeps about 240 open (its assemblies), so ~50 tenants' files would exhaust it
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri(broker.Url), Timeout = TimeSpan.FromSeconds(60) };
            var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
            var maxDescriptors = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, 1100), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                var request = Api.Request(HttpMethod.Post, Api.Entities, $$"""{"id":"urn:ngsi-ld:T:{{i}}","type":"T"}""", tenant: $"flood-{i}");
                statuses.Add((await client.SendAsync(request, ct)).StatusCode);
                if (i % 50 == 0) InterlockedMax(ref maxDescriptors, broker.OpenDescriptors());
            });

            broker.HasExited.Should().BeFalse();
            statuses.Should().OnlyContain(s => s == HttpStatusCode.Created || s == HttpStatusCode.Forbidden, "no request may fail with a 5xx; the log: {0}", broker.RecentLog);
            statuses.Count(s => s == HttpStatusCode.Created).Should().Be(1000);
            maxDescriptors.Should().BeLessThan(400, "at most 8 tenant databases hold files open");
            (await client.PostAsync(Api.Entities, new StringContent("""{"id":"urn:ngsi-ld:T:default","type":"T"}""", Encoding.UTF8, "application/json")))
                .StatusCode.Should().Be(HttpStatusCode.Created, "the default tenant keeps answering");
            var old = await client.SendAsync(Api.Request(HttpMethod.Get, $"{Api.Entities}/urn:ngsi-ld:T:3", tenant: "flood-3"));
            old.StatusCode.Should().Be(HttpStatusCode.OK, "an early tenant reopens on use");
        }
        finally
        {
            broker.Dispose();
            try { Directory.Delete(data, true); } catch (IOException) { }
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
