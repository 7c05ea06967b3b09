using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// JSON ↔ BSON for stored attribute instances. Keys are encoded (<see cref="MongoKeys"/>); integral numbers that fit
/// become Int64, other numbers Double, so MongoDB compares them numerically across both (1 == 1.0).
/// </summary>
public static class MongoJson
{
    public static BsonValue ToBson(JsonNode? node) => node switch
    {
        null => BsonNull.Value,
        JsonObject o => ToBson(o),
        JsonArray a => new BsonArray(a.Select(ToBson)),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => new BsonString(v.GetValue<string>()),
            JsonValueKind.True => BsonBoolean.True,
            JsonValueKind.False => BsonBoolean.False,
            JsonValueKind.Number => Number(v),
            _ => BsonNull.Value,
        },
        _ => BsonNull.Value,
    };

    public static BsonDocument ToBson(JsonObject o)
    {
        var doc = new BsonDocument();
        foreach (var (key, value) in o) doc.Add(MongoKeys.Encode(key), ToBson(value));
        return doc;
    }

    private static BsonValue Number(JsonValue v)
    {
        if (v.TryGetValue<long>(out var l)) return new BsonInt64(l);
        if (v.TryGetValue<int>(out var i)) return new BsonInt64(i);
        if (v.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out var el)) return new BsonInt64(el);
        return JsonNumbers.TryGetDouble(v, out var d) ? new BsonDouble(d) : BsonNull.Value;
    }

    public static JsonNode? ToJson(BsonValue value) => value.BsonType switch
    {
        BsonType.Document => ToJson(value.AsBsonDocument),
        BsonType.Array => new JsonArray(value.AsBsonArray.Select(ToJson).ToArray()),
        BsonType.String => JsonValue.Create(value.AsString),
        BsonType.Boolean => JsonValue.Create(value.AsBoolean),
        BsonType.Int32 => JsonValue.Create(value.AsInt32),
        BsonType.Int64 => JsonValue.Create(value.AsInt64),
        BsonType.Double => JsonValue.Create(value.AsDouble),
        BsonType.Decimal128 => JsonValue.Create((decimal)value.AsDecimal128),
        BsonType.DateTime => JsonValue.Create(Validate.Format(value.ToUniversalTime())),
        _ => null,
    };

    public static JsonObject ToJson(BsonDocument doc)
    {
        var o = new JsonObject();
        foreach (var element in doc) o[MongoKeys.Decode(element.Name)] = ToJson(element.Value);
        return o;
    }
}
