namespace Kontext.Adapters;

/// <summary>
/// One mapping file: how the decoded uplinks of one device model become smart-data-models entities (docs/adapters.md).
/// Field names are camelCase in YAML and JSON alike.
/// </summary>
public sealed class DeviceMapping
{
    /// <summary>Defaults to the file name without extension.</summary>
    public string? Name { get; set; }
    public string? Description { get; set; }
    public MappingMatch Match { get; set; } = new();

    /// <summary>Named constants usable in expressions (mounting height, bin depth, …); a device entry may override them.</summary>
    public Dictionary<string, string> Parameters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Device metadata by device EUI (upper-case hex) or network-server device id: location, parameters.</summary>
    public Dictionary<string, DeviceEntry> Devices { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The Device entity (smart-data-models Device) the observed entities point to with refDevice.</summary>
    public DeviceEntitySpec? Device { get; set; }

    public List<EntitySpec> Entities { get; set; } = [];

    /// <summary>Where it was loaded from.</summary>
    public string? File { get; set; }
}

public sealed class MappingMatch
{
    /// <summary>"brand/model" as in the TTS device repository (end device version_ids) or the "model" of a plain JSON uplink.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>ChirpStack device profile names.</summary>
    public List<string> DeviceProfiles { get; set; } = [];

    /// <summary>Device EUIs or device ids that use this mapping whatever their model.</summary>
    public List<string> Devices { get; set; } = [];
}

public sealed class DeviceEntry
{
    public string? Name { get; set; }
    public GeoPoint? Location { get; set; }
    public Dictionary<string, string> Parameters { get; set; } = new(StringComparer.Ordinal);
}

public sealed class GeoPoint
{
    public double Lat { get; set; }
    public double Lon { get; set; }
}

public sealed class DeviceEntitySpec
{
    /// <summary>Id template, e.g. urn:ngsi-ld:Device:{devEui}.</summary>
    public string Id { get; set; } = "urn:ngsi-ld:Device:{devEui}";
    public List<string> ControlledProperty { get; set; } = [];
    public List<string> Category { get; set; } = ["sensor"];
    public Dictionary<string, AttributeSpec> Attributes { get; set; } = new(StringComparer.Ordinal);
}

public sealed class EntitySpec
{
    /// <summary>A smart-data-models type (its schema and @context come from the schema directory).</summary>
    public string Type { get; set; } = "";

    /// <summary>Id template: {name} is replaced by an envelope variable, parameter or decoded field.</summary>
    public string Id { get; set; } = "";

    /// <summary>single (Relationship, the default), list (ListRelationship: models whose refDevice is an array) or none.</summary>
    public string RefDevice { get; set; } = "single";

    /// <summary>Add location (GeoProperty) when the device's location is known.</summary>
    public bool Location { get; set; } = true;

    public Dictionary<string, AttributeSpec> Attributes { get; set; } = new(StringComparer.Ordinal);
}

public sealed class AttributeSpec
{
    /// <summary>An expression (see <see cref="MappingExpression"/>); its result is the attribute's value.</summary>
    public string? Value { get; set; }

    /// <summary>A literal list value (controlledProperty-like attributes); used instead of <see cref="Value"/>.</summary>
    public List<string>? Values { get; set; }

    /// <summary>UN/CEFACT common code: MTR (m), MMT (mm), CEL (°C), P1 (%), HPA, KPA, PAL, GQ (µg/m³), MTS (m/s), DD (°), VLT (V).</summary>
    public string? UnitCode { get; set; }

    /// <summary>Property (default) or Relationship (the value is the target entity id).</summary>
    public string Type { get; set; } = "Property";

    /// <summary>When true a missing input field is a mapping error (dead letter) instead of leaving the attribute out.</summary>
    public bool Required { get; set; }

    /// <summary>observedAt = the envelope's receive time (default true for Properties).</summary>
    public bool Observed { get; set; } = true;
}
