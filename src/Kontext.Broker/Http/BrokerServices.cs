namespace Kontext.Broker.Http;

/// <summary>
/// The broker's singletons (stores, context processor, options) as the request's code asks for them: from the
/// application's provider, carried as a request feature, not from <c>HttpContext.RequestServices</c>, whose first use
/// opens a service scope per request (a scope, a feature and an on-completed callback that Kestrel then runs). Only
/// singletons are asked here; a request made outside the pipeline (snapshot fills) falls back to its RequestServices.
/// </summary>
internal sealed class BrokerServices(IServiceProvider root)
{
    private IServiceProvider Root { get; } = root;

    public static IServiceProvider Of(HttpContext http) => http.Features.Get<BrokerServices>()?.Root ?? http.RequestServices;

    /// <summary>First in the pipeline: every request carries the feature.</summary>
    public void Attach(HttpContext http) => http.Features.Set(this);
}
