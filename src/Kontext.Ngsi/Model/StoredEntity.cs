namespace Kontext.Ngsi.Model;

/// <summary>
/// An entity as a view over its stored JSON document: the entity's members as <see cref="Entity"/> has them, the
/// attribute instances as the document's own bytes (<see cref="StoredElement"/>). A plain Retrieve Entity renders it
/// straight to the response (<see cref="Formats.EntityRenderer.WriteEntity(System.Text.Json.Utf8JsonWriter, StoredEntity, System.Text.Json.Nodes.JsonNode?)"/>)
/// without parsing the document into a <see cref="System.Text.Json.JsonDocument"/> or building instance objects.
/// </summary>
public sealed class StoredEntity(string id)
{
    public string Id { get; } = id;
    public List<string> Types { get; } = [];
    public List<string>? Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ModifiedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The attributes in stored order, each a range of <see cref="Instances"/>.</summary>
    public List<StoredAttribute> Attributes { get; } = [];

    public List<StoredInstance> Instances { get; } = [];

    /// <summary>
    /// True when some instance has an expiresAt of its own: what is visible of the entity depends on the time
    /// (<see cref="Transience.Visible"/>), which only the <see cref="Entity"/> path applies.
    /// </summary>
    public bool HasTransientInstance { get; set; }

    /// <summary>The instance times the document lists beyond the entity's own (see <see cref="InstanceTimes"/>).</summary>
    public IReadOnlyList<string>? ListedTimes { get; init; }

    private InstanceTimes? _times;

    /// <summary>The time an instance's code names (see <see cref="StoredInstance"/>).</summary>
    public string Time(int code) => (_times ??= new InstanceTimes(CreatedAt, ModifiedAt, ListedTimes))[code];

    public ReadOnlySpan<StoredInstance> InstancesOf(StoredAttribute attribute) =>
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Instances).Slice(attribute.First, attribute.Count);
}

/// <summary>An attribute of a <see cref="StoredEntity"/>: its expanded name and its instances' range.</summary>
public readonly record struct StoredAttribute(string Iri, int First, int Count);

/// <summary>
/// One attribute instance as stored: its members, and when it had createdAt and modifiedAt as its last two members, the
/// indexes (<see cref="StoredEntity.Time"/>) of those times, which follow its members (-1: none).
/// </summary>
public readonly record struct StoredInstance(StoredElement Members, int Created = -1, int Modified = -1)
{
    public bool HasTimes => Created >= 0;
}
