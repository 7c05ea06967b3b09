using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;

namespace Kontext.Ngsi.Model;

/// <summary>The stored form of an expanded entity: one JSON document, shared by every store.</summary>
public static class EntityJson
{
    public static byte[] Serialize(Entity entity)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, entity);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The stored form's entity-level members: type, scope, createdAt, modifiedAt, expiresAt.</summary>
    public static void WriteEntityMembers(Utf8JsonWriter writer, Entity entity)
    {
        writer.WriteStartArray("type");
        foreach (var type in entity.Types) writer.WriteStringValue(type);
        writer.WriteEndArray();
        if (entity.Scopes is { Count: > 0 })
        {
            writer.WriteStartArray("scope");
            foreach (var scope in entity.Scopes) writer.WriteStringValue(scope);
            writer.WriteEndArray();
        }
        writer.WriteString("createdAt", entity.CreatedAt);
        writer.WriteString("modifiedAt", entity.ModifiedAt);
        if (entity.ExpiresAt is { } expiresAt) writer.WriteString("expiresAt", expiresAt);
    }

    public static void Write(Utf8JsonWriter writer, Entity entity)
    {
        writer.WriteStartObject();
        writer.WriteString("id", entity.Id);
        WriteEntityMembers(writer, entity);
        writer.WriteStartObject("attrs");
        foreach (var (name, instances) in entity.Attributes)
        {
            writer.WriteStartArray(name);
            foreach (var instance in instances) instance.WriteTo(writer);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static Entity Deserialize(ReadOnlySpan<byte> utf8)
    {
        var root = StoredJson.Parse(utf8)!.AsObject();
        return FromNode(root);
    }

    public static Entity Deserialize(string json) => FromNode(StoredJson.Parse(json)!.AsObject());

    private static Entity FromNode(JsonObject root)
    {
        var entity = new Entity(root["id"]!.GetValue<string>())
        {
            Types = root["type"]!.AsArray().Select(t => t!.GetValue<string>()).ToList(),
            Scopes = root["scope"]?.AsArray().Select(s => s!.GetValue<string>()).ToList(),
            CreatedAt = root["createdAt"]!.GetValue<DateTimeOffset>(),
            ModifiedAt = root["modifiedAt"]!.GetValue<DateTimeOffset>(),
            ExpiresAt = root["expiresAt"]?.GetValue<DateTimeOffset>(),
        };
        if (root["attrs"] is JsonObject attrs)
        {
            foreach (var (name, instances) in attrs)
            {
                var array = instances!.AsArray();
                var list = array.Select(i => i!.AsObject()).ToList();
                array.Clear(); // detaches the instances, so the entity owns them without copying
                entity.Attributes[name] = list;
            }
        }
        return entity;
    }
}
