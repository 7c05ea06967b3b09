using System.Globalization;
using System.Text.Json.Nodes;

namespace Kontext.Adapters;

/// <summary>An entity a mapping produced: NGSI-LD normalized with SDM short names, its SDM @context, and its keyValues form (what the schema checks).</summary>
public sealed record MappedEntity(string Type, string Subject, JsonObject Normalized, JsonObject KeyValues)
{
    public string Id => Normalized["id"]!.GetValue<string>();
}

/// <summary>
/// Applies a <see cref="DeviceMapping"/> to an <see cref="Uplink"/>. Names in expressions and id templates resolve to
/// decoded payload fields (dotted paths), then the device entry's parameters, then the mapping's parameters, then the
/// envelope variables devEui, deviceId, fCnt, fPort, receivedAt, model. An attribute whose input field is missing is
/// left out (a partial uplink still updates what it has); an entity left with no attribute is not written; an uplink
/// that yields no entity at all is a mapping failure.
/// </summary>
public sealed class MappingEngine(SchemaRegistry schemas)
{
    private const int MaxParameterDepth = 8;

    public IReadOnlyList<MappedEntity> Map(Uplink uplink, LoadedMapping mapping)
    {
        var definition = mapping.Definition;
        var entry = definition.Devices.FirstOrDefault(d => uplink.IsDevice(d.Key)).Value;
        var receivedAt = uplink.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var location = uplink.Location ?? entry?.Location;
        var depth = 0;

        (bool, object?) Lookup(string path)
        {
            if (uplink.Decoded is not null && Walk(uplink.Decoded, path) is (true, var node)) return (true, ToValue(node));
            var parameter = entry?.Parameters.GetValueOrDefault(path) ?? definition.Parameters.GetValueOrDefault(path);
            if (parameter is not null)
            {
                if (++depth > MaxParameterDepth) throw new MappingException($"parameter '{path}' refers to itself");
                try { return (true, mapping.Expression(parameter).Evaluate(Lookup)); }
                finally { depth--; }
            }
            return path switch
            {
                "devEui" when uplink.DevEui is not null => (true, uplink.DevEui),
                "deviceId" when uplink.DeviceId is not null => (true, uplink.DeviceId),
                "device" => (true, uplink.DeviceKey),
                "fCnt" when uplink.FrameCounter is not null => (true, (double)uplink.FrameCounter.Value),
                "fPort" when uplink.FPort is not null => (true, (double)uplink.FPort.Value),
                "receivedAt" => (true, receivedAt),
                "model" when uplink.Model is not null => (true, uplink.Model),
                _ => (false, null),
            };
        }

        string Template(string template, string where)
        {
            var result = new System.Text.StringBuilder();
            var i = 0;
            while (i < template.Length)
            {
                var open = template.IndexOf('{', i);
                if (open < 0) { result.Append(template, i, template.Length - i); break; }
                var close = template.IndexOf('}', open);
                if (close < 0) throw new MappingException($"{where}: unclosed '{{' in '{template}'");
                result.Append(template, i, open - i);
                var name = template[(open + 1)..close];
                var (found, value) = Lookup(name);
                if (!found || value is null) throw new MappingException($"{where}: '{name}' is not known for device {uplink.DeviceKey}");
                result.Append(value is double d ? d.ToString("R", CultureInfo.InvariantCulture) : value.ToString());
                i = close + 1;
            }
            return result.ToString();
        }

        var mapped = new List<MappedEntity>();
        string? deviceEntityId = null;
        if (definition.Device is { } deviceSpec)
        {
            deviceEntityId = Template(deviceSpec.Id, "device.id");
            var device = Start(deviceEntityId, "Device");
            if (deviceSpec.ControlledProperty.Count > 0) device["controlledProperty"] = Property(ListOf(deviceSpec.ControlledProperty), null, null);
            device["dateLastValueReported"] = Property(JsonValue.Create(receivedAt), null, null);
            if (uplink.DevEui is not null) device["serialNumber"] = Property(JsonValue.Create(uplink.DevEui), null, null);
            AddAttributes(device, deviceSpec.Attributes, "Device");
            if (location is not null) device["location"] = Location(location);
            mapped.Add(Finish(device, "Device"));
        }

        foreach (var spec in definition.Entities)
        {
            var id = Template(spec.Id, $"{spec.Type}.id");
            var entity = Start(id, spec.Type);
            if (AddAttributes(entity, spec.Attributes, spec.Type) == 0) continue;
            if (spec.Location && location is not null) entity["location"] = Location(location);
            if (deviceEntityId is not null)
            {
                if (spec.RefDevice == "single") entity["refDevice"] = new JsonObject { ["type"] = "Relationship", ["object"] = deviceEntityId };
                else if (spec.RefDevice == "list")
                    entity["refDevice"] = new JsonObject { ["type"] = "ListRelationship", ["objectList"] = new JsonArray(new JsonObject { ["object"] = deviceEntityId }) };
            }
            mapped.Add(Finish(entity, spec.Type));
        }
        if (!mapped.Any(m => m.Type != "Device"))
            throw new MappingException($"mapping '{definition.Name}' produced no entity: none of its fields is in the payload of device {uplink.DeviceKey}");
        return mapped;

        int AddAttributes(JsonObject entity, Dictionary<string, AttributeSpec> attributes, string type)
        {
            var added = 0;
            foreach (var (name, spec) in attributes)
            {
                JsonNode? value;
                if (spec.Values is not null) value = ListOf(spec.Values);
                else
                {
                    object? result;
                    try { result = mapping.Expression(spec.Value!).Evaluate(Lookup); }
                    catch (PayloadFieldMissingException ex)
                    {
                        if (spec.Required) throw new MappingException($"{type}.{name}: required field '{ex.Field}' is not in the payload");
                        continue;
                    }
                    catch (MappingException ex) { throw new MappingException($"{type}.{name}: {ex.Message}"); }
                    if (result is null) continue;
                    value = result switch
                    {
                        double d when double.IsNaN(d) || double.IsInfinity(d) => throw new MappingException($"{type}.{name}: the result is not a finite number"),
                        double d => JsonValue.Create(d),
                        bool b => JsonValue.Create(b),
                        string s => JsonValue.Create(s),
                        JsonNode n => n.DeepClone(),
                        _ => JsonValue.Create(result.ToString()),
                    };
                }
                entity[name] = spec.Type == "Relationship"
                    ? new JsonObject { ["type"] = "Relationship", ["object"] = value }
                    : Property(value, spec.UnitCode, spec.Observed ? receivedAt : null);
                added++;
            }
            return added;
        }
    }

    private JsonObject Start(string id, string type) => new() { ["id"] = id, ["type"] = type };

    private MappedEntity Finish(JsonObject normalized, string type)
    {
        var subject = schemas.SubjectOf(type) ?? throw new MappingException($"type '{type}' has no schema and @context in the schema directory");
        return new MappedEntity(type, subject, normalized, KeyValues(normalized));
    }

    private static JsonObject Property(JsonNode? value, string? unitCode, string? observedAt)
    {
        var property = new JsonObject { ["type"] = "Property", ["value"] = value };
        if (unitCode is not null) property["unitCode"] = unitCode;
        if (observedAt is not null) property["observedAt"] = observedAt;
        return property;
    }

    private static JsonObject Location(GeoPoint point) => new()
    {
        ["type"] = "GeoProperty",
        ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(point.Lon, point.Lat) },
    };

    private static JsonArray ListOf(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>The keyValues (simplified) form of a normalized entity: what smart-data-models schemas describe.</summary>
    public static JsonObject KeyValues(JsonObject normalized)
    {
        var simplified = new JsonObject();
        foreach (var (name, node) in normalized)
        {
            if (name is "@context") continue;
            simplified[name] = node is JsonObject attribute && attribute["type"]?.GetValue<string>() is { } kind && name is not ("id" or "type")
                ? kind switch
                {
                    "Relationship" => attribute["object"]?.DeepClone(),
                    "ListRelationship" => new JsonArray(attribute["objectList"]!.AsArray().Select(o => o is JsonObject oo ? oo["object"]?.DeepClone() : o?.DeepClone()).ToArray()),
                    _ => attribute["value"]?.DeepClone(),
                }
                : node?.DeepClone();
        }
        return simplified;
    }

    private static (bool, JsonNode?) Walk(JsonObject root, string path)
    {
        JsonNode? node = root;
        foreach (var part in path.Split('.'))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node)) return (false, null);
        }
        return (true, node);
    }

    private static object? ToValue(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v => v.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Number => (object)double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
            System.Text.Json.JsonValueKind.String => (object)v.ToString(),
            System.Text.Json.JsonValueKind.True => (object)true,
            System.Text.Json.JsonValueKind.False => (object)false,
            _ => (object?)null,
        },
        _ => (object)node, // objects and arrays stay JSON (JsonNode converts implicitly from primitives: keep every arm object)
    };
}
