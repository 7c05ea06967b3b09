namespace Kontext.Broker.ContextSources;

/// <summary>The "Kontext:Federation" section: this broker as a context source, and how it contacts other sources (docs/federation.md).</summary>
public sealed class FederationOptions
{
    /// <summary>
    /// This broker's contextSourceAlias (clause 5.2.40), the name it adds to Via so a request that comes back is recognised
    /// (clause 6.3.18). Unset: derived from where the data lives, the same for every instance over one MongoDB. Each tenant
    /// appends its name, so the tenants of one broker stay distinguishable in a Via chain.
    /// </summary>
    public string? ContextSourceAlias { get; set; }

    /// <summary>How long one forwarded request may take when its registration sets no management.timeout.</summary>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a source that failed (timeout, no connection, 5xx) is left alone when its registration sets no
    /// management.cooldown. Zero (the default): the cooldown is the registration's choice (clause 5.2.34), and a source that
    /// timed out or answered 5xx is asked again next time.
    /// </summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long a source no connection could be opened to at all (refused, unreachable, unknown host) is left alone when its
    /// registration sets no management.cooldown (the longer of this and <see cref="Cooldown"/>). Such a source is down, not
    /// slow: asking it on every request costs each request a failed connect, a retry and a log line, and tells nothing new.
    /// Short, so a source that comes back is asked again soon; kept per registration and endpoint, so a new registration is
    /// always tried at once. Zero: no such cooldown.
    /// </summary>
    public TimeSpan UnreachableCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest answer read from a context source; a larger one counts as a failure of that source.</summary>
    public long MaxResponseBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// The address context sources notify this broker at for distributed subscriptions (its scheme, host and path base,
    /// e.g. https://region.example.org). Unset: the address the subscription's request came to, which is right unless
    /// the broker sits behind a proxy that rewrites it.
    /// </summary>
    public string? NotificationBaseUrl { get; set; }
}
