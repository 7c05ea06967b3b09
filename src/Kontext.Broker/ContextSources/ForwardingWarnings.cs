using System.Text.Json.Nodes;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.ContextSources;

/// <summary>
/// What went wrong with the sources of one distributed operation, as NGSILD-Warning headers (clause 6.3.17): 299 for an
/// error answer of the source, 111 for an answer that is not NGSI-LD or too large (and is not incorporated), 112 for no answer at all
/// (timeout, unreachable, refused by the outbound policy, cooling down). A 404 is no data, not abnormal. The warn-agent is
/// the source's contextSourceAlias, else the registration id (never its address).
/// </summary>
internal sealed class ForwardingWarnings
{
    private readonly List<string> _warnings = [];

    public bool Any => _warnings.Count > 0;

    public void NoAnswer(Registration registration, ContextSourceResponse response) =>
        // An answer over the size cap is a payload not incorporated, like an invalid one.
        Add(response.Failure == ContextSourceFailure.TooLarge ? 111 : 112, registration, response.Detail ?? "the context source did not answer");

    public void ErrorAnswer(Registration registration, ContextSourceResponse response) =>
        Add(299, registration, $"the context source answered {response.Status}");

    public void InvalidAnswer(Registration registration, string detail) =>
        Add(111, registration, "the context source's answer is not valid NGSI-LD: " + detail);

    private void Add(int code, Registration registration, string text) =>
        _warnings.Add($"{code} {registration.ContextSourceAlias ?? registration.Id} \"{text.Replace("\"", "'", StringComparison.Ordinal)}\"");

    public void WriteTo(HttpResponse response)
    {
        foreach (var warning in _warnings) response.Headers.Append("NGSILD-Warning", warning);
    }
}
