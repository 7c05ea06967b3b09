using System.Globalization;
using System.Text.Json.Nodes;
using CsCheck;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;

namespace Kontext.Storage.Tests;

/// <summary>
/// D3's guarantee, tested by property: for random entities and random queries, what a store returns (its native
/// pushdown plus residual evaluation) equals what the pure evaluator selects from all entities, in order. One subclass
/// per store, like the storage contract: SQLite always, MongoDB when KONTEXT_TEST_MONGO is set.
/// </summary>
public abstract class PushdownDifferentialTests : IAsyncLifetime
{
    private static readonly string[] Types = ["A", "B", "C"];
    private static readonly string[] Words = ["red", "green", "blue", "Red", "urn:ngsi-ld:X:1"];
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;
    private readonly List<Entity> _entities = [];

    public async Task InitializeAsync()
    {
        _storage = await OpenAsync();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
        var random = new Random(20241126);
        var writes = new List<Task>();
        for (var i = 0; i < 400; i++)
        {
            var entity = EntityParser.ParseEntity(RandomEntity(random, i), ContextProcessor.Core, ParseMode.Full);
            _entities.Add(entity);
            writes.Add(_store.WriteAsync(entity.Id, current =>
            {
                if (current is not null) throw new NgsiException(NgsiError.AlreadyExists(entity.Id));
                var operations = new EntityOperations(DateTimeOffset.UtcNow);
                return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
            }, default));
            // Keep creation order equal to list order: the store orders by creation.
            await writes[^1];
        }
        foreach (var json in EdgeOfTheWorld(new Random(20261201)))
        {
            var entity = EntityParser.ParseEntity(json, ContextProcessor.Core, ParseMode.Full);
            _entities.Add(entity);
            await _store.WriteAsync(entity.Id, _ =>
            {
                var operations = new EntityOperations(DateTimeOffset.UtcNow);
                return EntityWrite<bool>.Upsert(operations.Create(entity.Clone()), operations.Changes, true);
            }, default);
        }
    }

    protected ITenantStore Store => _store;

    /// <summary>What was written, in creation order.</summary>
    protected IReadOnlyList<Entity> Written => _entities;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        await CleanUpAsync();
    }

    private static JsonObject RandomEntity(Random random, int i)
    {
        var entity = new JsonObject { ["id"] = $"urn:ngsi-ld:E:{i}", ["type"] = random.Next(5) == 0 ? new JsonArray("A", "B") : Types[random.Next(Types.Length)] };
        if (random.Next(3) > 0) entity["n"] = random.Next(4) == 0
            ? new JsonArray(new JsonObject { ["type"] = "Property", ["value"] = random.Next(10) }, new JsonObject { ["type"] = "Property", ["value"] = random.Next(10), ["datasetId"] = "urn:ngsi-ld:D:1" })
            : new JsonObject { ["type"] = "Property", ["value"] = random.Next(3) == 0 ? random.NextDouble() * 10 : random.Next(10), ["sub"] = new JsonObject { ["type"] = "Property", ["value"] = random.Next(3) } };
        if (random.Next(3) > 0) entity["s"] = random.Next(4) == 0 ? new JsonArray(Words[random.Next(Words.Length)], Words[random.Next(Words.Length)]) : Words[random.Next(Words.Length)];
        if (random.Next(4) == 0) entity["s"] = random.Next(10); // the same name holding a number elsewhere
        if (random.Next(3) == 0) entity["r"] = new JsonObject { ["type"] = "Relationship", ["object"] = Words[4] };
        if (random.Next(3) == 0) entity["v"] = new JsonObject { ["type"] = "VocabProperty", ["vocab"] = Words[random.Next(3)] };
        if (random.Next(2) == 0) entity["scope"] = random.Next(2) == 0 ? "/x/y" : new JsonArray("/x", "/z/w");
        if (random.Next(3) > 0)
            entity["location"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(Math.Round(-3.7 + random.NextDouble() * 0.1, 5), Math.Round(40.4 + random.NextDouble() * 0.1, 5)) };
        return entity;
    }

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Entities of type C at both sides of the antimeridian and around both poles: points, small polygons, a line that
    /// crosses the antimeridian uncut (so goes the long way round) and the same line cut in two (RFC 7946 §3.1.9).
    /// </summary>
    private static IEnumerable<JsonObject> EdgeOfTheWorld(Random random)
    {
        JsonObject Entity(int i, string geometry) => JsonNode.Parse($$$"""{"id":"urn:ngsi-ld:W:{{{i}}}","type":"C","location":{"type":"GeoProperty","value":{{{geometry}}}}}""")!.AsObject();
        for (var i = 0; i < 120; i++)
        {
            var (lon, lat) = (i % 3) switch
            {
                0 => ((random.Next(2) == 0 ? 1 : -1) * (180 - random.NextDouble() * 0.02), 10 + (random.NextDouble() - 0.5) * 0.02),
                1 => (random.NextDouble() * 360 - 180, 89.99 + random.NextDouble() * 0.01),
                _ => (random.NextDouble() * 360 - 180, -89.99 - random.NextDouble() * 0.01),
            };
            yield return Entity(i, i % 10 == 9
                ? $"{{\"type\":\"Polygon\",\"coordinates\":[[[{F(lon)},{F(lat)}],[{F(Math.Clamp(lon + 0.003, -180, 180))},{F(lat)}],[{F(lon)},{F(Math.Clamp(lat + 0.002, -90, 90))}],[{F(lon)},{F(lat)}]]]}}"
                : $"{{\"type\":\"Point\",\"coordinates\":[{F(Math.Round(lon, 6))},{F(Math.Round(lat, 6))}]}}");
        }
        yield return Entity(120, """{"type":"LineString","coordinates":[[179.995,10],[-179.995,10]]}""");
        yield return Entity(121, """{"type":"MultiLineString","coordinates":[[[179.995,10.001],[180,10.001]],[[-180,10.001],[-179.995,10.001]]]}""");
        yield return Entity(122, """{"type":"Point","coordinates":[180,10]}""");
        yield return Entity(123, """{"type":"Point","coordinates":[-180,10.0005]}""");
        yield return Entity(124, """{"type":"Point","coordinates":[0,90]}""");
        yield return Entity(125, """{"type":"Point","coordinates":[-179.9995,10]}"""); // ~164 m from 179.9990°E
        yield return Entity(126, """{"type":"Point","coordinates":[180,89.999]}""");   // ~222 m from (0, 89.999) over the pole
        // Boxes of 0.05° to 3°, listed in the coarse 1° cells (SqliteGeoGrid), at the antimeridian and at the poles.
        string Box(double x0, double x1, double y0, double y1) =>
            $"{{\"type\":\"Polygon\",\"coordinates\":[[[{F(x0)},{F(y0)}],[{F(x1)},{F(y0)}],[{F(x1)},{F(y1)}],[{F(x0)},{F(y1)}],[{F(x0)},{F(y0)}]]]}}";
        yield return Entity(127, Box(177.5, 180, 9.2, 10.004));
        yield return Entity(128, Box(-180, -179.95, 9.98, 10.03));
        yield return Entity(129, Box(-0.02, 2.9, 88.5, 90));
        yield return Entity(130, Box(15.5, 17.2, -90, -89.5));
        yield return Entity(131, Box(179.9, 180, 87, 89.992));
    }

    private static Gen<T> Of<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly Gen<string> Number = Gen.Int[0, 10].Select(i => i.ToString(CultureInfo.InvariantCulture));
    private static readonly Gen<string> Comparison = Gen.OneOf(
        Gen.Select(Of("n", "s", "n.sub"), Of("==", "!=", ">", ">=", "<", "<="), Number, (a, op, v) => a + op + v),
        Gen.Select(Of("n", "s"), Number, Number, (a, lo, hi) => $"{a}=={lo}..{hi}"),
        Gen.Select(Of("n"), Number, Number, (a, x, y) => $"{a}=={x},{y}"),
        Gen.Select(Of("s", "v", "r"), Of("==", "!="), Of(Words), (a, op, w) => $"{a}{op}\"{w}\""),
        Gen.Select(Of("s", "r"), Of(">", "<="), Of(Words), (a, op, w) => $"{a}{op}\"{w}\""), // a Relationship never orders
        Gen.Select(Of("s"), Of("~=", "!~="), Of("^r", "e", "^[A-Z]"), (a, op, p) => $"{a}{op}{p}"),
        Of("n", "s", "r", "!n", "!s", "n.sub", "!n.sub", "location"));
    private static readonly Gen<string> Q = Gen.OneOf(
        Comparison,
        Gen.Select(Comparison, Comparison, (a, b) => $"{a};{b}"),
        Gen.Select(Comparison, Comparison, Comparison, (a, b, c) => $"({a}|{b});{c}"));
    protected static readonly Gen<EntityQueryParameters> Parameters = Gen.Select(
        Of<string?>(null, "A", "B", "A,C", "A;B", "(A;B)|C"),
        Of<string?>(null, null, "E:1", "^urn:ngsi-ld:E:[0-9]$"),
        Gen.OneOf(Of(new string?[] { null }), Q.Select(q => (string?)q)),
        Of<string?>(null, null, "/x", "/x/#", "/z/#,/x/y", "/+/y", "/+", "/+/w,/x", "/z/+/#"),
        Of<(string?, string?, string?)>((null, null, null),
            ("near;maxDistance==3000", "Point", "[-3.65,40.45]"),
            ("near;minDistance==4000", "Point", "[-3.65,40.45]"),
            ("within", "Polygon", "[[[-3.7,40.4],[-3.64,40.4],[-3.64,40.46],[-3.7,40.46],[-3.7,40.4]]]"),
            ("disjoint", "Polygon", "[[[-3.7,40.4],[-3.64,40.4],[-3.64,40.46],[-3.7,40.46],[-3.7,40.4]]]")),
        (type, idPattern, q, scope, geo) => new EntityQueryParameters(type, null, idPattern, q, scope, geo.Item1, geo.Item2, geo.Item3, null));

    [ContractFact]
    public void Pushdown_results_equal_the_evaluator_on_random_queries()
    {
        Parameters.Sample(parameters =>
        {
            var query = EntityQuery.Parse(parameters, ContextProcessor.Core);
            var expected = _entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            var page = _store.QueryAsync(new EntityPageRequest(query, 0, 1000, true), default).GetAwaiter().GetResult();
            var actual = page.Entities.Select(e => e.Id).ToList();
            return actual.SequenceEqual(expected) && page.TotalCount == expected.Count;
        }, iter: 400, threads: 1);
    }

    [ContractFact]
    public async Task Entity_selectors_with_id_lists_select_as_the_evaluator_does()
    {
        EntitySelector[][] cases =
        [
            [new(new TypeIs(CoreContext.DefaultVocab + "A"), ["urn:ngsi-ld:E:1", "urn:ngsi-ld:E:2", "urn:ngsi-ld:E:3", "urn:ngsi-ld:E:40"], null)],
            [new(null, ["urn:ngsi-ld:E:7"], null), new(new TypeIs(CoreContext.DefaultVocab + "C"), null, "E:1[0-9]$")],
        ];
        foreach (var selectors in cases)
        {
            var query = new EntityQuery(Selectors: new(selectors));
            var expected = _entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            var page = await _store.QueryAsync(new EntityPageRequest(query, 0, 1000, true), default);
            page.Entities.Select(e => e.Id).Should().Equal(expected);
            expected.Should().NotBeEmpty();
        }
    }

    [ContractFact]
    public async Task Pages_of_near_queries_match_the_evaluator_page_by_page()
    {
        var random = new Random(20261130);
        for (var i = 0; i < 24; i++)
        {
            var point = string.Create(CultureInfo.InvariantCulture, $"[{-3.71 + random.NextDouble() * 0.12},{40.39 + random.NextDouble() * 0.12}]");
            var query = EntityQuery.Parse(new EntityQueryParameters(Type: new[] { null, "A", "B" }[i % 3], Q: i % 4 == 3 ? "n>4" : null,
                GeoRel: $"near;maxDistance=={new[] { 400, 1500, 3000, 9000 }[i % 4]}", Geometry: "Point", Coordinates: point), ContextProcessor.Core);
            var expected = _entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            var pages = new List<string>();
            for (var offset = 0; offset < expected.Count + 10; offset += 7)
                pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, 7, false), default)).Entities.Select(e => e.Id));
            pages.Should().Equal(expected, $"near {point}, case {i}");
        }
    }

    [ContractFact]
    public async Task Geo_queries_across_the_antimeridian_and_at_the_poles_match_the_evaluator_page_by_page()
    {
        string[] points = ["[179.9990,10]", "[-179.9995,10]", "[180,10]", "[-180,10]", "[179.99,10.005]", "[0,89.999]", "[120,89.995]", "[-60,-89.997]", "[0,90]", "[17,-90]", "[179.999,89.98]"];
        string[] distances = ["maxDistance==100", "maxDistance==500", "maxDistance==2000", "minDistance==500", "maxDistance==20000"];
        const string band = "[[[179.99,9.99],[-179.99,9.99],[-179.99,10.01],[179.99,10.01],[179.99,9.99]]]"; // uncut: planar, the long way round
        const string cut = "[[[[179.99,9.99],[180,9.99],[180,10.01],[179.99,10.01],[179.99,9.99]]],[[[-180,9.99],[-179.99,9.99],[-179.99,10.01],[-180,10.01],[-180,9.99]]]]";
        var queries = points.SelectMany(p => distances.Select(d => new EntityQueryParameters(GeoRel: "near;" + d, Geometry: "Point", Coordinates: p)))
            .Concat([
                new(GeoRel: "near;maxDistance==500", Geometry: "LineString", Coordinates: "[[179.99,10],[179.999,10]]"),
                new(GeoRel: "near;maxDistance==1000", Geometry: "Polygon", Coordinates: "[[[-180,89.99],[180,89.99],[180,90],[-180,90],[-180,89.99]]]"),
                new(GeoRel: "within", Geometry: "Polygon", Coordinates: band),
                new(GeoRel: "intersects", Geometry: "Polygon", Coordinates: band),
                new(GeoRel: "disjoint", Geometry: "Polygon", Coordinates: band),
                new(GeoRel: "within", Geometry: "MultiPolygon", Coordinates: cut),
                new(GeoRel: "intersects", Geometry: "MultiPolygon", Coordinates: cut),
                new(GeoRel: "intersects", Geometry: "LineString", Coordinates: "[[0,10],[1,10.001]]"),
            ]);
        var matched = 0;
        foreach (var parameters in queries)
        {
            var query = EntityQuery.Parse(parameters with { Type = "C" }, ContextProcessor.Core);
            var expected = _entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            var all = await _store.QueryAsync(new EntityPageRequest(query, 0, 1000, true), default);
            all.Entities.Select(e => e.Id).Should().Equal(expected, $"{parameters.GeoRel} {parameters.Coordinates}");
            all.TotalCount.Should().Be(expected.Count);
            var pages = new List<string>();
            for (var offset = 0; offset < expected.Count + 5; offset += 5)
                pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, 5, false), default)).Entities.Select(e => e.Id));
            pages.Should().Equal(expected, $"pages of {parameters.GeoRel} {parameters.Coordinates}");
            if (expected.Count > 0) matched++;
            if (parameters is { GeoRel: "near;maxDistance==500", Coordinates: "[179.9990,10]" or "[0,89.999]" })
                expected.Should().Contain(parameters.Coordinates == "[0,89.999]" ? "urn:ngsi-ld:W:126" : "urn:ngsi-ld:W:125");
        }
        matched.Should().BeGreaterThan(40, "most of these queries select something");
    }

    [ContractFact]
    public async Task Paging_through_an_evaluated_query_matches_the_evaluator_page_by_page()
    {
        var query = EntityQuery.Parse(new EntityQueryParameters(Q: "s~=e|n>4"), ContextProcessor.Core);
        var expected = _entities.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
        var pages = new List<string>();
        for (var offset = 0; offset < expected.Count + 30; offset += 23)
            pages.AddRange((await _store.QueryAsync(new EntityPageRequest(query, offset, 23, false), default)).Entities.Select(e => e.Id));
        pages.Should().Equal(expected);
        expected.Count.Should().BeGreaterThan(50, "the query should be selective but not empty");
    }
}

public sealed class SqlitePushdownDifferentialTests : PushdownDifferentialTests
{
    private readonly SqliteTestDirectory _directory = new("diff");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();

    /// <summary>
    /// A query page read as stored views (what a plain Query Entities renders from) holds the entities the Entity page
    /// holds, in the same order, with the same count: exact queries, evaluated ones, geo walks, any offset and limit; and
    /// both are the evaluator's page (small pages of a type and a value clause go through the oldest keys first).
    /// </summary>
    [Fact]
    public void Stored_pages_equal_the_entity_pages_on_random_queries()
    {
        var reader = (IStoredEntityReader)Store;
        var paging = Gen.Select(Gen.Int[0, 20], Gen.Int[0, 40], Gen.Bool, (offset, limit, count) => (offset, limit, count));
        var nonEmpty = 0;
        Gen.Select(Parameters, paging).Sample((parameters, page) =>
        {
            var query = EntityQuery.Parse(parameters, ContextProcessor.Core);
            var request = new EntityPageRequest(query, page.offset, page.limit, page.count);
            var entities = Store.QueryAsync(request, default).GetAwaiter().GetResult();
            var stored = reader.QueryStoredAsync(request, default).GetAwaiter().GetResult();
            if (entities.Entities.Count > 0) nonEmpty++;
            var matches = Written.Where(e => EntityMatcher.Matches(e, query)).Select(e => e.Id).ToList();
            return entities.Entities.Select(e => e.Id).SequenceEqual(matches.Skip(page.offset).Take(page.limit)) && entities.TotalCount == (page.count ? matches.Count : null)
                && stored.Entities.Select(e => e.Id).SequenceEqual(entities.Entities.Select(e => e.Id)) && stored.TotalCount == entities.TotalCount
                && stored.Entities.Zip(entities.Entities).All(pair => pair.First.Attributes.Count == pair.Second.Attributes.Count);
        }, iter: 300, threads: 1);
        nonEmpty.Should().BeGreaterThan(30, "many pages hold entities");
    }
}
