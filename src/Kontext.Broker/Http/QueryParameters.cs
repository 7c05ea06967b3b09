using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Http;

/// <summary>The URL parameters shared by the operations (clause 6.3.x): options, format, attrs/pick/omit, lang, geometryProperty.</summary>
internal static class QueryParameters
{
    private static readonly HashSet<string> RepresentationOptions = new(StringComparer.Ordinal)
        { "keyValues", "simplified", "concise", "normalized", "sysAttrs" };

    /// <summary>The values of the options parameter; an option outside <paramref name="allowed"/> is 400.</summary>
    public static HashSet<string> Options(NgsiRequest request, params string[] allowed)
    {
        var values = List(request, "options");
        var known = new HashSet<string>(allowed, StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!known.Contains(value)) throw NgsiException.BadRequestData($"Unknown value '{value}' in options (allowed: {string.Join(", ", allowed)})");
        }
        return values.ToHashSet(StringComparer.Ordinal);
    }

    public static RenderOptions Render(NgsiRequest request)
    {
        var options = Options(request, [.. RepresentationOptions]);
        var format = RenderFormat.Normalized;
        if (options.Contains("keyValues") || options.Contains("simplified")) format = RenderFormat.KeyValues;
        else if (options.Contains("concise")) format = RenderFormat.Concise;
        var formatParam = request.Query["format"].ToString();
        if (formatParam.Length > 0)
        {
            format = formatParam switch
            {
                "keyValues" or "simplified" => RenderFormat.KeyValues,
                "concise" => RenderFormat.Concise,
                "normalized" => RenderFormat.Normalized,
                _ => throw NgsiException.BadRequestData($"Unknown format '{formatParam}' (keyValues, simplified, concise, normalized)"),
            };
        }
        return new RenderOptions(format, options.Contains("sysAttrs"), LanguageSelector.Parse(request.Query["lang"].ToString()), Projection(request));
    }

    /// <summary>Render options whose projection uses an explicit attrs list.</summary>
    public static RenderOptions Render(NgsiRequest request, List<string> attrs)
    {
        var options = Render(request);
        return options with { Projection = Projection(request, attrs.Count > 0 ? attrs : List(request, "attrs")) };
    }

    /// <summary>attrs, pick and omit as one projection; pick and omit may name id and type (clause 4.21).</summary>
    public static Projection Projection(NgsiRequest request) =>
        Projection(request, List(request, "attrs"));

    /// <summary>The projection with an explicit attrs list (POST query carries it in the body).</summary>
    public static Projection Projection(NgsiRequest request, List<string> attrs)
    {
        var pick = List(request, "pick");
        var omit = List(request, "omit");
        if (pick.Count > 0 && omit.Count > 0) throw NgsiException.BadRequestData("pick and omit cannot be used together");
        static bool IsMember(string name) => name is "id" or "type" or "scope";
        HashSet<string>? only = attrs.Count > 0 ? Expand(request, attrs.Where(a => !IsMember(a))) : null;
        var scope = attrs.Count == 0 || attrs.Contains("scope");
        bool id = true, type = true;
        if (pick.Count > 0)
        {
            id = pick.Contains("id");
            type = pick.Contains("type");
            scope &= pick.Contains("scope");
            var picked = Expand(request, pick.Where(p => !IsMember(p)));
            only = only is null ? picked : only.Intersect(picked).ToHashSet(StringComparer.Ordinal);
        }
        HashSet<string>? omitted = null;
        if (omit.Count > 0)
        {
            id = !omit.Contains("id");
            type = !omit.Contains("type");
            scope &= !omit.Contains("scope");
            omitted = Expand(request, omit.Where(p => !IsMember(p)));
        }
        return new Projection(id, type, scope, only, omitted);
    }

    public static string GeometryProperty(NgsiRequest request)
    {
        var name = request.Query["geometryProperty"].ToString();
        return name.Length == 0 ? GeoJsonRenderer.DefaultGeometryProperty : EntityParser.ExpandAttributeName(name, request.Context);
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

    public static List<string> List(NgsiRequest request, string name) =>
        request.Query[name].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    private static HashSet<string> Expand(NgsiRequest request, IEnumerable<string> names) =>
        names.Select(n => EntityParser.ExpandAttributeName(n, request.Context)).ToHashSet(StringComparer.Ordinal);
}
