using System.Text.Json.Nodes;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;

using static Kontext.Storage.Tests.AggregationComparison;

namespace Kontext.Storage.Tests;

/// <summary>
/// Pre-aggregated buckets (issue 12, item 3): random two-year histories (numbers, booleans, strings, relationships, two
/// datasetIds), then instances modified (value, time, datasetId) and deleted one by one and one attribute's dataset purged,
/// aggregated over random windows and periods (hours, days, weeks, calendar months and years, a window end inside a bucket,
/// open windows) as the broker does it from the buckets (<see cref="Buckets"/>: whole buckets plus the cut last bucket)
/// give the same series, periods, attribute types and values as the in-memory aggregation of the instances. Windows or
/// periods off the bucket boundaries must not be planned on buckets. One subclass per store.
/// </summary>
public abstract class BucketDifferentialTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Origin = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan History = TimeSpan.FromDays(730);
    internal static readonly string[] Entities = ["urn:ngsi-ld:Meter:1", "urn:ngsi-ld:Meter:2", "urn:ngsi-ld:Meter:3"];
    private static readonly AggregationMethod[] Composable = Enum.GetValues<AggregationMethod>().Where(m => m != AggregationMethod.DistinctCount).ToArray();
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    protected abstract Task<IEntityStorage> OpenAsync();
    protected abstract Task CleanUpAsync();

    public async Task InitializeAsync()
    {
        _storage = await OpenAsync();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
        await SeedAsync(_store);
        await SettleAsync(_store);
    }

    /// <summary>What the store does after its writes before buckets answer (MongoDB: the history maintenance's pass).</summary>
    protected virtual Task SettleAsync(ITenantStore store) => Task.CompletedTask;

    /// <summary>
    /// The random history: <paramref name="writes"/> temporal writes per entity of 40 instances of each attribute, then
    /// per entity <paramref name="edits"/> instances modified (value, time, datasetId) and as many deleted one by one, and one attribute's dataset purged.
    /// </summary>
    internal static async Task SeedAsync(ITenantStore store, int writes = 12, int edits = 25)
    {
        var random = new Random(20261130);
        foreach (var id in Entities)
        {
            for (var write = 0; write < writes; write++)
            {
                var body = new JsonObject { ["id"] = id, ["type"] = "Meter" };
                foreach (var attribute in new[] { "n", "s", "m" })
                {
                    var instances = new JsonArray();
                    for (var i = 0; i < 40; i++) instances.Add(Instance(random, attribute));
                    body[attribute] = instances;
                }
                var input = TemporalEntityInput.Parse(body, ContextProcessor.Core, null);
                await store.WriteAsync(id, EntityWrites.AddTemporalInstances(input, mustExist: false), default);
            }
        }
        // Modify and delete random instances: their buckets are recomputed.
        var history = store.History!;
        foreach (var id in Entities)
        {
            var rows = (await store.ReadHistoryAsync(id, null, default)).Where(r => r.InstanceJson is not null).ToList();
            for (var i = 0; i < edits; i++)
            {
                var row = rows[random.Next(rows.Count)];
                var changed = Instance(random, row.Attribute.EndsWith("/s", StringComparison.Ordinal) ? "s" : "n");
                if (random.Next(3) == 0) changed.Remove("observedAt"); // an instance that leaves the observedAt history
                await history.ReplaceInstanceAsync(id, row.Attribute, row.InstanceId, changed, DateTimeOffset.UtcNow, default);
            }
            for (var i = 0; i < edits; i++)
            {
                var row = rows[random.Next(rows.Count)];
                await history.DeleteInstanceAsync(id, row.Attribute, row.InstanceId, default);
            }
        }
        var m = (await store.GetEntityAsync(Entities[2], default))!.Attributes.Keys.Single(k => k.EndsWith("/m", StringComparison.Ordinal));
        await history.WriteAndPurgeAsync(Entities[2], _ => EntityWrite<bool>.Nothing(true), new HistoryPurge(m, "urn:ngsi-ld:Dataset:b"), default);
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        await CleanUpAsync();
    }

    /// <summary>
    /// One instance at a random time of the two years (a quarter on whole hours, a bucket boundary): "n" numbers (integers and
    /// quarters, exact in binary so sums do not depend on their order), booleans and now and then a string; "s" strings and
    /// now and then a relationship (the series' type changes); "m" numbers in the default instance and a datasetId.
    /// </summary>
    private static JsonObject Instance(Random random, string attribute)
    {
        var at = random.Next(4) == 0
            ? Origin.AddHours(random.Next(0, (int)History.TotalHours))
            : Origin.AddMilliseconds(random.NextInt64(0, (long)History.TotalMilliseconds));
        JsonObject Property(JsonNode value) => new() { ["type"] = "Property", ["value"] = value, ["observedAt"] = Validate.Format(at) };
        switch (attribute)
        {
            case "n":
                return Property(random.Next(8) switch
                {
                    0 => JsonValue.Create(random.Next(2) == 0)!,
                    1 => JsonValue.Create("level-" + random.Next(4))!,
                    2 => JsonValue.Create(random.Next(-400, 400) / 4.0)!,
                    _ => JsonValue.Create(random.Next(-5, 50))!,
                });
            case "s":
                return random.Next(10) == 0
                    ? new JsonObject { ["type"] = "Relationship", ["object"] = "urn:ngsi-ld:Thing:" + random.Next(3), ["observedAt"] = Validate.Format(at) }
                    : Property("v" + random.Next(6));
            default:
                var instance = Property(random.Next(100));
                if (random.Next(2) == 0) instance["datasetId"] = "urn:ngsi-ld:Dataset:b";
                return instance;
        }
    }

    [ContractFact]
    public async Task Aggregation_composed_from_buckets_equals_the_in_memory_aggregation_of_the_instances()
    {
        var random = new Random(11);
        var temporal = _store.History!;
        string[] periods = ["PT1H", "PT3H", "P1D", "P2D", "P1W", "P1M", "P3M", "P1Y", "P1MT2H", "P0D", "PT90M", "PT15M", "P1DT30M"];
        int compared = 0, planned = 0, fallback = 0;
        for (var iteration = 0; iteration < 80; iteration++)
        {
            var from = random.Next(6) switch
            {
                0 => Origin.AddMonths(random.Next(0, 24)),                                  // a month start
                1 => Origin.AddYears(random.Next(0, 2)),                                    // a year start
                2 => Origin.AddHours(random.Next(-48, (int)History.TotalHours)),            // an hour
                3 => Origin.AddMinutes(random.Next(0, (int)History.TotalMinutes)),          // off the buckets
                _ => Origin.AddDays(random.Next(-3, (int)History.TotalDays)),               // a midnight
            };
            DateTimeOffset? to = random.Next(4) == 0 ? null : random.Next(3) == 0
                ? from.AddDays(random.Next(1, 800))
                : from.AddMilliseconds(random.NextInt64(1, (long)TimeSpan.FromDays(400).TotalMilliseconds));
            var period = IsoDuration.Parse(periods[random.Next(periods.Length)]);
            var methods = Composable.Where(_ => random.Next(2) == 0).DefaultIfEmpty(AggregationMethod.Avg).ToList();
            var ids = Entities.Where(_ => random.Next(4) > 0).DefaultIfEmpty(Entities[0]).ToList();
            IReadOnlySet<string?>? datasets = random.Next(4) == 0 ? new HashSet<string?> { random.Next(2) == 0 ? null : "urn:ngsi-ld:Dataset:b" } : null;
            var query = to is null ? new TemporalQuery(TimeRelation.After, from) : new TemporalQuery(TimeRelation.Between, from, to);
            var plan = TemporalPlan.For(query, new TemporalRenderOptions(TemporalFormat.AggregatedValues, new RenderOptions(), query, methods, period), 1000);
            var because = $"iteration {iteration}: [{from:O}, {to:O}), period {period}, {string.Join(",", methods)}";
            if (plan.Buckets is not { } granularity)
            {
                fallback++;
                (from.UtcTicks % TimeSpan.TicksPerHour != 0 || period.Time.Ticks % TimeSpan.TicksPerHour != 0).Should().BeTrue($"{because}: aligned, so planned on buckets");
                continue;
            }
            planned++;

            var instances = await temporal.ReadInstancesAsync(new TemporalReadRequest(ids, null, TemporalTimeProperty.ObservedAt, from, true, to, int.MaxValue - 1, false, datasets), default);
            var expected = instances.Where(i => i.Record.InstanceJson is not null).GroupBy(i => (i.Record.EntityId, i.Record.Attribute, i.Record.DatasetId)).Select(g =>
            {
                var docs = g.Select(i => (i.Time, Doc: JsonNode.Parse(i.Record.InstanceJson!)!.AsObject())).ToList();
                var values = Aggregation.Aggregate(docs.Select(d => new Sample(Attr.Payload(d.Doc), d.Time)), methods, period, from, to);
                return new AggregatedSeries(g.Key.EntityId, g.Key.Attribute, g.Key.DatasetId, Attr.Type(docs[^1].Doc), values);
            }).ToList();

            var (cut, edge) = Buckets.Split(from, to, granularity);
            var buckets = (await temporal.ReadBucketsAsync(new TemporalBucketRequest(ids, null, granularity, from, cut, datasets), default))!;
            var edgeRows = edge
                ? await temporal.AggregateAsync(new TemporalAggregateRequest(ids, null, TemporalTimeProperty.ObservedAt, cut, true, to, TimeSpan.Zero, datasets), default)
                : [];
            var actual = Aggregation.FromStatistics(Buckets.Compose(buckets, edgeRows, period, from), methods, period, from, to);

            actual.Select(Key).Should().BeEquivalentTo(expected.Select(Key), because);
            foreach (var series in expected)
            {
                var other = actual.Single(a => Key(a) == Key(series));
                other.AttributeType.Should().Be(series.AttributeType, $"{because}, type of {Key(series)}");
                foreach (var method in methods)
                {
                    var (want, got) = (series.Values[method], other.Values[method]);
                    got.Select(v => (v.Start, v.End)).Should().Equal(want.Select(v => (v.Start, v.End)), $"{because}, {method} periods of {Key(series)}");
                    for (var k = 0; k < want.Count; k++)
                        Same(got[k].Value, want[k].Value).Should().BeTrue($"{because}, {method} period {k} of {Key(series)}: {got[k].Value?.ToJsonString()} vs {want[k].Value?.ToJsonString()}");
                    compared += want.Count;
                }
            }
        }
        planned.Should().BeGreaterThan(40, "most random windows are on bucket boundaries");
        fallback.Should().BeGreaterThan(5, "some are not, and must not be planned on buckets");
        compared.Should().BeGreaterThan(5000, "the random cases should produce real periods to compare");
    }

    [ContractFact]
    public async Task Buckets_hold_the_figures_of_their_instances_after_modifications_deletions_and_a_purge()
    {
        var temporal = _store.History!;
        foreach (var granularity in new[] { BucketGranularity.Hour, BucketGranularity.Day })
        {
            var buckets = (await temporal.ReadBucketsAsync(new TemporalBucketRequest(Entities, null, granularity, Origin.AddYears(-1), null), default))!;
            var instances = await temporal.ReadInstancesAsync(new TemporalReadRequest(Entities, null, TemporalTimeProperty.ObservedAt, null, false, null, int.MaxValue - 1, false), default);
            var expected = instances.Where(i => i.Record.Kind != AttributeChangeKind.Deleted)
                .GroupBy(i => (i.Record.EntityId, i.Record.Attribute, i.Record.DatasetId, Start: Buckets.Floor(i.Time, granularity)))
                .ToDictionary(g => g.Key, g => g.Count());
            buckets.ToDictionary(b => (b.EntityId, b.Attribute, b.DatasetId, b.Start), b => b.Figures.Count)
                .Should().BeEquivalentTo(expected, $"one {granularity} bucket per series and {granularity} with samples, counting them");
        }
    }

}

public sealed class SqliteBucketDifferentialTests : BucketDifferentialTests
{
    private readonly SqliteTestDirectory _directory = new("buckets");

    protected override Task<IEntityStorage> OpenAsync() => Task.FromResult(_directory.Open());

    protected override Task CleanUpAsync() => _directory.DeleteAsync();
}
