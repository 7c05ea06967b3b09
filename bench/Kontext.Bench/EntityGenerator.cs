using System.Globalization;
using System.Text.Json;

namespace Kontext.Bench;

/// <summary>One generated entity, as much of it as the checks need.</summary>
internal readonly record struct GeneratedEntity(string Id, string Type, double Lon, double Lat, double No2);

/// <summary>
/// Deterministic test data: entities of four smart-city types, round-robin, each with a few numeric Properties
/// (unitCode, observedAt) and a location Point uniformly distributed in a disc of 10 km around Madrid's centre.
/// </summary>
internal sealed class EntityGenerator
{
    public const double CentreLon = -3.7038;
    public const double CentreLat = 40.4168;
    public const double RadiusMetres = 10_000;
    public static readonly string[] Types = ["AirQualityObserved", "WeatherObserved", "ParkingSpot", "WasteContainer"];

    private static readonly DateTimeOffset BaseTime = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Random _random;

    public EntityGenerator(int seed) => _random = new Random(seed);

    public List<GeneratedEntity> Entities { get; } = [];

    /// <summary>The bench's data set: <paramref name="entities"/> entities as upsert batches of <paramref name="batchSize"/>, from one seed.</summary>
    public static (EntityGenerator Generator, List<byte[]> Batches) DataSet(int entities, int batchSize)
    {
        var generator = new EntityGenerator(seed: 20250101);
        var batches = new List<byte[]>();
        for (var first = 0; first < entities; first += batchSize)
            batches.Add(generator.Batch(first, Math.Min(batchSize, entities - first)));
        return (generator, batches);
    }

    /// <summary>A batch (JSON array) of entities numbered from <paramref name="first"/>.</summary>
    public byte[] Batch(int first, int count)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(count * 900);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            for (var i = first; i < first + count; i++) WriteEntity(w, i);
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// New readings of the generated entities, as batches of <paramref name="batchSize"/>: the same ids, types and
    /// locations, other values observed <paramref name="round"/> days later (an upsert or update of existing entities).
    /// </summary>
    public List<byte[]> Readings(int round, int batchSize)
    {
        var random = new Random(20250101 + round);
        var batches = new List<byte[]>();
        for (var first = 0; first < Entities.Count; first += batchSize)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(batchSize * 900);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartArray();
                for (var i = first; i < Math.Min(Entities.Count, first + batchSize); i++)
                    WriteEntity(w, i, random, BaseTime.AddDays(round), (Entities[i].Lon, Entities[i].Lat));
                w.WriteEndArray();
            }
            batches.Add(buffer.WrittenSpan.ToArray());
        }
        return batches;
    }

    private void WriteEntity(Utf8JsonWriter w, int index)
    {
        var (lon, lat, no2) = WriteEntity(w, index, _random, BaseTime, null);
        Entities.Add(new GeneratedEntity($"urn:ngsi-ld:{Types[index % Types.Length]}:{index:D7}", Types[index % Types.Length], lon, lat, no2));
    }

    private static (double Lon, double Lat, double No2) WriteEntity(Utf8JsonWriter w, int index, Random random, DateTimeOffset baseTime, (double Lon, double Lat)? place)
    {
        var type = Types[index % Types.Length];
        var id = $"urn:ngsi-ld:{type}:{index:D7}";
        var observedAt = baseTime.AddSeconds(random.Next(0, 30 * 24 * 3600)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var (lon, lat) = place ?? RandomPoint(random, RadiusMetres);
        double no2 = double.NaN;

        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", type);
        switch (type)
        {
            case "AirQualityObserved":
                no2 = Round(random.NextDouble() * 120);
                Number(w, "no2", no2, "GQ", observedAt);
                Number(w, "pm10", Round(random.NextDouble() * 80), "GQ", observedAt);
                Number(w, "o3", Round(random.NextDouble() * 180), "GQ", observedAt);
                break;
            case "WeatherObserved":
                Number(w, "temperature", Round(-5 + random.NextDouble() * 45), "CEL", observedAt);
                Number(w, "relativeHumidity", Round(random.NextDouble() * 100), "P1", observedAt);
                Number(w, "windSpeed", Round(random.NextDouble() * 20), "MTS", observedAt);
                break;
            case "ParkingSpot":
                w.WriteStartObject("status");
                w.WriteString("type", "Property");
                w.WriteString("value", random.Next(2) == 0 ? "free" : "occupied");
                w.WriteString("observedAt", observedAt);
                w.WriteEndObject();
                Number(w, "width", Round(2 + random.NextDouble()), "MTR", observedAt);
                Number(w, "length", Round(4 + random.NextDouble() * 2), "MTR", observedAt);
                break;
            default:
                Number(w, "fillingLevel", Round(random.NextDouble()), "C62", observedAt);
                Number(w, "temperature", Round(-5 + random.NextDouble() * 45), "CEL", observedAt);
                Number(w, "weight", Round(random.NextDouble() * 300), "KGM", observedAt);
                break;
        }
        w.WriteStartObject("location");
        w.WriteString("type", "GeoProperty");
        w.WriteStartObject("value");
        w.WriteString("type", "Point");
        w.WriteStartArray("coordinates");
        w.WriteNumberValue(lon);
        w.WriteNumberValue(lat);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        return (lon, lat, no2);
    }

    private static void Number(Utf8JsonWriter w, string name, double value, string unitCode, string observedAt)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "Property");
        w.WriteNumber("value", value);
        w.WriteString("unitCode", unitCode);
        w.WriteString("observedAt", observedAt);
        w.WriteEndObject();
    }

    private static double Round(double value) => Math.Round(value, 2);

    /// <summary>A point uniformly distributed in a disc around the centre (local equirectangular approximation).</summary>
    public static (double Lon, double Lat) RandomPoint(Random random, double radiusMetres)
    {
        var r = radiusMetres * Math.Sqrt(random.NextDouble());
        var theta = random.NextDouble() * 2 * Math.PI;
        var lat = CentreLat + r * Math.Sin(theta) / 110_574.0;
        var lon = CentreLon + r * Math.Cos(theta) / (111_320.0 * Math.Cos(CentreLat * Math.PI / 180));
        return (Math.Round(lon, 7), Math.Round(lat, 7));
    }

    /// <summary>Great-circle distance, the same formula and radius as the broker's near (GeoEvaluator.Haversine).</summary>
    public static double Haversine(double lon1, double lat1, double lon2, double lat2)
    {
        const double R = 6_371_008.8;
        static double Rad(double d) => d * Math.PI / 180;
        var dLat = Rad(lat2 - lat1);
        var dLon = Rad(lon2 - lon1);
        var a = Math.Sin(dLat / 2) * Math.Sin(dLat / 2) + Math.Cos(Rad(lat1)) * Math.Cos(Rad(lat2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * R * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }
}
