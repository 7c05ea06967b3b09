using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Kontext.Broker.Tests.Infrastructure;

/// <summary>A broker in-process on its own data directory. Dispose stops it; the directory stays until <see cref="DeleteData"/>.</summary>
public sealed class BrokerFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public BrokerFactory(string? dataDirectory = null, IDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "kontext-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Kontext:Storage:DataDirectory"] = DataDirectory,
            ["Kontext:Contexts:FetchTimeout"] = "00:00:02",
            ["Kontext:Contexts:FetchRetries"] = "1",
            ["Logging:LogLevel:Kontext.Access"] = "Warning", // a line per request is for operators, not for the test run's console
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    public string DataDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
    }

    public void DeleteData()
    {
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>One broker shared by the tests of a class (with the given settings); tests isolate themselves with unique ids or tenants.</summary>
public abstract class BrokerFixtureBase(IDictionary<string, string?>? settings) : IAsyncLifetime
{
    public BrokerFactory Factory { get; } = new(settings: settings);
    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        Factory.DeleteData();
    }
}

/// <summary>A broker with the default settings.</summary>
public sealed class BrokerFixture() : BrokerFixtureBase(null);

[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "broker";
}
