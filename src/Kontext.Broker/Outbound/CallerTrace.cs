using System.Diagnostics;

namespace Kontext.Broker.Outbound;

/// <summary>
/// W3C Trace Context (https://www.w3.org/TR/trace-context/) for the HTTP calls the broker makes on a request's behalf
/// (forwarding to context sources, remote @context fetches). When tracing is configured, ASP.NET Core starts an
/// <see cref="Activity"/> for the request and the HTTP client sends a child of it. Otherwise the broker records no span
/// and starts no Activity (its cost on every request); it then propagates as the specification's section "Mutating the
/// traceparent Field" allows a service that collects no tracing information, like a proxy: unchanged, and tracestate
/// unchanged with it. A request that carries a valid traceparent has it, with its tracestate, sent on as received. A new parent-id here would
/// name a span that no one records, and the callee's span would hang from nothing in the trace.
/// <para>
/// Known limit: when tracing records outgoing HTTP calls only (a listener on System.Net.Http, none on
/// Microsoft.AspNetCore), the client's span starts a trace of its own: .NET parents it on <see cref="Activity.Current"/>,
/// which is null here, and no Activity can take the caller's span id. The callee still hangs from the caller's span (the
/// client keeps the traceparent set here and does not inject its own). Trace requests too (the usual set-up) and the
/// client's span is the request span's child, as above.
/// </para>
/// </summary>
public static class CallerTrace
{
    public const string ParentHeader = "traceparent";
    public const string StateHeader = "tracestate";

    /// <summary>The headers to pass on, for the request whose work is running, when it carried valid ones.</summary>
    internal sealed record Headers(string Parent, string? State);

    private static readonly AsyncLocal<Headers?> Carried = new();

    internal static Headers? Current => Carried.Value;

    /// <summary>
    /// Runs the rest of the pipeline with the request's trace headers carried for outbound calls, when it has valid
    /// ones and no Activity already speaks for it. A request without traceparent pays one header look-up.
    /// </summary>
    public static Task CarryAsync(HttpContext http, RequestDelegate next)
    {
        var parent = http.Request.Headers.TraceParent;
        if (parent.Count == 0 || Activity.Current is not null) return next(http);
        // Two traceparent fields, or one that does not parse, carry no trace context: nothing is passed on.
        if (parent.Count != 1 || parent[0]?.Trim(' ', '\t') is not { } value || !IsValidParent(value)) return next(http);
        var state = http.Request.Headers.TraceState;
        // Several tracestate fields are one list, as HTTP combines repeated fields.
        var combined = state.Count == 0 ? null : string.Join(',', state.ToArray());
        return RunAsync(new Headers(value, string.IsNullOrWhiteSpace(combined) ? null : combined), http, next);
    }

    // An async method of its own: the value set here flows down to the request's work and not back to Kestrel's
    // connection loop, so the next request on the connection does not inherit it.
    private static async Task RunAsync(Headers headers, HttpContext http, RequestDelegate next)
    {
        Carried.Value = headers;
        await next(http);
    }

    /// <summary>
    /// The traceparent format: version-traceid-parentid-flags in lowercase hex; version ff is invalid; trace-id and
    /// parent-id are not all zeros. Version 00 is exactly 55 characters; a later version may append fields after a dash.
    /// </summary>
    public static bool IsValidParent(string value)
    {
        if (value.Length < 55 || !IsHex(value.AsSpan(0, 2)) || value.StartsWith("ff", StringComparison.Ordinal)) return false;
        if (value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
        if (value.StartsWith("00", StringComparison.Ordinal) ? value.Length != 55 : value.Length > 55 && value[55] != '-') return false;
        var traceId = value.AsSpan(3, 32);
        var parentId = value.AsSpan(36, 16);
        return IsHex(traceId) && IsHex(parentId) && IsHex(value.AsSpan(53, 2))
            && traceId.ContainsAnyExcept('0') && parentId.ContainsAnyExcept('0');
    }

    private static bool IsHex(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return true;
    }
}

/// <summary>
/// Adds the carried trace headers (<see cref="CallerTrace"/>) to an outbound request that has none of its own: the HTTP
/// client's own propagation (of an Activity, when tracing is on) and a header a registration configures keep theirs.
/// </summary>
internal sealed class CallerTraceHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (CallerTrace.Current is { } trace && Activity.Current is null && !request.Headers.Contains(CallerTrace.ParentHeader))
        {
            request.Headers.TryAddWithoutValidation(CallerTrace.ParentHeader, trace.Parent);
            request.Headers.Remove(CallerTrace.StateHeader);
            if (trace.State is { } state) request.Headers.TryAddWithoutValidation(CallerTrace.StateHeader, state);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
