using Kontext.Ngsi.Query;
using MongoDB.Bson;
using NetTopologySuite.Geometries;

namespace Kontext.Storage.Mongo;

/// <summary>
/// geoQ (clause 4.10) → a necessary MongoDB condition on geo.&lt;geoproperty&gt; (2dsphere). MongoDB measures on the sphere
/// with geodesic edges while the evaluator (NetTopologySuite) relates lon/lat planar geometries, so no relation is pushed
/// down verbatim; each becomes a superset the evaluator then narrows:
/// <list type="bullet">
/// <item>near with maxDistance: $geoIntersects the box around the reference geometry's box (the distance widened by 1% + 10 m, latitude
/// degrees counted as 110 km, longitude degrees shrunk by the cosine of the farthest latitude), so a geometry with a point
/// within the distance passes; not $nearSphere, which sorts by distance (pages are in creation order), needs a 2dsphere
/// index, may not sit in an $or and is refused in counts and $match ($match → Restrictions);</item>
/// <item>near with only minDistance: the GeoProperty must have a geometry;</item>
/// <item>within, equals: $geoWithin the query geometry's bounding box, widened by 0.001° and densified every 0.1°
/// so its geodesic edges enclose the planar box;</item>
/// <item>intersects, contains, overlaps: $geoIntersects the same box (each of these implies planar intersection);</item>
/// <item>disjoint, and boxes that span the antimeridian or reach the poles: the GeoProperty must have a geometry.</item>
/// </list>
/// Entities whose geometry S2 cannot index (geoUnindexed) always pass to the evaluator.
/// </summary>
public static class MongoGeoTranslator
{
    internal const double Margin = 0.001;     // degrees added around the box
    private const double Step = 0.1;          // degrees between densified vertices

    public static BsonDocument Translate(GeoQuery geo)
    {
        var key = MongoKeys.Encode(geo.GeoProperty);
        var field = MongoEntityDocument.Geo + "." + key;
        var unindexed = new BsonDocument(MongoEntityDocument.GeoUnindexed, key);
        var box = geo.Relation switch
        {
            GeoRelation.Disjoint => null,
            GeoRelation.Near => geo.MaxDistance is { } max ? Box(NearEnvelope(geo.Geometry.EnvelopeInternal, max * 1.01 + 10)) : null,
            _ => Box(geo.Geometry.EnvelopeInternal),
        };
        if (box is null)
            return MongoQueryTranslator.Or([new BsonDocument(field, new BsonDocument("$exists", true)), unindexed]);
        var op = geo.Relation is GeoRelation.Within or GeoRelation.Equals ? "$geoWithin" : "$geoIntersects";
        return MongoQueryTranslator.Or([new BsonDocument(field, new BsonDocument(op, new BsonDocument("$geometry", box))), unindexed]);
    }

    /// <summary>Longitude/latitude bounds of every point within <paramref name="metres"/> of the reference's bounding box (great-circle distance).</summary>
    internal static Envelope NearEnvelope(Envelope reference, double metres)
    {
        var dLat = metres / 110_000.0;
        var farthest = Math.Min(90, Math.Max(Math.Abs(reference.MinY - dLat), Math.Abs(reference.MaxY + dLat)));
        var cos = Math.Cos(farthest * Math.PI / 180);
        var dLon = cos < 1e-9 ? 360 : metres / (110_000.0 * cos);
        return new Envelope(reference.MinX - dLon, reference.MaxX + dLon, reference.MinY - dLat, reference.MaxY + dLat);
    }

    /// <summary>The widened, densified bounding box as a GeoJSON Polygon; null when it would wrap or touch a pole.</summary>
    internal static BsonDocument? Box(Envelope e)
    {
        double minX = e.MinX - Margin, maxX = e.MaxX + Margin, minY = e.MinY - Margin, maxY = e.MaxY + Margin;
        if (minX < -180 || maxX > 180 || minY < -85 || maxY > 85 || maxX - minX >= 180) return null;
        var ring = new BsonArray();
        void Edge(double x0, double y0, double x1, double y1)
        {
            var steps = Math.Max(1, (int)Math.Ceiling(Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0)) / Step));
            for (var i = 0; i < steps; i++)
                ring.Add(new BsonArray { Round(x0 + (x1 - x0) * i / steps), Round(y0 + (y1 - y0) * i / steps) });
        }
        Edge(minX, minY, maxX, minY);
        Edge(maxX, minY, maxX, maxY);
        Edge(maxX, maxY, minX, maxY);
        Edge(minX, maxY, minX, minY);
        ring.Add(ring[0]);
        return new BsonDocument { { "type", "Polygon" }, { "coordinates", new BsonArray { ring } } };
    }

    private static double Round(double d) => Math.Round(d, 9, MidpointRounding.AwayFromZero);
}
