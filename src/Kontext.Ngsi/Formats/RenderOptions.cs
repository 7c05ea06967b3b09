using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Model;

namespace Kontext.Ngsi.Formats;

public enum RenderFormat { Normalized, Concise, KeyValues }

/// <summary>
/// Which members of an entity a response carries (<c>attrs</c>, <c>pick</c>, <c>omit</c>, <c>datasetId</c>), by expanded
/// name. <paramref name="Linked"/> holds, per Relationship, the projection of the entities it links to when a join is
/// requested (<c>pick=locatedAt{name}</c>, clauses 4.21 and 4.5.23); a Relationship without an entry shows its linked
/// entities whole. <paramref name="DatasetIds"/> keeps only the attribute instances with one of these datasetIds
/// (<see cref="DefaultInstance"/> for the instance without one).
/// </summary>
public sealed record Projection(
    bool Id = true,
    bool Type = true,
    bool Scope = true,
    IReadOnlySet<string>? Only = null,
    IReadOnlySet<string>? Omitted = null,
    IReadOnlyDictionary<string, Projection>? Linked = null,
    IReadOnlySet<string>? DatasetIds = null)
{
    /// <summary>How the datasetId parameter names the default instance (clause 4.5.5).</summary>
    public const string DefaultInstance = "@none";

    public static readonly Projection All = new();

    public bool IncludesAttribute(string iri) => (Only is null || Only.Contains(iri)) && (Omitted is null || !Omitted.Contains(iri));

    public bool IncludesInstance(JsonObject instance) => DatasetIds is null || DatasetIds.Contains(Attr.DatasetId(instance) ?? DefaultInstance);

    /// <summary>The projection of the entities linked through <paramref name="iri"/>.</summary>
    public Projection LinkedFor(string iri) => Linked?.GetValueOrDefault(iri) ?? All;

    /// <summary>How many Linked Entity hops the projection names (0: none).</summary>
    public int Depth => Linked is null || Linked.Count == 0 ? 0 : 1 + Linked.Values.Max(p => p.Depth);

    /// <summary>The instances of the attribute this projection shows (none when the attribute is not shown).</summary>
    public IEnumerable<JsonObject> Instances(string iri, IEnumerable<JsonObject> instances) =>
        IncludesAttribute(iri) ? instances.Where(IncludesInstance) : [];

    /// <summary>
    /// <see cref="Instances(string, IEnumerable{JsonObject})"/> for the renderer: the stored list itself when every
    /// instance is shown (no datasetId filter), so rendering an entity copies no list per attribute.
    /// </summary>
    public IReadOnlyList<JsonObject> ShownInstances(string iri, List<JsonObject> instances) =>
        !IncludesAttribute(iri) ? [] : DatasetIds is null ? instances : instances.FindAll(IncludesInstance);

    /// <summary>True when nothing of the entity would be shown: no id, no type, no scope, no attribute instance.</summary>
    public bool LeavesNothingOf(Entity entity) => !ShowsEntityMembers(entity.Types, entity.Scopes) && !ShowsAnyAttribute(entity);

    /// <summary>Whether the id, or the entity's types or scopes (when it has any), are shown.</summary>
    public bool ShowsEntityMembers(List<string> types, List<string>? scopes) => Id || Type && types.Count > 0 || Scope && scopes is { Count: > 0 };

    private bool ShowsAnyAttribute(Entity entity)
    {
        foreach (var (iri, instances) in entity.Attributes)
            if (ShownInstances(iri, instances).Count > 0) return true;
        return false;
    }

    /// <summary>
    /// The projection of attrs, pick and omit (clause 4.21; pick and omit may name id, type and scope). attrs and pick
    /// name what to keep, omit what to drop; attrs cannot be combined with pick or omit, nor pick with omit. A member with
    /// a "{...}" part selects the members of the entities it links to and is itself kept. <paramref name="expand"/> turns
    /// an attribute name into its IRI.
    /// </summary>
    public static Projection Select(IReadOnlyCollection<string> attrs, IReadOnlyList<SelectedMember>? pick,
        IReadOnlyList<SelectedMember>? omit, Func<string, string> expand)
    {
        if (pick is not null && omit is not null) throw NgsiException.BadRequestData("pick and omit cannot be used together");
        if (attrs.Count > 0 && (pick is not null || omit is not null))
            throw NgsiException.BadRequestData($"attrs cannot be used together with {(pick is not null ? "pick" : "omit")}");
        if (pick is not null) return Pick(pick, expand);
        if (omit is not null) return Omit(omit, expand);
        if (attrs.Count == 0) return All;
        return new Projection(Scope: attrs.Contains("scope"),
            Only: attrs.Where(a => !IsMember(a)).Select(expand).ToHashSet(StringComparer.Ordinal));
    }

    private static Projection Pick(IReadOnlyList<SelectedMember> pick, Func<string, string> expand)
    {
        var names = pick.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var attributes = pick.Where(m => !IsMember(m.Name)).ToList();
        return new Projection(names.Contains("id"), names.Contains("type"), names.Contains("scope"),
            Only: attributes.Select(m => expand(m.Name)).ToHashSet(StringComparer.Ordinal),
            Linked: LinkedProjections(attributes, expand, Pick));
    }

    private static Projection Omit(IReadOnlyList<SelectedMember> omit, Func<string, string> expand)
    {
        var dropped = omit.Where(m => m.Linked is null).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var attributes = omit.Where(m => !IsMember(m.Name)).ToList();
        return new Projection(!dropped.Contains("id"), !dropped.Contains("type"), !dropped.Contains("scope"),
            Omitted: attributes.Where(m => m.Linked is null).Select(m => expand(m.Name)).ToHashSet(StringComparer.Ordinal),
            Linked: LinkedProjections(attributes, expand, Omit));
    }

    private static Dictionary<string, Projection>? LinkedProjections(List<SelectedMember> attributes, Func<string, string> expand,
        Func<IReadOnlyList<SelectedMember>, Func<string, string>, Projection> nested)
    {
        var linked = attributes.Where(m => m.Linked is not null).ToList();
        if (linked.Count == 0) return null;
        var map = new Dictionary<string, Projection>(StringComparer.Ordinal);
        foreach (var member in linked) map[expand(member.Name)] = nested(member.Linked!, expand);
        return map;
    }

    private static bool IsMember(string name) => name is "id" or "type" or "scope";
}

/// <summary>How to render entities for one response.</summary>
public sealed record RenderOptions(
    RenderFormat Format = RenderFormat.Normalized,
    bool SysAttrs = false,
    LanguageSelector? Lang = null,
    Projection? Projection = null,
    LinkedEntities? Joined = null)
{
    public Projection Fields => Projection ?? Projection.All;
}
