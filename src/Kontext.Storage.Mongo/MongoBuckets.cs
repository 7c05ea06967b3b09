using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Pre-aggregated buckets (issue 12; <see cref="Buckets"/>) in <c>temporalBuckets</c>, one document per series, granularity
/// and UTC bucket start, unique on (e, a, g, ds, s):
/// <code>
/// { e, a, ds: datasetId | null, g: "H" | "D", s: bucket start, n, nn (numeric samples), sum, sumsq, minNum?, maxNum?,
///   minStr?, maxStr?, first, last: sample times, latest: { t: time, q: write sequence, o: position in the write, y: attribute type } }
/// </code>
/// <c>latest</c> is the greatest sample by time, then sequence and position; BSON compares embedded documents field by field,
/// so <c>$max</c> keeps it. The figures are computed here, in one place, from history rows (<see cref="MongoInstanceDocument"/>):
/// an entity write adds its samples with one <c>$inc</c>/<c>$min</c>/<c>$max</c> upsert per touched bucket
/// (<see cref="Additions"/>); everything else rebuilds whole days of a series from their rows (<see cref="Rebuilt"/>).
/// </summary>
public static class MongoBuckets
{
    public const string Granularity = "g", Start = "s", Latest = "latest";
    private const string Hour = "H", Day = "D";
    private const string E = MongoInstanceDocument.Entity, A = MongoInstanceDocument.Attribute, Ds = MongoInstanceDocument.Dataset;

    /// <summary>One series of the history: entity, attribute and datasetId (null: the default instance).</summary>
    public readonly record struct Series(string Entity, string Attribute, string? Dataset)
    {
        public static Series Of(BsonDocument row) => new(row[E].AsString, row[A].AsString, row[Ds].IsBsonNull ? null : row[Ds].AsString);

        public BsonDocument Filter() => new() { { E, Entity }, { A, Attribute }, { Ds, (BsonValue?)Dataset ?? BsonNull.Value } };
    }

    public static string Code(BucketGranularity granularity) => granularity == BucketGranularity.Day ? Day : Hour;

    /// <summary>A sample: an observedAt instance that is not a deletion (as SQLite's triggers and the in-memory aggregation count).</summary>
    public static bool IsSample(BsonDocument row) =>
        row[MongoInstanceDocument.Kind] != nameof(AttributeChangeKind.Deleted) && !row[MongoInstanceDocument.Observed].IsBsonNull
        && !row[MongoInstanceDocument.Instance].IsBsonNull;

    public static DateTime DayOf(BsonDocument row) => Floor(row[MongoInstanceDocument.Observed].ToUniversalTime(), BucketGranularity.Day);

    private static DateTime Floor(DateTime t, BucketGranularity granularity) => Buckets.Floor(new DateTimeOffset(t, TimeSpan.Zero), granularity).UtcDateTime;

    private static BsonDocument Key(Series series, string code, DateTime start)
    {
        var key = series.Filter();
        key.InsertAt(2, new BsonElement(Granularity, code));
        key.Add(Start, start);
        return key;
    }

    /// <summary>The running figures of one bucket's samples.</summary>
    private sealed class Tally
    {
        private long _count, _numbers;
        private double _sum, _squares;
        private double? _min, _max;
        private string? _minText, _maxText;
        private DateTime _first = DateTime.MaxValue, _last = DateTime.MinValue;
        private BsonDocument? _latest;

        public void Add(BsonDocument row)
        {
            _count++;
            if (row.GetValue("num", BsonNull.Value) is { IsBsonNull: false } num)
            {
                var x = num.ToDouble();
                (_numbers, _sum, _squares) = (_numbers + 1, _sum + x, _squares + x * x);
                _min = _min is null || x < _min ? x : _min;
                _max = _max is null || x > _max ? x : _max;
            }
            if (row.GetValue("str", BsonNull.Value) is { IsBsonNull: false } str)
            {
                var text = str.AsString;
                if (_minText is null || string.CompareOrdinal(text, _minText) < 0) _minText = text;
                if (_maxText is null || string.CompareOrdinal(text, _maxText) > 0) _maxText = text;
            }
            var time = row[MongoInstanceDocument.Observed].ToUniversalTime();
            if (time < _first) _first = time;
            if (time > _last) _last = time;
            var latest = new BsonDocument
            {
                { "t", time }, { "q", row[MongoInstanceDocument.Sequence].ToInt64() }, { "o", row[MongoInstanceDocument.Order].ToInt32() },
                { "y", row.GetValue("t", Attr.Property) },
            };
            if (_latest is null || LaterThan(latest, _latest)) _latest = latest;
        }

        /// <summary>BSON's order of two latest documents (same fields, same types): time, then sequence, then position.</summary>
        private static bool LaterThan(BsonDocument x, BsonDocument y)
        {
            var c = x["t"].ToUniversalTime().CompareTo(y["t"].ToUniversalTime());
            if (c == 0) c = x["q"].ToInt64().CompareTo(y["q"].ToInt64());
            if (c == 0) c = x["o"].ToInt32().CompareTo(y["o"].ToInt32());
            return c > 0;
        }

        /// <summary>An upsert that adds these figures to the bucket (creating it with them).</summary>
        public BsonDocument Increment()
        {
            var lesser = new BsonDocument("first", _first);
            var greater = new BsonDocument { { "last", _last }, { Latest, _latest } };
            if (_min is { } min) { lesser.Add("minNum", min); greater.Add("maxNum", _max!.Value); }
            if (_minText is not null) { lesser.Add("minStr", _minText); greater.Add("maxStr", _maxText); }
            return new BsonDocument
            {
                { "$inc", new BsonDocument { { "n", _count }, { "nn", _numbers }, { "sum", _sum }, { "sumsq", _squares } } },
                { "$min", lesser },
                { "$max", greater },
            };
        }

        /// <summary>The whole bucket document.</summary>
        public BsonDocument Document(BsonDocument key)
        {
            var doc = new BsonDocument(key) { { "n", _count }, { "nn", _numbers }, { "sum", _sum }, { "sumsq", _squares } };
            if (_min is { } min) doc.AddRange(new BsonDocument { { "minNum", min }, { "maxNum", _max!.Value } });
            if (_minText is not null) doc.AddRange(new BsonDocument { { "minStr", _minText }, { "maxStr", _maxText } });
            doc.AddRange(new BsonDocument { { "first", _first }, { "last", _last }, { Latest, _latest } });
            return doc;
        }
    }

    /// <summary>The samples of <paramref name="rows"/> tallied per bucket (both granularities), in a stable order.</summary>
    private static IEnumerable<(BsonDocument Key, Tally Tally)> Tallies(IEnumerable<BsonDocument> samples)
    {
        var tallies = new Dictionary<(Series, string, DateTime), Tally>();
        var order = new List<(Series Series, string Code, DateTime Start)>();
        foreach (var row in samples)
        {
            var series = Series.Of(row);
            var time = row[MongoInstanceDocument.Observed].ToUniversalTime();
            foreach (var (granularity, code) in new[] { (BucketGranularity.Hour, Hour), (BucketGranularity.Day, Day) })
            {
                var key = (series, code, Floor(time, granularity));
                if (!tallies.TryGetValue(key, out var tally))
                {
                    tallies[key] = tally = new Tally();
                    order.Add(key);
                }
                tally.Add(row);
            }
        }
        return order.Select(k => (Key(k.Series, k.Code, k.Start), tallies[k]));
    }

    /// <summary>The bucket upserts of a write's history rows: one per touched bucket (key, update), that write's samples added up here.</summary>
    public static List<(BsonDocument Key, BsonDocument Update)> Additions(IEnumerable<BsonDocument> history) =>
        Tallies(history.Where(IsSample)).Select(t => (t.Key, t.Tally.Increment())).ToList();

    public static List<WriteModel<BsonDocument>> Upserts(IEnumerable<(BsonDocument Key, BsonDocument Update)> additions) =>
        additions.Select(a => (WriteModel<BsonDocument>)new UpdateOneModel<BsonDocument>(a.Key, a.Update) { IsUpsert = true }).ToList();

    /// <summary>The bucket documents of one day of one series (its hours and the day) from all its samples (<see cref="DayRows"/>).</summary>
    public static List<BsonDocument> Rebuilt(IEnumerable<BsonDocument> samples) => Tallies(samples).Select(t => t.Tally.Document(t.Key)).ToList();

    /// <summary><paramref name="filter"/> narrowed to samples (<see cref="IsSample"/>), so their rows need not carry the instance.</summary>
    public static BsonDocument Samples(BsonDocument filter)
    {
        var samples = new BsonDocument(filter);
        samples.Set(MongoInstanceDocument.Observed, filter.GetValue(MongoInstanceDocument.Observed, new BsonDocument("$ne", BsonNull.Value)));
        samples.Add(MongoInstanceDocument.Kind, new BsonDocument("$ne", nameof(AttributeChangeKind.Deleted)));
        samples.Add(MongoInstanceDocument.Instance, new BsonDocument("$ne", BsonNull.Value));
        return samples;
    }

    /// <summary>The visible sample rows of one day of one series (on the (e, a, obs) index): what <see cref="Rebuilt"/> reads.</summary>
    public static BsonDocument DayRows(Series series, DateTime day, BsonDocument visible)
    {
        var filter = series.Filter();
        filter.InsertAt(2, new BsonElement(MongoInstanceDocument.Observed, new BsonDocument { { "$gte", day }, { "$lt", day.AddDays(1) } }));
        filter = Samples(filter);
        filter.AddRange(visible);
        return filter;
    }

    /// <summary>The fields a rebuild reads of a sample (not the instance JSON, the bulk of a row).</summary>
    public static readonly BsonDocument SampleProjection = new()
    {
        { E, 1 }, { A, 1 }, { Ds, 1 }, { MongoInstanceDocument.Observed, 1 }, { MongoInstanceDocument.Sequence, 1 }, { MongoInstanceDocument.Order, 1 },
        { "t", 1 }, { "num", 1 }, { "str", 1 },
    };

    /// <summary>The fields that place a sample in its day.</summary>
    public static readonly BsonDocument DayProjection = new() { { E, 1 }, { A, 1 }, { Ds, 1 }, { MongoInstanceDocument.Observed, 1 } };

    /// <summary>The buckets one day of a series has (its hours and the day itself start within it).</summary>
    public static BsonDocument DayBuckets(Series series, DateTime day)
    {
        var filter = series.Filter();
        filter.Add(Start, new BsonDocument { { "$gte", day }, { "$lt", day.AddDays(1) } });
        return filter;
    }

    /// <summary>
    /// The writes that turn the stored buckets of one day (<paramref name="stored"/>) into <paramref name="wanted"/>: a
    /// replacement upsert per wanted bucket, a delete by id of every stored one no sample is left in.
    /// </summary>
    public static IEnumerable<WriteModel<BsonDocument>> Replace(IReadOnlyList<BsonDocument> stored, IReadOnlyList<BsonDocument> wanted)
    {
        static (string, DateTime) Slot(BsonDocument d) => (d[Granularity].AsString, d[Start].ToUniversalTime());
        var kept = wanted.Select(Slot).ToHashSet();
        foreach (var gone in stored.Where(d => !kept.Contains(Slot(d))))
            yield return new DeleteOneModel<BsonDocument>(new BsonDocument("_id", gone["_id"]));
        foreach (var bucket in wanted)
        {
            var key = new BsonDocument(bucket.Take(5)); // e, a, g, ds, s
            yield return new ReplaceOneModel<BsonDocument>(key, bucket) { IsUpsert = true };
        }
    }

    /// <summary>The find filter of a bucket read (on the (e, a, g, ds, s) index).</summary>
    public static BsonDocument Filter(TemporalBucketRequest request)
    {
        var filter = new BsonDocument(E, new BsonDocument("$in", new BsonArray(request.EntityIds)));
        if (request.Attributes is not null) filter.Add(A, new BsonDocument("$in", new BsonArray(request.Attributes.Order(StringComparer.Ordinal))));
        filter.Add(Granularity, Code(request.Granularity));
        if (request.DatasetIds is not null)
            filter.Add(Ds, new BsonDocument("$in", new BsonArray(request.DatasetIds.OrderBy(d => d, StringComparer.Ordinal).Select(d => (BsonValue?)d ?? BsonNull.Value))));
        var start = new BsonDocument("$gte", request.From.UtcDateTime);
        if (request.To is { } to) start.Add("$lt", to.UtcDateTime);
        filter.Add(Start, start);
        return filter;
    }

    /// <summary>Index order: entity, attribute, granularity (one per read), datasetId, start.</summary>
    public static readonly BsonDocument Order = new() { { E, 1 }, { A, 1 }, { Granularity, 1 }, { Ds, 1 }, { Start, 1 } };

    public static BucketStatistics Statistics(BsonDocument d)
    {
        double? Real(string name) => d.GetValue(name, BsonNull.Value) is { IsBsonNull: false } v ? v.ToDouble() : null;
        string? Text(string name) => d.GetValue(name, BsonNull.Value) is { IsBsonNull: false } v ? v.AsString : null;
        var latest = d.GetValue(Latest, new BsonDocument()).AsBsonDocument;
        return new BucketStatistics(d[E].AsString, d[A].AsString, d[Ds].IsBsonNull ? null : d[Ds].AsString, new DateTimeOffset(d[Start].ToUniversalTime()),
            new DateTimeOffset(d["first"].ToUniversalTime()), new DateTimeOffset(d["last"].ToUniversalTime()), latest.GetValue("y", Attr.Property).AsString,
            new PeriodFigures(d["n"].ToInt64(), 0, d["nn"].ToInt64(), d["sum"].ToDouble(), d["sumsq"].ToDouble(),
                Real("minNum"), Real("maxNum"), Text("minStr"), Text("maxStr")));
    }
}
