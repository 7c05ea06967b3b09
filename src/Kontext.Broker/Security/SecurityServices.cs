using System.Net;
using Kontext.Broker.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Kontext.Broker.Security;

/// <summary>Wiring of access control (docs/security.md): credentials, the access check and the rate limiter.</summary>
public static class SecurityServices
{
    public static IServiceCollection AddAccessControl(this IServiceCollection services)
    {
        services.AddSingleton<AccessCheck>();
        // Registered always, configured from Kontext:Auth:Oidc when first used (only in oidc mode). A lone scheme would
        // become the default one, and the framework's authentication middleware would then run it on every request:
        // the documented switch turns that off, so only AccessCheck asks for a token, and only where a route needs one.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddJwtBearer(BearerTokens.Scheme, _ => { });
        services.AddOptions<JwtBearerOptions>(BearerTokens.Scheme)
            .Configure<IOptions<KontextOptions>>((jwt, kontext) => BearerTokens.Configure(jwt, kontext.Value.Auth.Oidc));
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<KontextOptions>>((limiter, kontext) => RequestRateLimit.Configure(limiter, kontext.Value.Limits));
        return services;
    }

    /// <summary>Identify → rate limit → authorize, before any endpoint runs.</summary>
    public static WebApplication UseAccessControl(this WebApplication app)
    {
        var access = app.Services.GetRequiredService<AccessCheck>(); // resolved now: a bad Kontext:Auth setting stops the start
        // The framework puts its authentication middleware in front of every app that registers authentication, unless
        // the app placed it itself (this key is how UseAuthentication marks that). Here it would find no default scheme
        // and no remote-callback handler, so it only cost every request a feature, a service scope and an async layer:
        // AccessCheck asks the bearer scheme itself, and only on routes that need a caller.
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
        app.Use(access.IdentifyAsync);
        if (app.Services.GetRequiredService<IOptions<KontextOptions>>().Value.Limits.RequestsPerSecond > 0)
            app.UseRateLimiter(); // off by default: not even a partition lookup per request then
        app.Use(access.AuthorizeAsync);
        if (access.Modes == AuthModes.None)
            app.Lifetime.ApplicationStarted.Register(() => WarnIfOpen(app));
        return app;
    }

    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    private static void WarnIfOpen(WebApplication app)
    {
        var addresses = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0)
            app.Logger.LogWarning(
                "Kontext:Auth:Mode is none and the broker listens on {Addresses}: anyone who can reach it may read, write and purge every tenant. " +
                "Set Kontext:Auth:Mode to apikey and/or oidc (docs/security.md), or listen on 127.0.0.1 only.", string.Join(", ", exposed));
    }

    /// <summary>Whether a listening address (http://127.0.0.1:1026, http://[::]:1026, http://+:80, …) only reaches this machine.</summary>
    public static bool IsLoopback(string address)
    {
        var rest = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase)) return true; // a Unix socket
        var host = rest.StartsWith('[') ? rest[1..Math.Max(1, rest.IndexOf(']'))] : rest.Split(':', '/')[0];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}
