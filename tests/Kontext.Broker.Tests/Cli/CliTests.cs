using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;
using Kontext.Cli;
using Spectre.Console.Testing;

namespace Kontext.Broker.Tests.Cli;

public sealed class CliFixture() : BrokerFixtureBase(SubscriptionFixture.FastNotifications)
{
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("kontext-cli-").FullName;

    /// <summary>Runs the kontext tool in-process against this fixture's broker (or, with <paramref name="handler"/>, through it).</summary>
    public async Task<(int Code, string Output)> RunAsync(params string[] args) => await RunWithAsync(Factory.Server.CreateHandler(), args);

    public static async Task<(int Code, string Output)> RunWithAsync(HttpMessageHandler? handler, params string[] args)
    {
        var console = new TestConsole().Width(250);
        var code = await KontextCli.RunAsync(args, console, handler);
        return (code, console.Output);
    }

    public string Temp(string name) => Path.Combine(WorkDirectory, Guid.NewGuid().ToString("N")[..8] + "-" + name);
}

/// <summary>kontext import and export against a broker started in the fixture.</summary>
public sealed class ImportExportTests(CliFixture fx) : IClassFixture<CliFixture>
{
    private static string[] SdmExamples => Directory.EnumerateFiles(Path.Combine(RepoPaths.Fixtures, "smart-data-models"), "example*.jsonld", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal).ToArray();

    private static string Tenant() => "cli-" + Guid.NewGuid().ToString("N")[..10];

    private async Task<List<JsonObject>> EntitiesAsync(string tenant, string? link = null)
    {
        var response = await fx.Client.Send(HttpMethod.Get, Api.Entities + "?local=true&limit=1000", tenant: tenant, link: link);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!.AsObject()).ToList();
    }

    [Fact]
    public async Task Import_of_the_22_published_sdm_examples_imports_them_unchanged_and_refuses_the_3_with_upstream_errors()
    {
        SdmExamples.Should().HaveCount(22);
        var tenant = Tenant();
        var report = fx.Temp("refused.ndjson");
        var (code, output) = await fx.RunAsync(["import", .. SdmExamples, "--url", "http://localhost", "--tenant", tenant, "--state", fx.Temp("state"), "--report", report]);

        code.Should().Be(CliContext.Partly, output);
        var refused = File.ReadAllLines(report).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        refused.Select(r => (Path.GetRelativePath(Path.Combine(RepoPaths.Fixtures, "smart-data-models"), r["source"]!.GetValue<string>()), r["type"]!.GetValue<string>()))
            .Should().BeEquivalentTo(new[]
            {
                ("Device/DeviceMeasurement/examples/example-normalized.jsonld", "BadRequestData"), // location typed Property: a GeoProperty by the core context
                ("Environment/FloodMonitoring/examples/example-normalized.jsonld", "BadRequestData"), // floodLevelStatus typed "string"
                ("Environment/WaterObserved/examples/example-normalized.jsonld", "BadRequestData"), // dateObserved a Relationship to a date
            });
        refused.Select(r => r["detail"]!.GetValue<string>()).Should().Contain(d => d.Contains("'location' is a GeoProperty"))
            .And.Contain(d => d.Contains("'floodLevelStatus'")).And.Contain(d => d.Contains("'dateObserved'"));
        output.Should().Contain("19").And.Contain("refused");

        // Every type landed in its smart-data-models vocabulary: the example files' remote @contexts resolved from schemas/contexts.
        var types = await (await fx.Client.Send(HttpMethod.Get, "/ngsi-ld/v1/types", tenant: tenant)).JsonAsync();
        types["typeList"]!.AsArray().Select(t => t!.GetValue<string>()).Should().HaveCount(11)
            .And.OnlyContain(t => t.StartsWith("https://smartdatamodels.org/dataModel.", StringComparison.Ordinal));
        (await EntitiesAsync(tenant)).Should().HaveCount(11);
    }

    [Fact]
    public async Task Import_reads_ndjson_and_json_arrays_and_reports_what_is_not_an_entity()
    {
        var tenant = Tenant();
        var ndjson = fx.Temp("things.ndjson");
        File.WriteAllLines(ndjson,
        [
            $$"""{"id":"{{Api.NewId()}}","type":"Thing","n":{"type":"Property","value":1} }""",
            "",
            $$"""{"id":"{{Api.NewId()}}","type":"Thing","n":2}""",
            "{ not json",
            "[1, 2]",
            $$"""{"id":"not a uri","type":"Thing"}""",
        ]);
        var array = fx.Temp("things.json");
        File.WriteAllText(array, $$"""[{"id":"{{Api.NewId()}}","type":"Thing"},{"id":"{{Api.NewId()}}","type":"Thing"}]""");
        var report = fx.Temp("refused.ndjson");

        var (code, output) = await fx.RunAsync("import", ndjson, array, "--tenant", tenant, "--url", "http://localhost", "--batch-size", "2",
            "--state", fx.Temp("state"), "--report", report);

        code.Should().Be(CliContext.Partly, output);
        (await EntitiesAsync(tenant)).Should().HaveCount(4);
        var refused = File.ReadAllLines(report).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        refused.Select(r => r["position"]!.GetValue<long>()).Should().BeEquivalentTo([4L, 5L, 6L]);
        refused.Single(r => r["position"]!.GetValue<long>() == 6)["type"]!.GetValue<string>().Should().Be("BadRequestData");
        refused.Single(r => r["position"]!.GetValue<long>() == 5)["detail"]!.GetValue<string>().Should().Contain("not a JSON object");
    }

    [Fact]
    public async Task Import_resumes_after_a_stop_without_sending_the_done_batches_again()
    {
        var tenant = Tenant();
        var input = fx.Temp("ten.ndjson");
        var ids = Enumerable.Range(0, 10).Select(_ => Api.NewId()).ToList();
        File.WriteAllLines(input, ids.Select(id => $$"""{"id":"{{id}}","type":"Thing"}"""));
        var state = fx.Temp("state");
        string[] args = ["import", input, "--tenant", tenant, "--url", "http://localhost", "--batch-size", "2", "--state", state, "--report", fx.Temp("r.ndjson")];

        var failing = new CountingHandler(fx.Factory.Server.CreateHandler(), refuseAfter: 2);
        var (stoppedCode, stoppedOutput) = await CliFixture.RunWithAsync(failing, args);
        stoppedCode.Should().Be(CliContext.Failed, stoppedOutput);
        stoppedOutput.Should().Contain("resumes");
        File.Exists(state).Should().BeTrue();
        (await EntitiesAsync(tenant)).Should().HaveCount(4);

        var counting = new CountingHandler(fx.Factory.Server.CreateHandler());
        var (code, output) = await CliFixture.RunWithAsync(counting, args);
        code.Should().Be(CliContext.Ok, output);
        output.Should().Contain("Resuming after item 4");
        counting.Upserts.Should().Be(3, "items 5 to 10 in batches of two");
        File.Exists(state).Should().BeFalse("a completed import leaves no checkpoint");
        (await EntitiesAsync(tenant)).Select(e => e["id"]!.GetValue<string>()).Should().BeEquivalentTo(ids);
    }

    [Fact]
    public async Task Export_streams_every_entity_as_ndjson_that_imports_unchanged()
    {
        var source = Tenant();
        const string weather = "https://smart-data-models.github.io/dataModel.Weather/context.jsonld";
        for (var i = 0; i < 5; i++)
            await fx.Client.CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing","n":{"type":"Property","value":{{i}}} }""", tenant: source);
        await fx.Client.CreateOkAsync($$"""{"id":"{{Api.NewId("WeatherObserved")}}","type":"WeatherObserved","temperature":{"type":"Property","value":3.5} }""",
            link: Api.Link(weather), tenant: source);
        var file = fx.Temp("export.ndjson");

        var (code, output) = await fx.RunAsync("export", "--tenant", source, "--url", "http://localhost", "-o", file, "--page-size", "2");
        code.Should().Be(CliContext.Ok, output);
        var lines = File.ReadAllLines(file);
        lines.Should().HaveCount(6);
        lines.Should().OnlyContain(l => JsonNode.Parse(l)!["@context"] != null);

        var copy = Tenant();
        (await fx.RunAsync("import", file, "--tenant", copy, "--url", "http://localhost", "--state", fx.Temp("s"), "--report", fx.Temp("r"))).Code.Should().Be(CliContext.Ok);
        var again = fx.Temp("again.ndjson");
        (await fx.RunAsync("export", "--tenant", copy, "--url", "http://localhost", "-o", again)).Code.Should().Be(CliContext.Ok);
        File.ReadAllLines(again).Should().BeEquivalentTo(lines);
        (await EntitiesAsync(copy, Api.Link(weather))).Should().Contain(e => e["type"]!.GetValue<string>() == "WeatherObserved");
    }

    [Fact]
    public async Task Export_of_an_unknown_tenant_fails_with_the_reason()
    {
        var (code, output) = await fx.RunAsync("export", "--tenant", Tenant(), "--url", "http://localhost", "-o", fx.Temp("none.ndjson"));
        code.Should().Be(CliContext.Failed);
        output.Should().Contain("NonexistentTenant");
    }

    [Fact]
    public async Task Health_exits_0_for_a_live_and_ready_broker_and_1_for_none()
    {
        (await fx.RunAsync("health", "--url", "http://localhost")).Code.Should().Be(CliContext.Ok);
        (await fx.RunAsync("health", "--ready", "--url", "http://localhost")).Code.Should().Be(CliContext.Ok);
        var (code, _) = await CliFixture.RunWithAsync(null, "health", "--url", $"http://127.0.0.1:{NotificationReceiver.FreePort()}", "--timeout", "2");
        code.Should().Be(CliContext.Failed);
    }

    [Fact]
    public async Task Listen_prints_the_notifications_of_a_subscription()
    {
        var port = NotificationReceiver.FreePort();
        var tenant = Tenant();
        var listening = CliFixture.RunWithAsync(null, "listen", "--port", port.ToString(), "--count", "1");
        var subscription = $$"""{"id":"urn:ngsi-ld:Subscription:{{Guid.NewGuid():N}}","type":"Subscription","entities":[{"type":"Thing"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:{{port}}/notify"} } }""";
        (await fx.Client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", subscription, tenant: tenant)).StatusCode.Should().Be(HttpStatusCode.Created);
        var id = Api.NewId();
        await fx.Client.CreateOkAsync($$"""{"id":"{{id}}","type":"Thing","n":{"type":"Property","value":1} }""", tenant: tenant);

        var (code, output) = await listening.WaitAsync(TimeSpan.FromSeconds(30));
        code.Should().Be(CliContext.Ok);
        output.Should().Contain(id).And.Contain("urn:ngsi-ld:Subscription:");
    }

    /// <summary>Counts upsert requests; after <c>refuseAfter</c> of them it answers 401, as a revoked key would.</summary>
    private sealed class CountingHandler(HttpMessageHandler inner, int refuseAfter = int.MaxValue) : DelegatingHandler(inner)
    {
        public int Upserts { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/entityOperations/upsert", StringComparison.Ordinal))
            {
                if (Upserts >= refuseAfter)
                    return new HttpResponseMessage(HttpStatusCode.Unauthorized)
                    {
                        Content = new StringContent("""{"type":"urn:kontext:errors:Unauthorized","title":"Unauthorized","status":401,"detail":"Unknown API key"}"""),
                    };
                Upserts++;
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
