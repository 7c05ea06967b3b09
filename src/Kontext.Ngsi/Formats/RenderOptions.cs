namespace Kontext.Ngsi.Formats;

public enum RenderFormat { Normalized, Concise, KeyValues }

/// <summary>Which members of an entity a response carries (<c>attrs</c>, <c>pick</c>, <c>omit</c>), by expanded name.</summary>
public sealed record Projection(bool Id = true, bool Type = true, bool Scope = true, IReadOnlySet<string>? Only = null, IReadOnlySet<string>? Omitted = null)
{
    public static readonly Projection All = new();

    public bool IncludesAttribute(string iri) => (Only is null || Only.Contains(iri)) && (Omitted is null || !Omitted.Contains(iri));

    /// <summary>
    /// attrs, pick and omit as one projection (clause 4.21). pick and omit may name the entity members id, type and
    /// scope; every other name is an attribute, expanded by <paramref name="expand"/>. Empty or null lists select nothing.
    /// </summary>
    public static Projection Select(IReadOnlyCollection<string>? attrs, IReadOnlyCollection<string>? pick, IReadOnlyCollection<string>? omit, Func<string, string> expand)
    {
        static bool IsMember(string name) => name is "id" or "type" or "scope";
        HashSet<string> Expand(IEnumerable<string> names) => names.Select(expand).ToHashSet(StringComparer.Ordinal);
        attrs ??= [];
        var only = attrs.Count > 0 ? Expand(attrs.Where(a => !IsMember(a))) : null;
        bool id = true, type = true, scope = attrs.Count == 0 || attrs.Contains("scope");
        if (pick is { Count: > 0 })
        {
            id = pick.Contains("id");
            type = pick.Contains("type");
            scope &= pick.Contains("scope");
            var picked = Expand(pick.Where(p => !IsMember(p)));
            only = only is null ? picked : only.Intersect(picked).ToHashSet(StringComparer.Ordinal);
        }
        HashSet<string>? omitted = null;
        if (omit is { Count: > 0 })
        {
            id &= !omit.Contains("id");
            type &= !omit.Contains("type");
            scope &= !omit.Contains("scope");
            omitted = Expand(omit.Where(o => !IsMember(o)));
        }
        return new Projection(id, type, scope, only, omitted);
    }
}

/// <summary>How to render entities for one response.</summary>
public sealed record RenderOptions(
    RenderFormat Format = RenderFormat.Normalized,
    bool SysAttrs = false,
    LanguageSelector? Lang = null,
    Projection? Projection = null)
{
    public Projection Fields => Projection ?? Projection.All;
}
