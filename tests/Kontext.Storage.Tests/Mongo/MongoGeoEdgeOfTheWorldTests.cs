using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>
/// What MongoDB is sent for geo queries at the antimeridian and the poles (no server): no box that would wrap or reach a
/// pole (S2's geodesic edges would read it differently from the evaluator's planar one), only "has a geometry", so the
/// evaluator decides, as it does for the SQLite store.
/// </summary>
public sealed class MongoGeoEdgeOfTheWorldTests
{
    private const string Location = "geo.https://uri%2Eetsi%2Eorg/ngsi-ld/location";

    private static BsonDocument Filter(string georel, string geometry, string coordinates) =>
        MongoQueryTranslator.Translate(new EntityPageRequest(
            EntityQuery.Parse(new EntityQueryParameters(GeoRel: georel, Geometry: geometry, Coordinates: coordinates), ContextProcessor.Core), 0, 20, false)).Filter;

    [Theory]
    [InlineData("near;maxDistance==500", "Point", "[179.9990,10]")]
    [InlineData("near;maxDistance==500", "Point", "[-179.9995,10]")]
    [InlineData("near;maxDistance==500", "Point", "[0,89.999]")]
    [InlineData("near;minDistance==500", "Point", "[179.9990,10]")]
    [InlineData("within", "Polygon", "[[[179.99,9.99],[-179.99,9.99],[-179.99,10.01],[179.99,10.01],[179.99,9.99]]]")]
    [InlineData("intersects", "MultiPolygon", "[[[[179.99,9.99],[180,9.99],[180,10.01],[179.99,10.01],[179.99,9.99]]],[[[-180,9.99],[-179.99,9.99],[-179.99,10.01],[-180,10.01],[-180,9.99]]]]")]
    public void Areas_that_reach_the_antimeridian_or_a_pole_need_only_a_geometry(string georel, string geometry, string coordinates) =>
        Filter(georel, geometry, coordinates).ToJson().Should().Be(BsonDocument.Parse(
            $$"""{ "$or": [ { "{{Location}}": { "$exists": true } }, { "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" } ] }""").ToJson());

    [Fact]
    public void A_near_box_just_short_of_the_antimeridian_is_sent_as_a_box()
    {
        var ring = Filter("near;maxDistance==500", "Point", "[179.99,10]")["$or"][0][Location]["$geoIntersects"]["$geometry"]["coordinates"][0].AsBsonArray;
        ring.Select(p => p[0].ToDouble()).Should().OnlyContain(x => x > 179.98 && x < 180);
    }
}
