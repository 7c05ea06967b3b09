using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;

namespace Kontext.Broker.Temporal;

/// <summary>
/// attrs, pick and omit of a temporal request (clauses 4.21, 5.7.3.4, 5.7.4.4): pick and omit select members and so
/// cannot be combined with attrs, and the temporal operations define no Linked Entity retrieval, so a projection or a
/// filter that walks into a linked entity ("owner{name}") is BadRequestData.
/// </summary>
internal static class TemporalProjection
{
    public static Projection Read(NgsiRequest request, List<string> attrs)
    {
        var pick = QueryParameters.List(request, "pick");
        var omit = QueryParameters.List(request, "omit");
        if (attrs.Count > 0 && (pick.Count > 0 || omit.Count > 0))
            throw NgsiException.BadRequestData("attrs cannot be combined with pick or omit");
        foreach (var name in attrs.Concat(pick).Concat(omit))
        {
            if (name.Contains('{') || name.Contains('}'))
                throw NgsiException.BadRequestData($"'{name}' asks for Linked Entity retrieval, which the temporal operations do not offer");
        }
        return QueryParameters.Projection(request, attrs);
    }

    /// <summary>A q that walks into a linked entity (attribute{member}) is BadRequestData on the temporal operations.</summary>
    public static void RefuseLinkedFilter(string? q)
    {
        if (q is null) return;
        var quoted = false;
        for (var i = 0; i < q.Length; i++)
        {
            var c = q[i];
            if (c == '\\' && quoted) i++;
            else if (c == '"') quoted = !quoted;
            else if (!quoted && c is '{' or '}')
                throw NgsiException.BadRequestData("q asks for a Linked Entity filter, which the temporal operations do not offer");
        }
    }
}
