using System.Globalization;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Kontext.Storage.Sqlite;

using static Kontext.Storage.Tests.AggregationComparison;

namespace Kontext.Storage.Tests;

/// <summary>
/// Aggregation pushdown (issue 5 and 7): for random histories and random windows, periods and attribute selections,
/// the figures a store computes natively (<see cref="ITemporalStore.AggregateAsync"/>) give the same aggregated values,
/// periods and attribute types as the in-memory aggregation over the instances the same store returns. One subclass per
/// store: SQLite always, MongoDB when KONTEXT_TEST_MONGO is set.
/// </summary>
public abstract class AggregationDifferentialTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Origin = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly AggregationMethod[] Methods = Enum.GetValues<AggregationMethod>();
    private static readonly string[] Entities = ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2", "urn:ngsi-ld:Sensor:3"];
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync()
    {
        _storage = await OpenAsync();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
        var random = new Random(20261126);
        foreach (var id in Entities)
        {
            var entity = Parse(id, Fragment(random, 0));
            await _store.WriteAsync(id, current =>
            {
                if (current is not null) throw new NgsiException(NgsiError.AlreadyExists(id));
                var operations = new EntityOperations(DateTimeOffset.UtcNow);
                return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
            }, default);
            for (var i = 1; i < 60; i++)
            {
                var fragment = Parse(id, Fragment(random, i));
                await _store.WriteAsync(id, current =>
                {
                    var operations = new EntityOperations(DateTimeOffset.UtcNow);
                    operations.Append(current!, fragment, noOverwrite: false);
                    return EntityWrite<bool>.Upsert(current!, operations.Changes, true);
                }, default);
            }
        }
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        await CleanUpAsync();
    }

    private static Entity Parse(string id, JsonObject members)
    {
        members["id"] = id;
        members["type"] = "Sensor";
        return EntityParser.ParseEntity(members, ContextProcessor.Core, ParseMode.Full);
    }

    /// <summary>One write: a numeric-ish "n" (ints, reals, booleans, now and then a string), a text "s", and "m" in two datasets.</summary>
    private static JsonObject Fragment(Random random, int i)
    {
        // A quarter of the samples fall on whole minutes: period boundaries, where an off-by-one shows.
        string At() => Validate.Format(random.Next(4) == 0
            ? Origin.AddMinutes(random.Next(0, 360))
            : Origin.AddMilliseconds(random.NextInt64(0, (long)TimeSpan.FromHours(6).TotalMilliseconds)));
        JsonNode N() => random.Next(8) switch
        {
            0 => JsonValue.Create(random.Next(2) == 0)!,
            1 => JsonValue.Create("level-" + random.Next(4))!,
            2 => JsonValue.Create(Math.Round(random.NextDouble() * 100, 3))!,
            _ => JsonValue.Create(random.Next(-5, 50))!,
        };
        var fragment = new JsonObject
        {
            ["n"] = new JsonObject { ["type"] = "Property", ["value"] = N(), ["observedAt"] = At() },
            ["s"] = new JsonObject { ["type"] = "Property", ["value"] = "v" + random.Next(6), ["observedAt"] = At() },
        };
        if (i % 2 == 0)
            fragment["m"] = new JsonArray(
                new JsonObject { ["type"] = "Property", ["value"] = random.Next(100), ["observedAt"] = At() },
                new JsonObject { ["type"] = "Property", ["value"] = random.Next(100), ["observedAt"] = At(), ["datasetId"] = "urn:ngsi-ld:Dataset:b" });
        // "r" changes attribute type over time: the series' type is its latest instance's.
        if (i % 7 == 3) fragment["r"] = i % 2 == 0
            ? new JsonObject { ["type"] = "Relationship", ["object"] = "urn:ngsi-ld:Thing:" + random.Next(3), ["observedAt"] = At() }
            : new JsonObject { ["type"] = "Property", ["value"] = random.Next(3), ["observedAt"] = At() };
        return fragment;
    }

    [ContractFact]
    public async Task Store_aggregation_equals_the_in_memory_aggregation_on_random_windows_and_periods()
    {
        var random = new Random(7);
        var temporal = _store.History!;
        var attributes = (await _store.GetEntityAsync(Entities[0], default))!.Attributes.Keys.Order(StringComparer.Ordinal).ToList();
        TimeSpan[] periods = [TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(7), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(86_399), TimeSpan.FromDays(1)];
        var compared = 0;
        for (var iteration = 0; iteration < 60; iteration++)
        {
            DateTimeOffset? from = random.Next(3) == 0 ? null : Origin.AddMinutes(random.Next(-30, 300)).AddMilliseconds(random.Next(2) == 0 ? 0 : random.Next(1000));
            DateTimeOffset? to = random.Next(3) == 0 ? null : (from ?? Origin).AddMinutes(random.Next(1, 400));
            var fromInclusive = random.Next(2) == 0;
            IReadOnlySet<string>? only = random.Next(3) == 0 ? attributes.Where(_ => random.Next(2) == 0).ToHashSet() : null;
            var ids = Entities.Where(_ => random.Next(4) > 0).ToList();
            var period = periods[random.Next(periods.Length)];
            var duration = new IsoDuration(0, 0, period);
            var timeProperty = random.Next(4) == 0 ? TemporalTimeProperty.CreatedAt : TemporalTimeProperty.ObservedAt;

            var instances = await temporal.ReadInstancesAsync(new TemporalReadRequest(ids, only, timeProperty, from, fromInclusive, to, int.MaxValue - 1, false), default);
            var expected = instances.GroupBy(i => (i.Record.EntityId, i.Record.Attribute, i.Record.DatasetId)).Select(g =>
            {
                var docs = g.Select(i => (i.Time, Doc: JsonNode.Parse(i.Record.InstanceJson!)!.AsObject())).ToList();
                var values = Aggregation.Aggregate(docs.Select(d => new Sample(Attr.Payload(d.Doc), d.Time)), Methods, duration, from, to);
                return new AggregatedSeries(g.Key.EntityId, g.Key.Attribute, g.Key.DatasetId, Attr.Type(docs[^1].Doc), values);
            }).ToList();
            var rows = await temporal.AggregateAsync(new TemporalAggregateRequest(ids, only, timeProperty, from, fromInclusive, to, period), default);
            var actual = Aggregation.FromStatistics(rows, Methods, duration, from, to);

            var because = $"iteration {iteration}: from {from:O} ({(fromInclusive ? "incl" : "excl")}) to {to:O}, period {period}, {timeProperty}";
            actual.Select(Key).Should().BeEquivalentTo(expected.Select(Key), because);
            foreach (var series in expected)
            {
                var other = actual.Single(a => Key(a) == Key(series));
                other.AttributeType.Should().Be(series.AttributeType, because);
                foreach (var method in Methods)
                {
                    var (want, got) = (series.Values[method], other.Values[method]);
                    got.Select(v => (v.Start, v.End)).Should().Equal(want.Select(v => (v.Start, v.End)), $"{because}, {method} periods of {Key(series)}");
                    for (var k = 0; k < want.Count; k++) Same(got[k].Value, want[k].Value).Should().BeTrue($"{because}, {method} period {k} of {Key(series)}: {got[k].Value?.ToJsonString()} vs {want[k].Value?.ToJsonString()}");
                    compared += want.Count;
                }
            }
        }
        compared.Should().BeGreaterThan(2000, "the random cases should produce real periods to compare");
    }

}

public sealed class SqliteAggregationDifferentialTests : AggregationDifferentialTests
{
    private readonly SqliteTestDirectory _directory = new("aggr");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();
}
