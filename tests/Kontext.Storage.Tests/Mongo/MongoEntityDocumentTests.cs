using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

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

    [Fact]
    public void The_stored_fields_alone_give_back_the_entity_without_the_derived_ones()
    {
        var entity = Parse("""
            {"id":"urn:ngsi-ld:T:1","type":["T","U"],"scope":["/x","/y"],"expiresAt":"2100-01-01T00:00:00Z",
             "n":{"type":"Property","value":[1,2],"expiresAt":"2099-01-01T00:00:00Z"},
             "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}
            """);
        var doc = MongoEntityDocument.ToBson(entity, seq: 4, version: 2);

        // what a find with this projection returns: _id and the projected fields
        var projected = new BsonDocument(doc.Where(e => e.Name == "_id" || MongoEntityDocument.Stored.Contains(e.Name)));

        projected.Names.Should().NotContain(["names", "vals", "geo", "seq", "v"]);
        Encoding.UTF8GetString(EntityJson.Serialize(MongoEntityDocument.FromBson(projected)))
            .Should().Be(Encoding.UTF8GetString(EntityJson.Serialize(MongoEntityDocument.FromBson(doc))));
        Transience.NextExpiry(MongoEntityDocument.FromBson(projected)).Should().NotBeNull();
    }

    private static BsonDocument WithLocation(string geometry) => MongoEntityDocument.ToBson(
        Parse("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":""" + geometry + "}}"), seq: 1, version: 1);

    /// <summary>Edges S2 reads as great-circle arcs apart from the evaluator's planar segments: the pre-filter would miss them.</summary>
    [Theory]
    [InlineData("""{"type":"LineString","coordinates":[[179.9,10],[-179.9,10]]}""")]                       // planar: the long way round
    [InlineData("""{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[-170,5],[15,5]]]}""")]         // 185° of longitude
    [InlineData("""{"type":"Polygon","coordinates":[[[-120,49],[-95,49],[-95,45],[-120,45],[-120,49]]]}""")] // the arc along 49°N bows 0.7° north
    [InlineData("""{"type":"LineString","coordinates":[[-40,-20],[40,20]]}""")]                             // same midpoint, S-shaped apart
    [InlineData("""{"type":"LineString","coordinates":[[0,0],[10,89.9]]}""")]                               // the arc runs up the meridian
    public void A_geometry_whose_edges_read_apart_on_the_sphere_is_stored_unindexed(string geometry)
    {
        var doc = WithLocation(geometry);

        doc["geo"].AsBsonDocument.ElementCount.Should().Be(0);
        doc["geoUnindexed"].AsBsonArray.Select(v => v.AsString).Should().Equal("https://uri%2Eetsi%2Eorg/ngsi-ld/location");
    }

    [Theory]
    [InlineData("""{"type":"Point","coordinates":[179.99,89.99]}""")]
    [InlineData("""{"type":"MultiPoint","coordinates":[[179.9,10],[-179.9,10]]}""")]                        // no edges
    [InlineData("""{"type":"Polygon","coordinates":[[[10,50],[10.14,50],[10.14,50.09],[10,50.09],[10,50]]]}""")] // 10 km edges stray 2 m
    [InlineData("""{"type":"LineString","coordinates":[[0,0],[60,0],[60,-30]]}""")]                         // the equator and a meridian are great circles
    public void A_geometry_whose_edges_read_alike_stays_indexed(string geometry)
    {
        var doc = WithLocation(geometry);

        doc["geo"].AsBsonDocument.Names.Should().Equal("https://uri%2Eetsi%2Eorg/ngsi-ld/location");
        doc.Contains("geoUnindexed").Should().BeFalse();
    }

    [Fact]
    public void When_the_2dsphere_index_refuses_a_geometry_the_entity_is_written_with_its_geometries_unindexed()
    {
        var entity = Parse("""{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""");

        var doc = MongoEntityDocument.ToBson(entity, seq: 1, version: 1, indexGeometry: false);

        doc["geo"].AsBsonDocument.ElementCount.Should().Be(0);
        doc["geoUnindexed"].AsBsonArray.Select(v => v.AsString).Should().Equal("https://uri%2Eetsi%2Eorg/ngsi-ld/location");
    }

    [Fact]
    public void An_update_of_one_attribute_sets_only_that_attribute_its_values_and_the_version()
    {
        var before = Parse("""{"id":"urn:ngsi-ld:T:1","type":"T","n":{"type":"Property","value":1},"m":{"type":"Property","value":"x"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""");
        var after = Parse("""{"id":"urn:ngsi-ld:T:1","type":"T","n":{"type":"Property","value":2},"m":{"type":"Property","value":"x"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""");
        before.CreatedAt = before.ModifiedAt = after.CreatedAt = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        after.ModifiedAt = before.ModifiedAt.AddSeconds(1);

        var update = MongoEntityDocument.Changes(MongoEntityDocument.ToBson(before, 1, 1), MongoEntityDocument.ToBson(after, 1, 2));

        update.Names.Should().Equal("$set");
        update["$set"].AsBsonDocument.Names.Should().BeEquivalentTo("v", "modifiedAt", "attrs." + K + "n", "vals." + K + "n");
    }

    [Theory]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","n":{"type":"Property","value":1}}""",
                """{"id":"urn:ngsi-ld:T:1","type":["T","U"],"scope":"/a","n":{"type":"Property","value":1},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","scope":["/a","/b"],"expiresAt":"2030-01-01T00:00:00Z","n":{"type":"Property","value":1},"s":{"type":"Property","value":"x"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""",
                """{"id":"urn:ngsi-ld:T:1","type":"T","n":[{"type":"Property","value":1},{"type":"Property","value":5,"datasetId":"urn:ngsi-ld:D:1"}]}""")]
    [InlineData("""{"id":"urn:ngsi-ld:T:1","type":"T","a.b":{"type":"Property","value":{"$c":1}},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1,2]}}}""",
                """{"id":"urn:ngsi-ld:T:1","type":"T","a.b":{"type":"Property","value":{"$c":2}},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[3,4]}}}""")]
    public void Applying_the_changes_to_the_stored_document_gives_the_new_document(string beforeJson, string afterJson)
    {
        var before = MongoEntityDocument.ToBson(Parse(beforeJson), 1, 1);
        var after = MongoEntityDocument.ToBson(Parse(afterJson), 1, 2);

        var applied = Recording.BsonMatch.Apply(before, MongoEntityDocument.Changes(before, after), inserting: false);

        Normalized(applied).ToJson().Should().Be(Normalized(after).ToJson());
    }

    /// <summary>Field order aside (a $set appends new fields), two documents are the same.</summary>
    private static BsonDocument Normalized(BsonDocument doc) => new(doc.OrderBy(e => e.Name, StringComparer.Ordinal)
        .Select(e => e.Value is BsonDocument sub && e.Name is "attrs" or "vals" or "geo" ? new BsonElement(e.Name, Normalized(sub)) : e));

    [Fact]
    public void A_history_row_is_one_document_per_instance_keyed_by_its_instance_id()
    {
        var instance = JsonNode.Parse("""{"type":"Property","value":22.5,"observedAt":"2024-05-01T10:00:00Z","unitCode":"GQ"}""")!.AsObject();
        var at = new DateTimeOffset(2024, 5, 1, 10, 0, 1, TimeSpan.Zero);

        var rows = MongoInstanceDocument.Build("urn:ngsi-ld:AirQualityObserved:1",
            [new AttributeChange("https://example.org/NO2", null, AttributeChangeKind.Updated, instance), new AttributeChange("https://example.org/old", "urn:ngsi-ld:D:1", AttributeChangeKind.Deleted, null)], at, 42);

        rows[0]["_id"].AsString.Should().StartWith("urn:ngsi-ld:attribute:instance:").And.HaveLength(63);
        rows[0].Names.Should().Equal("_id", "e", "a", "ds", "kind", "obs", "mod", "seq", "n", "doc", "t", "num", "dk");
        rows[0]["obs"].ToUniversalTime().Should().Be(new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc));
        rows[1].Names.Should().Equal("_id", "e", "a", "ds", "kind", "obs", "mod", "seq", "n", "doc");
        (rows[1]["ds"].AsString, rows[1]["kind"].AsString, rows[1]["n"].ToInt32(), rows[1]["doc"].IsBsonNull).Should().Be(("urn:ngsi-ld:D:1", "Deleted", 1, true));
        string.CompareOrdinal(rows[0]["_id"].AsString[31..43], rows[1]["_id"].AsString[31..43]).Should().BeLessThanOrEqualTo(0,
            "a version-7 id starts with its millisecond, so the _id index grows at its end");
        MongoInstanceDocument.Record(rows[0]).Should().BeEquivalentTo(new Kontext.Ngsi.Storage.AttributeInstanceRecord("urn:ngsi-ld:AirQualityObserved:1",
            "https://example.org/NO2", null, rows[0]["_id"].AsString, AttributeChangeKind.Updated, new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), at, instance.ToJsonString()));
        rows[0].ToBson().Length.Should().BeLessThan(500, "docs/mongodb.md's cost table counts 390-500 bytes per row");
    }

    private static class Encoding
    {
        public static string UTF8GetString(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
    }
}
