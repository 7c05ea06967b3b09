using System.Text.Json.Nodes;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// What went wrong with the sources of one distributed operation, as NGSILD-Warning headers (clause 6.3.17, table
/// 6.3.17-1): 199 for no answer within the timeout (timeout, unreachable, refused by the outbound policy, cooling down,
/// which answers as a timeout) and for a registration loop, 299 for an error answer of the source, 111 for an answer that
/// is not NGSI-LD or too large (and is not incorporated). A 404 is no data, not abnormal. The warn-agent is the source's
/// contextSourceAlias, else the registration id (never its address). The warnings a source's own answer carries are
/// passed on, so the client of a cascade hears of every hop's trouble.
/// </summary>
internal sealed class ForwardingWarnings
{
    private readonly List<string> _warnings = [];

    public bool Any => _warnings.Count > 0;

    public void NoAnswer(Registration registration, ContextSourceResponse response) =>
        // An answer over the size cap is a payload not incorporated, like an invalid one.
        Add(response.Failure == ContextSourceFailure.TooLarge ? 111 : 199, registration, response.Detail ?? "the context source did not answer");

    /// <summary>The NGSILD-Warning headers of a source's answer, passed on as they are.</summary>
    public void Relay(ContextSourceResponse response)
    {
        foreach (var (name, value) in response.Headers)
            if (name.Equals(Header, StringComparison.OrdinalIgnoreCase) && value.Length > 0 && !_warnings.Contains(value)) _warnings.Add(value);
    }

    /// <summary>
    /// 199 for a request that came back to this broker while registrations would send it on: it is answered from local
    /// data only (clause 4.3.6.4), and the client is told why (table 6.3.17-1: "a registration loop has been detected").
    /// </summary>
    public static void LoopDetected(HttpResponse response, string alias) =>
        response.Headers.Append(Header, $"199 {alias} \"a registration loop has been detected\"");

    private const string Header = "NGSILD-Warning";

    public void ErrorAnswer(Registration registration, ContextSourceResponse response) =>
        Add(299, registration, $"the context source answered {response.Status}");

    public void InvalidAnswer(Registration registration, string detail) =>
        Add(111, registration, "the context source's answer is not valid NGSI-LD: " + detail);

    private void Add(int code, Registration registration, string text) =>
        _warnings.Add($"{code} {registration.ContextSourceAlias ?? registration.Id} \"{text.Replace("\"", "'", StringComparison.Ordinal)}\"");

    public void WriteTo(HttpResponse response)
    {
        foreach (var warning in _warnings) response.Headers.Append(Header, warning);
    }
}
