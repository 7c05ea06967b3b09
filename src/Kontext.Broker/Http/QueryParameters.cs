using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Http;

/// <summary>The URL parameters shared by the operations (clause 6.3.x): options, format, attrs/pick/omit, lang, geometryProperty.</summary>
internal static class QueryParameters
{
    private static readonly string[] RepresentationOptions = ["keyValues", "simplified", "concise", "normalized", "sysAttrs"];

    /// <summary>
    /// Refuses a query parameter the operation does not define (clause 6.3.20: 400 InvalidRequest), so a misspelt
    /// parameter is not silently ignored.
    /// </summary>
    public static void RejectUnknown(NgsiRequest request, IReadOnlySet<string> defined)
    {
        foreach (var name in request.Query.Keys)
        {
            if (!defined.Contains(name))
                throw NgsiException.InvalidRequest($"'{name}' is not a query parameter of this operation (it takes {string.Join(", ", defined.Order(StringComparer.Ordinal))})");
        }
    }

    /// <summary>The values of the options parameter; an option outside <paramref name="allowed"/> is 400 InvalidRequest (clause 6.3.20).</summary>
    public static HashSet<string> Options(NgsiRequest request, params string[] allowed)
    {
        var values = List(request, "options");
        if (values.Count == 0) return new HashSet<string>(StringComparer.Ordinal);
        var known = new HashSet<string>(allowed, StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!known.Contains(value)) throw NgsiException.InvalidRequest($"Unknown value '{value}' in options (allowed: {string.Join(", ", allowed)})");
        }
        return values.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The representation the options and format parameters ask for (clause 6.3.7), and whether sysAttrs is among the options.</summary>
    public static (RenderFormat Format, bool SysAttrs) Representation(NgsiRequest request)
    {
        // Most requests send no options: no list, no set to read that from.
        var options = request.Query.ContainsKey("options") ? Options(request, RepresentationOptions) : null;
        var format = RenderFormat.Normalized;
        if (options is not null && (options.Contains("keyValues") || options.Contains("simplified"))) format = RenderFormat.KeyValues;
        else if (options is not null && options.Contains("concise")) format = RenderFormat.Concise;
        var formatParam = request.Query["format"].ToString();
        if (formatParam.Length > 0)
        {
            format = formatParam switch
            {
                "keyValues" or "simplified" => RenderFormat.KeyValues,
                "concise" => RenderFormat.Concise,
                "normalized" => RenderFormat.Normalized,
                _ => throw NgsiException.InvalidRequest($"Unknown format '{formatParam}' (keyValues, simplified, concise, normalized)"),
            };
        }
        return (format, options is not null && options.Contains("sysAttrs"));
    }

    /// <summary>The projection with an explicit attrs list (POST query carries it in the body).</summary>
    public static Projection Projection(NgsiRequest request, List<string> attrs) =>
        Projection(request, attrs, Selection(request, "pick"), Selection(request, "omit"));

    /// <summary>The projection of attrs, pick and omit, wherever they were read from.</summary>
    public static Projection Projection(NgsiRequest request, List<string> attrs, IReadOnlyList<SelectedMember>? pick, IReadOnlyList<SelectedMember>? omit) =>
        Kontext.Ngsi.Formats.Projection.Select(attrs, pick, omit, name => EntityParser.ExpandAttributeName(name, request.Context));

    /// <summary>pick or omit from the URL (clause 4.21 grammar); null when absent or empty.</summary>
    public static IReadOnlyList<SelectedMember>? Selection(NgsiRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count == 0) return null;
        var text = string.Join(",", values.Where(v => !string.IsNullOrEmpty(v)));
        return text.Length == 0 ? null : MemberSelection.Parse(text, name);
    }

    public static string GeometryProperty(NgsiRequest request)
    {
        var name = request.Query["geometryProperty"].ToString();
        return GeometryProperty(request, name.Length == 0 ? null : name);
    }

    /// <summary>
    /// The GeoProperty a GeoJSON response takes its geometry from. Only a GeoJSON response has one: the parameter with
    /// another media type is BadRequestData (clause 5.7.1.4).
    /// </summary>
    public static string GeometryProperty(NgsiRequest request, string? name)
    {
        if (name is null) return GeoJsonRenderer.DefaultGeometryProperty;
        if (request.Media != ResponseMedia.GeoJson)
            throw NgsiException.BadRequestData("geometryProperty is only meaningful with Accept: application/geo+json");
        return EntityParser.ExpandAttributeName(name, request.Context);
    }

    public static bool Flag(NgsiRequest request, string name)
    {
        var value = request.Query[name].ToString();
        return value switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw NgsiException.BadRequestData($"'{name}' must be true or false"),
        };
    }

    public static List<string> List(NgsiRequest request, string name)
    {
        var values = request.Query[name];
        var list = new List<string>();
        foreach (var value in values) // most requests name few of the parameters asked for: nothing to split then
            if (!string.IsNullOrEmpty(value)) list.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return list;
    }
}
