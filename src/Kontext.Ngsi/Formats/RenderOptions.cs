namespace Kontext.Ngsi.Formats;

public enum RenderFormat { Normalized, Concise, KeyValues }

/// <summary>Which members of an entity a response carries (<c>attrs</c>, <c>pick</c>, <c>omit</c>), by expanded name.</summary>
public sealed record Projection(bool Id = true, bool Type = true, bool Scope = true, IReadOnlySet<string>? Only = null, IReadOnlySet<string>? Omitted = null)
{
    public static readonly Projection All = new();

    public bool IncludesAttribute(string iri) => (Only is null || Only.Contains(iri)) && (Omitted is null || !Omitted.Contains(iri));
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
