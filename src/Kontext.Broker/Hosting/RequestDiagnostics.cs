using Microsoft.Extensions.Options;

namespace Kontext.Broker.Hosting;

/// <summary>
/// What the logging set-up costs each request, paid only when something reads it. Log scopes (the request id's, the
/// framework's request scope) are captured only when a provider is configured to write them
/// (<c>Logging:&lt;provider&gt;:FormatterOptions:IncludeScopes</c> or <c>Logging:&lt;provider&gt;:IncludeScopes</c>): each one
/// is otherwise an allocation and two async-local writes that no log line shows. And ASP.NET Core starts an
/// <see cref="System.Diagnostics.Activity"/> for every request while its hosting logger is on at any level, so that log
/// scopes carry a trace id; when that logger writes nothing per request (its Information is off) and scopes are not
/// captured, it is turned off, and requests get an Activity only when a listener (tracing) asks for one.
/// </summary>
internal static class RequestDiagnostics
{
    /// <summary>The logger whose being on makes the framework start an Activity per request.</summary>
    public const string HostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static void AddRequestDiagnostics(this IServiceCollection services) =>
        services.AddOptions<LoggerFilterOptions>().PostConfigure<IConfiguration>(Apply);

    /// <summary>Decides from the final configuration (every source in place) and the filter rules bound from it.</summary>
    internal static void Apply(LoggerFilterOptions filters, IConfiguration configuration)
    {
        filters.CaptureScopes = ScopesWritten(configuration);
        if (!filters.CaptureScopes && WritesNothingPerRequest(filters))
            filters.Rules.Add(new LoggerFilterRule(providerName: null, HostingCategory, LogLevel.None, filter: null));
    }

    /// <summary>True when some provider section of Logging asks for scopes (the console's formatters, or a provider's own IncludeScopes).</summary>
    internal static bool ScopesWritten(IConfiguration configuration) =>
        configuration.GetSection("Logging").GetChildren().Any(provider =>
            IsTrue(provider["IncludeScopes"]) || IsTrue(provider["FormatterOptions:IncludeScopes"]));

    private static bool IsTrue(string? value) => bool.TryParse(value, out var on) && on;

    /// <summary>
    /// True when no rule lets the hosting category log at Information, for any provider a rule names and for the others
    /// (the rule that applies is chosen as the logging library does: the provider's own rules before the general ones,
    /// then the longest category prefix, then the last). A filter function or a wildcard category cannot be read this
    /// way: the logger then stays as configured.
    /// </summary>
    internal static bool WritesNothingPerRequest(LoggerFilterOptions filters)
    {
        if (filters.Rules.Any(rule => rule.Filter is not null || rule.CategoryName?.Contains('*') == true)) return false;
        var providers = filters.Rules.Select(rule => rule.ProviderName).Distinct().Append(null);
        return providers.All(provider => LevelFor(filters, provider) > LogLevel.Information);
    }

    private static LogLevel LevelFor(LoggerFilterOptions filters, string? provider)
    {
        LoggerFilterRule? chosen = null;
        foreach (var rule in filters.Rules)
        {
            if (rule.ProviderName is not null && rule.ProviderName != provider) continue;
            if (rule.CategoryName is not null && !HostingCategory.StartsWith(rule.CategoryName, StringComparison.OrdinalIgnoreCase)) continue;
            if (chosen?.ProviderName is not null && rule.ProviderName is null) continue;
            if (chosen is not null && (chosen.ProviderName is null) == (rule.ProviderName is null)
                && (chosen.CategoryName?.Length ?? -1) > (rule.CategoryName?.Length ?? -1)) continue;
            chosen = rule;
        }
        return chosen is null ? filters.MinLevel : chosen.LogLevel ?? LogLevel.Trace; // a rule without a level lets all through
    }
}
