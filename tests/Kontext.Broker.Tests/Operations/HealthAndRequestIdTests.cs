using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.Operations;

[Collection(BrokerCollection.Name)]
public sealed class HealthAndRequestIdTests(BrokerFixture fx)
{
    [Theory]
    [InlineData("/health")]
    [InlineData("/health/live")]
    public async Task Liveness_answers_ok(string path)
    {
        var response = await fx.Client.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.JsonAsync())["status"]!.GetValue<string>().Should().Be("ok");
    }

    [Fact]
    public async Task Readiness_answers_ready_when_the_store_answers()
    {
        var response = await fx.Client.GetAsync("/health/ready");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body["status"]!.GetValue<string>().Should().Be("ready");
        body["store"]!.GetValue<string>().Should().Be("sqlite");
    }

    [Fact]
    public async Task Version_names_build_spec_versions_and_store()
    {
        var body = await (await fx.Client.GetAsync("/version")).JsonAsync();
        body["version"]!.GetValue<string>().Should().NotBeNullOrWhiteSpace();
        body["ngsiLd"]!["target"]!.GetValue<string>().Should().Be("1.9.1");
        body["ngsiLd"]!["floor"]!.GetValue<string>().Should().Be("1.8");
        body["store"]!.GetValue<string>().Should().Be("sqlite");
    }

    [Fact]
    public async Task Every_answer_carries_a_new_request_id()
    {
        var first = await fx.Client.GetAsync("/health/live");
        var second = await fx.Client.Send(HttpMethod.Get, Api.Entities + "/urn:ngsi-ld:Thing:absent");
        var a = first.Headers.GetValues("X-Request-Id").Single();
        var b = second.Headers.GetValues("X-Request-Id").Single();
        a.Should().NotBeNullOrWhiteSpace().And.NotBe(b);
    }

    [Fact]
    public async Task Incoming_request_id_is_honoured_and_carried_by_the_problem_details()
    {
        var request = Api.Request(HttpMethod.Get, Api.Entities + "/urn:ngsi-ld:Thing:absent");
        request.Headers.Add("X-Request-Id", "gateway-42.abc");
        var response = await fx.Client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Headers.GetValues("X-Request-Id").Single().Should().Be("gateway-42.abc");
        (await response.JsonAsync())["requestId"]!.GetValue<string>().Should().Be("gateway-42.abc");
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("quote\"d")]
    public async Task Unusable_incoming_request_id_is_replaced_not_echoed(string incoming)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        request.Headers.TryAddWithoutValidation("X-Request-Id", incoming);
        var response = await fx.Client.SendAsync(request);
        response.Headers.GetValues("X-Request-Id").Single().Should().NotBe(incoming).And.MatchRegex("^[0-9a-f]{32}$");
    }

    [Fact]
    public async Task New_request_ids_differ_from_request_to_request_and_across_threads()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fx.Client.GetAsync("/health/live")));
        var ids = answers.Select(r => r.Headers.GetValues("X-Request-Id").Single()).ToList();
        ids.Should().OnlyHaveUniqueItems().And.AllSatisfy(id => id.Should().MatchRegex("^[0-9a-f]{32}$"));
        var made = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 10_000, _ => made.Add(Kontext.Broker.Operations.RequestCorrelation.NewId()));
        made.Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Problem_details_of_unknown_routes_carry_the_request_id()
    {
        var response = await fx.Client.GetAsync("/no/such/route");
        var body = await response.JsonAsync();
        body["requestId"]!.GetValue<string>().Should().Be(response.Headers.GetValues("X-Request-Id").Single());
    }
}

/// <summary>Readiness follows the store: a store that does not answer makes the broker unready (503), liveness stays ok.</summary>
public sealed class ReadinessWithoutStoreTests
{
    [Fact]
    public async Task Readiness_is_503_while_the_store_is_unreachable()
    {
        await using var factory = new UnreachableStoreBroker();
        using var client = factory.CreateClient();
        var ready = await client.GetAsync("/health/ready");
        ready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ready.JsonAsync())["status"]!.GetValue<string>().Should().Be("unavailable");
        (await client.GetAsync("/health/live")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private sealed class UnreachableStoreBroker : WebApplicationFactory<Program>
    {
        private readonly string _data = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(new Dictionary<string, string?> { ["Kontext:Storage:DataDirectory"] = _data }));
            builder.ConfigureTestServices(services => services.AddSingleton<IEntityStorage>(new UnreachableStorage()));
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            try { Directory.Delete(_data, true); } catch (IOException) { }
        }
    }

    /// <summary>A store whose server is gone: every call fails as a driver would.</summary>
    private sealed class UnreachableStorage : IEntityStorage
    {
        public ValueTask<ITenantStore?> GetTenantAsync(string? tenant, bool create, CancellationToken cancellationToken) =>
            ValueTask.FromException<ITenantStore?>(new TimeoutException("no server answered"));
        public Task<IReadOnlyList<string?>> ListTenantsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string?>>([]);
        public event Action<string?>? Committed { add { } remove { } }
        public IContextDocumentStore Contexts => throw new TimeoutException("no server answered");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>One access-log line per request, with method, path, status, request id and tenant as structured values.</summary>
public sealed class AccessLogTests
{
    [Fact]
    public async Task Each_request_leaves_one_access_log_line_with_its_request_id()
    {
        var provider = new RecordingLoggerProvider();
        await using var factory = new LoggingBroker(provider);
        using var client = factory.CreateClient();
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing", tenant: "logged");
        request.Headers.Add("X-Request-Id", "access-log-1");
        await client.SendAsync(request);

        var line = provider.Entries.Where(e => e.Category == "Kontext.Access" && e.State.Any(kv => kv.Key == "RequestId" && Equals(kv.Value, "access-log-1"))).Should().ContainSingle().Subject;
        var values = line.State.ToDictionary(kv => kv.Key, kv => kv.Value);
        values["Method"].Should().Be("GET");
        values["Path"].Should().Be("/ngsi-ld/v1/entities");
        values["StatusCode"].Should().Be(404); // the tenant does not exist
        values["Tenant"].Should().Be("logged");
    }

    [Fact]
    public async Task With_scopes_written_by_a_provider_the_request_lines_carry_the_request_id_scope()
    {
        var provider = new RecordingLoggerProvider();
        await using var factory = new LoggingBroker(provider, new() { ["Logging:Console:FormatterOptions:IncludeScopes"] = "true" });
        using var client = factory.CreateClient();
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        request.Headers.Add("X-Request-Id", "scoped-1");
        await client.SendAsync(request);

        var line = provider.Entries.Where(e => e.Category == "Kontext.Access" && e.State.Any(kv => kv.Key == "RequestId" && Equals(kv.Value, "scoped-1"))).Should().ContainSingle().Subject;
        // The framework's own request scope may name a RequestId too (the connection's); the broker's is the request's id.
        line.Scopes.OfType<IEnumerable<KeyValuePair<string, object>>>().SelectMany(scope => scope).Select(kv => $"{kv.Key}={kv.Value}")
            .Should().Contain("RequestId=scoped-1");
    }

    [Fact]
    public async Task Without_a_provider_that_writes_scopes_no_scope_is_captured()
    {
        var provider = new RecordingLoggerProvider();
        await using var factory = new LoggingBroker(provider);
        using var client = factory.CreateClient();
        var request = Api.Request(HttpMethod.Get, Api.Entities + "?type=Thing");
        request.Headers.Add("X-Request-Id", "unscoped-1");
        await client.SendAsync(request);

        var line = provider.Entries.Where(e => e.Category == "Kontext.Access" && e.State.Any(kv => kv.Key == "RequestId" && Equals(kv.Value, "unscoped-1"))).Should().ContainSingle().Subject;
        line.Scopes.Should().BeEmpty();
    }

    private sealed class LoggingBroker(ILoggerProvider provider, Dictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
    {
        private readonly string _data = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(
                new Dictionary<string, string?>(settings ?? []) { ["Kontext:Storage:DataDirectory"] = _data }));
            builder.ConfigureLogging(logging => logging.AddProvider(provider));
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            try { Directory.Delete(_data, true); } catch (IOException) { }
        }
    }

    private sealed record Entry(string Category, IReadOnlyList<KeyValuePair<string, object?>> State, IReadOnlyList<object?> Scopes);

    /// <summary>Records each line with the scopes around it, as a provider that writes scopes (the console's) reads them.</summary>
    private sealed class RecordingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;
        public System.Collections.Concurrent.ConcurrentQueue<Entry> Entries { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, this);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }

        private sealed class Recorder(string category, RecordingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (state is not IReadOnlyList<KeyValuePair<string, object?>> values) return;
                var scopes = new List<object?>();
                provider._scopes?.ForEachScope((scope, list) => list.Add(scope), scopes);
                provider.Entries.Enqueue(new Entry(category, values.ToList(), scopes));
            }
        }
    }
}
