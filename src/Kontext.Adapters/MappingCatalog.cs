using Microsoft.Extensions.Logging;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Kontext.Adapters;

/// <summary>A mapping file with its expressions parsed.</summary>
public sealed class LoadedMapping(DeviceMapping definition, IReadOnlyDictionary<string, MappingExpression> expressions)
{
    public DeviceMapping Definition { get; } = definition;
    public string Name => Definition.Name!;

    public MappingExpression Expression(string text) => expressions[text];
}

/// <summary>
/// Loads every *.yaml / *.yml / *.json file of the mapping directory (JSON is read by the YAML parser, being YAML) and
/// finds the mapping of an uplink: an explicit device entry first, then the ChirpStack device profile, then the model.
/// A file that fails to load is reported and left out; the others still load. Reload replaces the set atomically.
/// </summary>
public sealed class MappingCatalog
{
    private readonly ILogger<MappingCatalog> _logger;
    private volatile IReadOnlyList<LoadedMapping> _mappings = [];

    public MappingCatalog(string directory, ILogger<MappingCatalog> logger)
    {
        Directory = directory;
        _logger = logger;
        Reload();
    }

    public string Directory { get; }
    public IReadOnlyList<LoadedMapping> Mappings => _mappings;
    public IReadOnlyList<string> Errors { get; private set; } = [];

    public IReadOnlyList<string> Reload()
    {
        var loaded = new List<LoadedMapping>();
        var errors = new List<string>();
        if (System.IO.Directory.Exists(Directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory).Order(StringComparer.Ordinal))
            {
                if (Path.GetExtension(file).ToLowerInvariant() is not (".yaml" or ".yml" or ".json")) continue;
                try
                {
                    loaded.Add(Load(File.ReadAllText(file), file));
                }
                catch (Exception ex) when (ex is MappingException or YamlDotNet.Core.YamlException or IOException)
                {
                    errors.Add($"{Path.GetFileName(file)}: {ex.Message}");
                    _logger.LogError("Mapping file {File} was not loaded: {Error}", file, ex.Message);
                }
            }
        }
        _mappings = loaded;
        Errors = errors;
        _logger.LogInformation("Loaded {Count} device mappings from {Directory}", loaded.Count, Directory);
        return errors;
    }

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>Parses one mapping document (YAML or JSON) and checks it: every expression must parse, every entity needs a type and an id.</summary>
    public static LoadedMapping Load(string text, string file)
    {
        var mapping = Yaml.Deserialize<DeviceMapping>(text) ?? throw new MappingException("the file is empty");
        mapping.Name ??= Path.GetFileNameWithoutExtension(file);
        mapping.File = file;
        if (mapping.Entities.Count == 0) throw new MappingException("the mapping has no entities");
        var expressions = new Dictionary<string, MappingExpression>(StringComparer.Ordinal);

        void Add(string? text, string where)
        {
            if (text is null || expressions.ContainsKey(text)) return;
            try { expressions[text] = MappingExpression.Parse(text); }
            catch (MappingException ex) { throw new MappingException($"{where}: {ex.Message}"); }
        }

        foreach (var (name, value) in mapping.Parameters) Add(value, $"parameter {name}");
        foreach (var (eui, entry) in mapping.Devices)
            foreach (var (name, value) in entry.Parameters) Add(value, $"device {eui} parameter {name}");
        foreach (var entity in mapping.Entities)
        {
            if (string.IsNullOrWhiteSpace(entity.Type)) throw new MappingException("an entity has no type");
            if (string.IsNullOrWhiteSpace(entity.Id)) throw new MappingException($"entity {entity.Type} has no id template");
            if (entity.RefDevice is not ("single" or "list" or "none")) throw new MappingException($"entity {entity.Type}: refDevice is single, list or none");
            foreach (var (name, attribute) in entity.Attributes) CheckAttribute(entity.Type, name, attribute, Add);
        }
        if (mapping.Device is { } device)
            foreach (var (name, attribute) in device.Attributes) CheckAttribute("Device", name, attribute, Add);
        return new LoadedMapping(mapping, expressions);
    }

    private static void CheckAttribute(string type, string name, AttributeSpec attribute, Action<string?, string> add)
    {
        if (attribute.Value is null && attribute.Values is null) throw new MappingException($"{type}.{name} has neither value nor values");
        if (attribute.Type is not ("Property" or "Relationship")) throw new MappingException($"{type}.{name}: type is Property or Relationship");
        add(attribute.Value, $"{type}.{name}");
    }

    /// <summary>The mapping for an uplink, or null (unmapped device).</summary>
    public LoadedMapping? Find(Uplink uplink)
    {
        var mappings = _mappings;
        return mappings.FirstOrDefault(m => m.Definition.Match.Devices.Any(d => uplink.IsDevice(d)) || m.Definition.Devices.Keys.Any(d => uplink.IsDevice(d)))
               ?? mappings.FirstOrDefault(m => uplink.DeviceProfile is { } p && m.Definition.Match.DeviceProfiles.Contains(p, StringComparer.OrdinalIgnoreCase))
               ?? mappings.FirstOrDefault(m => uplink.Model is { } model && m.Definition.Match.Models.Contains(model, StringComparer.OrdinalIgnoreCase));
    }
}
