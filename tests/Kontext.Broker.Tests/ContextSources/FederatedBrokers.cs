using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;

namespace Kontext.Broker.Tests.ContextSources;

/// <summary>
/// A regional broker (in-process) and two municipal brokers (real Kontext processes on 127.0.0.1) that the region
/// registers as context sources. Tests isolate themselves: each uses its own tenant on the regional broker (so its
/// registrations are its own) and its own entity ids.
/// </summary>
public sealed class FederatedBrokers : BrokerFixtureBase, IAsyncLifetime
{
    private readonly string _municipalData = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
    private readonly string _secondMunicipalData = Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));

    public FederatedBrokers() : base(new Dictionary<string, string?>
    {
        ["Kontext:Federation:ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:region",
        ["Kontext:Federation:Cooldown"] = "00:00:00",
    }) { }

    internal BrokerProcess Municipal { get; private set; } = null!;
    public string MunicipalUrl => Municipal.Url;
    public HttpClient MunicipalClient { get; private set; } = null!;

    /// <summary>A second municipality, for what needs two sources that are two processes.</summary>
    internal BrokerProcess SecondMunicipal { get; private set; } = null!;
    public string SecondMunicipalUrl => SecondMunicipal.Url;
    public HttpClient SecondMunicipalClient { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        var municipal = BrokerProcess.StartAsync(_municipalData, new Dictionary<string, string>
        {
            ["Kontext__Federation__ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:municipality",
            // Small, so that a temporal test sees the region follow the municipality's instance pages (clause 6.3.10).
            ["Kontext__Temporal__InstanceLimit"] = "3",
        });
        var second = BrokerProcess.StartAsync(_secondMunicipalData, new Dictionary<string, string>
        {
            ["Kontext__Federation__ContextSourceAlias"] = "urn:ngsi-ld:ContextSource:second-municipality",
        });
        (Municipal, SecondMunicipal) = (await municipal, await second);
        MunicipalClient = new HttpClient { BaseAddress = new Uri(Municipal.Url) };
        SecondMunicipalClient = new HttpClient { BaseAddress = new Uri(SecondMunicipal.Url) };
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        MunicipalClient.Dispose();
        SecondMunicipalClient.Dispose();
        Municipal.Dispose();
        SecondMunicipal.Dispose();
        foreach (var data in new[] { _municipalData, _secondMunicipalData })
            try { Directory.Delete(data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        await DisposeAsync();
    }

    public static string Registration(string endpoint, string information, string mode = "inclusive", string extra = "") =>
        $$"""{"id":"{{Api.NewId("ContextSourceRegistration")}}","type":"ContextSourceRegistration","endpoint":"{{endpoint}}","mode":"{{mode}}","information":{{information}}{{extra}}}""";

    /// <summary>Registers a source on the regional broker for <paramref name="tenant"/>.</summary>
    public async Task RegisterAsync(string tenant, string registration)
    {
        var response = await Client.Send(HttpMethod.Post, RegistrationApiTests.Registrations, registration, tenant: tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonArray> ArrayAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray();
    }
}

/// <summary>The tests that share one pair of federated brokers (one municipal process for all of them).</summary>
[CollectionDefinition(Name)]
public sealed class FederationCollection : ICollectionFixture<FederatedBrokers>
{
    public const string Name = "federation";
}
