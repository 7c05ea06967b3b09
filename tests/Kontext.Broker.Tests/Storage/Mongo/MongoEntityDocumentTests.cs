using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Broker.Tests.Storage.Mongo;

/// <summary>The stored entity document: encoded keys, derived query fields, and a lossless round trip (no server).</summary>
public sealed class MongoEntityDocumentTests
{
    private const string K = "https://uri%2Eetsi%2Eorg/ngsi-ld/default-context/";

    private static Entity Parse(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    [Fact]
    public void Round_trip_keeps_the_entity_and_derives_names_vals_and_geo()
    {
        var entity = Parse("""
            {"id":"urn:ngsi-ld:T:1","type":"T","scope":"/x",
             "n":[{"type":"Property","value":[[1,2],3]},{"type":"Property","value":7,"datasetId":"urn:ngsi-ld:D:1"}],
             "j":{"type":"Property","value":{"a.b":{"$c":1.5}}},
             "location":{"type":"GeoProperty","value":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,0]]]}}}
            """);
        entity.CreatedAt = entity.ModifiedAt = new DateTimeOffset(2024, 1, 1, 0, 0, 0, 123, TimeSpan.Zero);

        var doc = MongoEntityDocument.ToBson(entity, seq: 4, version: 1);
        var back = MongoEntityDocument.FromBson(doc);

        Encoding.UTF8GetString(EntityJson.Serialize(back)).Should().Be(Encoding.UTF8GetString(EntityJson.Serialize(entity)));
        doc["names"].AsBsonArray.Select(n => n.AsString).Should().Contain([K + "n", K + "j", "https://uri%2Eetsi%2Eorg/ngsi-ld/location"]);
        doc["vals"][K + "n"].AsBsonArray.Select(v => v.ToInt64()).Should().Equal(1, 2, 3, 7);
        doc["attrs"][K + "j"][0]["value"].ToJson().Should().Be("""{ "a%2Eb" : { "%24c" : 1.5 } }""");
        doc["geo"]["https://uri%2Eetsi%2Eorg/ngsi-ld/location"]["coordinates"][0].AsBsonArray.Count.Should().Be(4, "the repeated vertex is dropped for S2");
    }

    private static class Encoding
    {
        public static string UTF8GetString(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
    }
}
