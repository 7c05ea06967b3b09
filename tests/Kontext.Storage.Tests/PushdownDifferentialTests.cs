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
    }

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
    private static readonly Gen<EntityQueryParameters> Parameters = Gen.Select(
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
}
