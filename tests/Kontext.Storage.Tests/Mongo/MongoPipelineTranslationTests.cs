using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Mongo;
using MongoDB.Bson;

namespace Kontext.Storage.Tests.Mongo;

/// <summary>geoQ filters, temporal and statistics pipelines and the outbox lease protocol, rendered as BSON (no server).</summary>
public sealed class MongoPipelineTranslationTests
{
    private const string Location = "geo.https://uri%2Eetsi%2Eorg/ngsi-ld/location";

    private static MongoQuery Geo(string georel, string geometry, string coordinates) =>
        MongoQueryTranslator.Translate(new EntityPageRequest(
            EntityQuery.Parse(new EntityQueryParameters(GeoRel: georel, Geometry: geometry, Coordinates: coordinates), ContextProcessor.Core), 0, 20, false));

    private static void Same(BsonValue actual, string expectedJson) => actual.ToJson().Should().Be(BsonDocument.Parse(expectedJson).ToJson());

    [Fact]
    public void Near_is_geoIntersects_the_box_around_the_widened_circle_or_an_unindexable_geometry()
    {
        var query = Geo("near;maxDistance==1000", "Point", "[-3.7,40.4]");

        var or = query.Filter["$or"].AsBsonArray;
        var ring = or[0][Location]["$geoIntersects"]["$geometry"]["coordinates"][0].AsBsonArray;
        var longitudes = ring.Select(p => p[0].ToDouble()).ToList();
        var latitudes = ring.Select(p => p[1].ToDouble()).ToList();
        // 1020 m as degrees: 1020 / 110000 of latitude, divided by cos(40.41°) in longitude, plus the 0.001° margin.
        latitudes.Min().Should().BeApproximately(40.4 - 1020 / 110_000.0 - 0.001, 1e-6);
        latitudes.Max().Should().BeApproximately(40.4 + 1020 / 110_000.0 + 0.001, 1e-6);
        longitudes.Max().Should().BeApproximately(-3.7 + 1020 / (110_000.0 * Math.Cos((40.4 + 1020 / 110_000.0) * Math.PI / 180)) + 0.001, 1e-6);
        Same(or[1], """{ "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" }""");
        query.Filter.ToJson().Should().NotContain("$near", "$nearSphere sorts by distance, needs an index and is refused in $or and counts");
        query.IsExact.Should().BeFalse();
    }

    [Fact]
    public void Near_a_line_is_geoIntersects_the_box_around_the_whole_line()
    {
        var query = Geo("near;maxDistance==1000", "LineString", "[[-3.7,40.4],[-3.6,40.5]]");
        var ring = query.Filter["$or"][0][Location]["$geoIntersects"]["$geometry"]["coordinates"][0].AsBsonArray;
        var latitudes = ring.Select(p => p[1].ToDouble()).ToList();
        var longitudes = ring.Select(p => p[0].ToDouble()).ToList();
        latitudes.Min().Should().BeApproximately(40.4 - 1020 / 110_000.0 - 0.001, 1e-6);
        latitudes.Max().Should().BeApproximately(40.5 + 1020 / 110_000.0 + 0.001, 1e-6);
        longitudes.Min().Should().BeLessThan(-3.7);
        longitudes.Max().Should().BeGreaterThan(-3.6, "the box covers the far end of the line, not only its first point");
        query.IsExact.Should().BeFalse();
    }

    [Fact]
    public void Near_with_only_a_minimum_distance_needs_only_a_geometry() =>
        Same(Geo("near;minDistance==100", "Point", "[10,20]").Filter,
            $$"""{ "$or": [ { "{{Location}}": { "$exists": true } }, { "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" } ] }""");

    [Fact]
    public void Near_beside_other_conditions_is_one_clause_of_the_and()
    {
        var query = MongoQueryTranslator.Translate(new EntityPageRequest(EntityQuery.Parse(
            new EntityQueryParameters(Type: "A", GeoRel: "near;maxDistance==10", Geometry: "Point", Coordinates: "[1,2]"), ContextProcessor.Core), 0, 20, false));
        query.Filter.Names.Should().Equal("$and");
        query.Filter["$and"][1]["$or"][0][Location].AsBsonDocument.Names.Should().Equal("$geoIntersects");
    }

    [Fact]
    public void Near_across_the_antimeridian_or_a_pole_needs_only_a_geometry()
    {
        Geo("near;maxDistance==50000", "Point", "[179.9,0]").Filter["$or"][0][Location].AsBsonDocument.Names.Should().Equal("$exists");
        Geo("near;maxDistance==50000", "Point", "[0,89.9]").Filter["$or"][0][Location].AsBsonDocument.Names.Should().Equal("$exists");
    }

    /// <summary>No box that wraps or reaches a pole (S2's geodesic edges would read it otherwise than the planar evaluator): the evaluator decides, as for SQLite.</summary>
    [Theory]
    [InlineData("near;maxDistance==500", "Point", "[179.9990,10]")]
    [InlineData("near;maxDistance==500", "Point", "[-179.9995,10]")]
    [InlineData("near;maxDistance==500", "Point", "[0,89.999]")]
    [InlineData("within", "Polygon", "[[[179.99,9.99],[-179.99,9.99],[-179.99,10.01],[179.99,10.01],[179.99,9.99]]]")]
    [InlineData("intersects", "MultiPolygon", "[[[[179.99,9.99],[180,9.99],[180,10.01],[179.99,10.01],[179.99,9.99]]],[[[-180,9.99],[-179.99,9.99],[-179.99,10.01],[-180,10.01],[-180,9.99]]]]")]
    public void Areas_at_the_antimeridian_or_a_pole_need_only_a_geometry(string georel, string geometry, string coordinates) =>
        Same(Geo(georel, geometry, coordinates).Filter,
            $$"""{ "$or": [ { "{{Location}}": { "$exists": true } }, { "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" } ] }""");

    [Fact]
    public void A_near_box_just_short_of_the_antimeridian_is_sent_as_a_box() =>
        Geo("near;maxDistance==500", "Point", "[179.99,10]").Filter["$or"][0][Location]["$geoIntersects"]["$geometry"]["coordinates"][0].AsBsonArray
            .Select(p => p[0].ToDouble()).Should().OnlyContain(x => x > 179.98 && x < 180);

    [Fact]
    public void Within_is_geoWithin_a_widened_densified_box_or_an_unindexable_geometry()
    {
        var query = Geo("within", "Polygon", "[[[0,0],[0.05,0],[0.05,0.05],[0,0.05],[0,0]]]");
        Same(query.Filter, $$"""
            { "$or": [
              { "{{Location}}": { "$geoWithin": { "$geometry": { "type": "Polygon", "coordinates": [[
                [-0.001, -0.001], [0.051, -0.001], [0.051, 0.051], [-0.001, 0.051], [-0.001, -0.001] ]] } } } },
              { "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" } ] }
            """);
        query.IsExact.Should().BeFalse();
    }

    [Fact]
    public void Box_edges_are_densified_every_tenth_of_a_degree()
    {
        var query = Geo("intersects", "LineString", "[[0,0],[0.5,0]]");
        var ring = query.Filter["$or"][0][Location]["$geoIntersects"]["$geometry"]["coordinates"][0].AsBsonArray;
        ring.Count.Should().Be(6 + 1 + 6 + 1 + 1, "two 0.502° edges in 6 steps, two 0.002° edges in 1, and the closing position");
    }

    [Theory]
    [InlineData("intersects", "$geoIntersects")]
    [InlineData("contains", "$geoIntersects")]
    [InlineData("overlaps", "$geoIntersects")]
    [InlineData("equals", "$geoWithin")]
    public void Topological_relations_use_the_box_with_the_operator_they_imply(string georel, string op)
    {
        var query = Geo(georel, "Point", "[10,20]");
        query.Filter["$or"][0][Location].AsBsonDocument.Names.Should().Equal(op);
    }

    /// <summary>
    /// An uncut LineString from 179.9°E to 179.9°W is, read planar, the long way round through Greenwich, which S2 would not index:
    /// the stored document lists it unindexed, so the box at Greenwich still lets it through to the evaluator, which matches it.
    /// </summary>
    [Fact]
    public void A_line_the_long_way_round_is_stored_unindexed_and_still_found_by_a_box_at_Greenwich()
    {
        var entity = EntityParser.ParseEntity(System.Text.Json.Nodes.JsonNode.Parse(
            """{"id":"urn:ngsi-ld:T:1","type":"T","location":{"type":"GeoProperty","value":{"type":"LineString","coordinates":[[179.9,0.5],[-179.9,0.5]]}}}""")!.AsObject(),
            ContextProcessor.Core, ParseMode.Full);
        var doc = MongoEntityDocument.ToBson(entity, seq: 1, version: 1);
        var query = EntityQuery.Parse(new EntityQueryParameters(GeoRel: "intersects", Geometry: "Polygon", Coordinates: "[[[-1,0],[1,0],[1,1],[-1,1],[-1,0]]]"), ContextProcessor.Core);

        GeoEvaluator.Matches(entity, query.Geo!).Should().BeTrue("the reference reads the line planar");
        doc["geo"].AsBsonDocument.ElementCount.Should().Be(0, "S2 would index the short way, far from the box");
        Recording.BsonMatch.Matches(doc, MongoQueryTranslator.Translate(new EntityPageRequest(query, 0, 20, false)).Filter).Should().BeTrue();
    }

    [Fact]
    public void Disjoint_needs_only_a_geometry() =>
        Same(Geo("disjoint", "Point", "[10,20]").Filter,
            $$"""{ "$or": [ { "{{Location}}": { "$exists": true } }, { "geoUnindexed": "https://uri%2Eetsi%2Eorg/ngsi-ld/location" } ] }""");

    [Fact]
    public void Temporal_window_with_lastN_is_a_topN_per_entity_and_attribute()
    {
        var request = new TemporalReadRequest(["urn:ngsi-ld:E:1"], new HashSet<string> { "https://x/a" }, TemporalTimeProperty.ObservedAt,
            new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), true, new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero), 3, Newest: true);
        Same(new BsonDocument("p", new BsonArray(MongoTemporalPipelines.ReadInstances(request))), """
            { "p": [
              { "$match": { "e": { "$in": ["urn:ngsi-ld:E:1"] }, "a": { "$in": ["https://x/a"] },
                            "obs": { "$ne": null, "$gte": { "$date": "2024-01-01T00:00:00Z" }, "$lt": { "$date": "2024-02-01T00:00:00Z" } } } },
              { "$group": { "_id": { "e": "$e", "a": "$a" },
                            "items": { "$topN": { "n": 3, "sortBy": { "obs": -1, "seq": -1, "n": -1 }, "output": "$$ROOT" } } } },
              { "$unwind": "$items" },
              { "$replaceRoot": { "newRoot": "$items" } },
              { "$sort": { "e": 1, "a": 1, "obs": 1, "seq": 1, "n": 1 } } ] }
            """);
    }

    [Fact]
    public void A_temporal_read_beyond_the_topN_bound_numbers_the_instances_with_a_window_function_instead()
    {
        var request = new TemporalReadRequest(["urn:e"], null, TemporalTimeProperty.ObservedAt, null, true, null, int.MaxValue - 1, Newest: false);
        var pipeline = MongoTemporalPipelines.ReadInstances(request);
        pipeline.Select(stage => stage.GetElement(0).Name).Should().Equal("$match", "$setWindowFields", "$match", "$unset", "$sort");
        Same(pipeline[1], """
            { "$setWindowFields": { "partitionBy": { "e": "$e", "a": "$a" }, "sortBy": { "obs": 1, "seq": 1, "n": 1 }, "output": { "rank": { "$documentNumber": {} } } } }
            """);
        Same(pipeline[2], """{ "$match": { "rank": { "$lte": 2147483646 } } }""");
    }

    [Fact]
    public void A_temporal_read_with_datasetIds_matches_them_and_null_for_the_default_instance()
    {
        var request = new TemporalReadRequest(["urn:ngsi-ld:E:1"], null, TemporalTimeProperty.CreatedAt, null, true, null, 10, false,
            new HashSet<string?> { "urn:d:2", null, "urn:d:1" });
        Same(MongoTemporalPipelines.ReadInstances(request)[0], """
            { "$match": { "e": { "$in": ["urn:ngsi-ld:E:1"] }, "ds": { "$in": [null, "urn:d:1", "urn:d:2"] }, "mod": { "$ne": null },
                          "kind": { "$ne": "Deleted" } } }
            """);
    }

    [Fact]
    public void Temporal_deletedAt_reads_deletion_markers_by_modification_time()
    {
        var request = new TemporalReadRequest(["urn:ngsi-ld:E:1"], null, TemporalTimeProperty.DeletedAt, null, false, null, 10, false);
        Same(MongoTemporalPipelines.ReadInstances(request)[0],
            """{ "$match": { "e": { "$in": ["urn:ngsi-ld:E:1"] }, "mod": { "$ne": null }, "kind": "Deleted" } }""");
    }

    [Fact]
    public void A_temporal_read_sees_only_what_the_history_markers_leave_visible()
    {
        var markers = new[]
        {
            MongoHistoryMarkers.PurgeMarker("urn:e", new HistoryPurge("https://x/a", "urn:d"), upTo: 40),
            MongoHistoryMarkers.WriteMarker("w1", "urn:e"),
        };
        var request = new TemporalReadRequest(["urn:e"], null, TemporalTimeProperty.ModifiedAt, null, false, null, 10, false);

        Same(MongoTemporalPipelines.ReadInstances(request, MongoHistoryMarkers.Visible(markers))[0], """
            { "$match": { "e": { "$in": ["urn:e"] }, "mod": { "$ne": null },
              "w": { "$in": [null, "w1"] },
              "$nor": [ { "e": "urn:e", "a": "https://x/a", "ds": "urn:d", "seq": { "$lte": { "$numberLong": "40" } } } ] } }
            """);
        Same(MongoHistoryMarkers.Visible([]), """{ "w": null }""");
    }

    [Fact]
    public void Purge_markers_cover_the_whole_entity_an_attribute_one_dataset_or_the_default_instance()
    {
        Same(MongoHistoryMarkers.Covered(MongoHistoryMarkers.PurgeMarker("urn:e", HistoryPurge.WholeEntity, 7)),
            """{ "e": "urn:e", "seq": { "$lte": { "$numberLong": "7" } } }""");
        Same(MongoHistoryMarkers.Covered(MongoHistoryMarkers.PurgeMarker("urn:e", new HistoryPurge("https://x/a", AnyDataset: true), 7)),
            """{ "e": "urn:e", "a": "https://x/a", "seq": { "$lte": { "$numberLong": "7" } } }""");
        Same(MongoHistoryMarkers.Covered(MongoHistoryMarkers.PurgeMarker("urn:e", new HistoryPurge("https://x/a", "urn:d"), 7)),
            """{ "e": "urn:e", "a": "https://x/a", "ds": "urn:d", "seq": { "$lte": { "$numberLong": "7" } } }""");
        Same(MongoHistoryMarkers.Covered(MongoHistoryMarkers.PurgeMarker("urn:e", new HistoryPurge("https://x/a"), 7)),
            """{ "e": "urn:e", "a": "https://x/a", "ds": null, "seq": { "$lte": { "$numberLong": "7" } } }""");
    }

    [Fact]
    public void Type_statistics_pipeline() =>
        Same(new BsonDocument("p", new BsonArray(MongoStatisticsPipelines.Types())), """
            { "p": [ { "$unwind": "$type" }, { "$group": { "_id": "$type", "n": { "$sum": 1 } } }, { "$sort": { "_id": 1 } } ] }
            """);

    [Fact]
    public void Outbox_claim_takes_only_due_messages_whose_lease_is_free_or_expired()
    {
        var now = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Same(MongoOutbox.ClaimFilter([3, 4], now), """
            { "_id": { "$in": [3, 4] }, "due": { "$lte": { "$date": "2024-01-01T00:00:00Z" } }, "leaseUntil": { "$lt": { "$date": "2024-01-01T00:00:00Z" } } }
            """);
        Same(MongoOutbox.Claim("kontext-a", "t1", now.AddMinutes(2)),
            """{ "$set": { "leaseOwner": "kontext-a", "leaseToken": "t1", "leaseUntil": { "$date": "2024-01-01T00:02:00Z" } } }""");
    }

    [Fact]
    public void A_failed_attempt_keeps_the_lease_over_the_retry_wait_and_renewal_needs_ownership()
    {
        var now = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Same(MongoOutbox.Reschedule(now.AddSeconds(30), TimeSpan.FromMinutes(2)), """
            { "$inc": { "attempts": 1 }, "$set": { "due": { "$date": "2024-01-01T00:00:30Z" }, "leaseUntil": { "$date": "2024-01-01T00:02:30Z" } } }
            """);
        Same(MongoOutbox.Owned(7, "kontext-a"), """{ "_id": 7, "leaseOwner": "kontext-a" }""");
        Same(MongoOutbox.Renew(now.AddMinutes(2)), """{ "$set": { "leaseUntil": { "$date": "2024-01-01T00:02:00Z" } } }""");
    }

    [Fact]
    public void Aggregation_groups_per_distinct_value_then_per_series_and_period_from_the_window_start()
    {
        var request = new TemporalAggregateRequest(["urn:e"], new HashSet<string> { "https://x/n" }, TemporalTimeProperty.ObservedAt,
            new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), true, new DateTimeOffset(2024, 1, 2, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(1));

        var pipeline = MongoTemporalPipelines.Aggregate(request);

        pipeline.Select(stage => stage.GetElement(0).Name).Should().Equal("$match", "$group", "$group", "$sort");
        Same(pipeline[0], """
            { "$match": { "e": { "$in": ["urn:e"] }, "a": { "$in": ["https://x/n"] },
              "obs": { "$ne": null, "$gte": { "$date": "2024-01-01T00:00:00Z" }, "$lt": { "$date": "2024-01-02T00:00:00Z" } }, "kind": { "$ne": "Deleted" } } }
            """);
        var values = pipeline[1]["$group"];
        Same(values["_id"], """
            { "e": "$e", "a": "$a", "ds": "$ds",
              "k": { "$floor": { "$divide": [{ "$subtract": ["$obs", { "$date": "2024-01-01T00:00:00Z" }] }, { "$numberLong": "3600000" }] } }, "dk": "$dk" }
            """);
        Same(values["numbers"], """{ "$sum": { "$cond": [{ "$eq": [{ "$type": "$num" }, "double"] }, 1, 0] } }""");
        Same(values["sumsq"], """{ "$sum": { "$multiply": ["$num", "$num"] } }""");
        Same(values["latest"], """{ "$top": { "sortBy": { "obs": -1, "seq": -1, "n": -1 }, "output": { "t": "$t", "time": "$obs", "seq": "$seq", "n": "$n" } } }""");
        var periods = pipeline[2]["$group"];
        Same(periods["_id"], """{ "e": "$_id.e", "a": "$_id.a", "ds": "$_id.ds", "k": "$_id.k" }""");
        Same(periods["distinct"], """{ "$sum": 1 }""");
        Same(periods["count"], """{ "$sum": "$count" }""");
        Same(periods["minNum"], """{ "$min": "$minNum" }""");
        Same(periods["type"], """{ "$top": { "sortBy": { "latest.time": -1, "latest.seq": -1, "latest.n": -1 }, "output": "$latest.t" } }""");
        pipeline.ToJson().Should().NotContain("$addToSet", "a set per period is held in memory and cannot spill");
    }

    [Fact]
    public void Without_a_window_start_periods_count_from_the_series_first_sample_and_a_zero_period_is_one_group()
    {
        var open = new TemporalAggregateRequest(["urn:e"], null, TemporalTimeProperty.CreatedAt, null, true, null, TimeSpan.FromMinutes(5));
        var pipeline = MongoTemporalPipelines.Aggregate(open);
        pipeline.Select(stage => stage.GetElement(0).Name).Should().Equal("$match", "$setWindowFields", "$group", "$group", "$sort");
        Same(pipeline[1]["$setWindowFields"], """
            { "partitionBy": { "e": "$e", "a": "$a", "ds": "$ds" }, "sortBy": { "mod": 1 },
              "output": { "first": { "$min": "$mod", "window": { "documents": ["unbounded", "current"] } } } }
            """);
        Same(pipeline[2]["$group"]["_id"]["k"],
            """{ "$floor": { "$divide": [{ "$subtract": ["$mod", "$first"] }, { "$numberLong": "300000" }] } }""");
        MongoTemporalPipelines.Aggregate(open)[0]["$match"].AsBsonDocument.Names.Should().Equal("e", "mod", "kind");

        var whole = open with { Period = TimeSpan.Zero };
        MongoTemporalPipelines.Aggregate(whole).Should().HaveCount(4, "one period needs no series start");
        MongoTemporalPipelines.Aggregate(whole)[1]["$group"]["_id"]["k"].Should().Be(new BsonInt32(0));
    }

    [Fact]
    public void Each_instance_carries_its_sample_fields()
    {
        BsonDocument Fields(string json) => new(MongoTemporalPipelines.SampleFields(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject()));

        Same(Fields("""{"type":"Property","value":21}"""), """{ "t": "Property", "num": 21.0, "dk": 21.0 }""");
        Same(Fields("""{"type":"Property","value":true}"""), """{ "t": "Property", "num": 1.0, "dk": "j:true" }""");
        Same(Fields("""{"type":"Property","value":"high"}"""), """{ "t": "Property", "str": "high", "dk": "j:\"high\"" }""");
        Same(Fields("""{"type":"Relationship","object":"urn:x"}"""), """{ "t": "Relationship", "str": "urn:x", "dk": "j:\"urn:x\"" }""");
        Same(Fields("""{"type":"Property","value":{"a":1}}"""), """{ "t": "Property", "dk": "j:{\"a\":1}" }""");
        MongoTemporalPipelines.SampleFields(null).Should().BeEmpty();
    }

    [Fact]
    public void An_aggregation_result_reads_back_as_period_statistics()
    {
        var row = MongoTemporalPipelines.Statistics(BsonDocument.Parse("""
            { "_id": { "e": "urn:e", "a": "https://x/n", "ds": null, "k": 3.0 }, "type": "Property",
              "first": { "$date": "2024-01-01T00:00:00Z" }, "last": { "$date": "2024-01-01T05:00:00Z" },
              "count": 4, "distinct": 3, "numbers": 3, "sum": 6.0, "sumsq": 14.0, "minNum": 1.0, "maxNum": 3.0, "minStr": "a", "maxStr": null }
            """));

        row.Should().BeEquivalentTo(new PeriodStatistics("urn:e", "https://x/n", null, "Property", 3,
            new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2024, 1, 1, 5, 0, 0, TimeSpan.Zero),
            new Kontext.Ngsi.Temporal.PeriodFigures(4, 3, 3, 6, 14, 1, 3, "a", null)));
    }

    [Fact]
    public void Tenant_database_names_are_valid_and_distinct_by_case()
    {
        MongoStorage.DatabaseName("kontext", "city").Should().Be("kontext-t-city");
        MongoStorage.DatabaseName("kontext", "City").Should().Be("kontext-t-_43ity");
        MongoStorage.DatabaseName("kontext", "a.b/c").Should().Be("kontext-t-a_2eb_2fc");
        MongoStorage.DatabaseName("kontext", new string('x', 80)).Should().StartWith("kontext-h-").And.HaveLength(42);
    }
}
