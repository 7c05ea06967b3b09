using Kontext.Broker.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kontext.Broker.Tests.Operations;

/// <summary>Log scopes and the framework's per-request hosting logger are on only when some configured log output reads them.</summary>
public sealed class RequestDiagnosticsTests
{
    [Fact]
    public void With_the_shipped_levels_scopes_are_not_captured_and_the_hosting_logger_is_off()
    {
        var filters = Filters(("Logging:LogLevel:Default", "Information"), ("Logging:LogLevel:Microsoft.AspNetCore", "Warning"));
        filters.CaptureScopes.Should().BeFalse();
        filters.Rules.Should().Contain(rule => rule.CategoryName == RequestDiagnostics.HostingCategory && rule.LogLevel == LogLevel.None && rule.ProviderName == null);
    }

    [Theory]
    [InlineData("Logging:Console:FormatterOptions:IncludeScopes")]
    [InlineData("Logging:Console:IncludeScopes")]
    [InlineData("Logging:Debug:IncludeScopes")]
    public void A_provider_that_writes_scopes_keeps_them_and_the_hosting_logger(string setting)
    {
        var filters = Filters(("Logging:LogLevel:Microsoft.AspNetCore", "Warning"), (setting, "true"));
        filters.CaptureScopes.Should().BeTrue();
        filters.Rules.Should().NotContain(rule => rule.LogLevel == LogLevel.None);
    }

    [Theory]
    [InlineData("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information")]
    [InlineData("Logging:LogLevel:Microsoft.AspNetCore.Hosting", "Debug")]
    [InlineData("Logging:Console:LogLevel:Default", "Information")] // a provider's own rule beats the general ones
    public void Request_logs_asked_for_keep_the_hosting_logger(string key, string level)
    {
        var filters = Filters(("Logging:LogLevel:Default", "Warning"), ("Logging:LogLevel:Microsoft.AspNetCore", "Warning"), (key, level));
        filters.Rules.Should().NotContain(rule => rule.LogLevel == LogLevel.None);
    }

    [Fact]
    public void Without_any_level_the_framework_default_information_keeps_the_hosting_logger()
    {
        var filters = Filters();
        filters.Rules.Should().BeEmpty();
    }

    [Fact]
    public void A_filter_function_it_cannot_read_leaves_the_logger_as_configured()
    {
        var filters = new LoggerFilterOptions { MinLevel = LogLevel.Warning };
        filters.Rules.Add(new LoggerFilterRule(null, null, null, (_, _, _) => true));
        RequestDiagnostics.Apply(filters, new ConfigurationBuilder().Build());
        filters.Rules.Should().ContainSingle();
    }

    /// <summary>The filter options as the logging library binds them from the configuration, then this step.</summary>
    private static LoggerFilterOptions Filters(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")));
        services.AddSingleton<IConfiguration>(configuration);
        services.AddRequestDiagnostics();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<LoggerFilterOptions>>().Value;
    }
}
