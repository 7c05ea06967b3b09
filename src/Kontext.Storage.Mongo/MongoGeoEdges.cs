using NetTopologySuite.Geometries;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Whether S2 (great-circle edges) and the evaluator (planar lon/lat edges) read a geometry's edges materially apart, so
/// the 2dsphere pre-filter could drop an entity the evaluator matches; such geometries are stored unindexed.
/// <list type="bullet">
/// <item>An edge spanning 180° of longitude or more: the planar reading goes the other way round the globe (an uncut
/// LineString from 179.9°E to 179.9°W crosses Greenwich), S2 takes the short way.</item>
/// <item>An edge whose great-circle arc strays more than half the pre-filter box margin (<see cref="MongoGeoTranslator.Margin"/>,
/// in degrees like the box) from its planar segment, compared at its quarter points: the box is widened by the margin, so
/// an arc within half of it still reaches every box its planar edge reaches, with room for the spread between samples. An edge along
/// the 45th parallel strays Δλ²/16 radians poleward: about 0.7° of longitude (≈ 55 km) is the limit there, a 10 km edge strays 2 m;
/// near the equator and along meridians far longer edges stay indexed.</item>
/// </list>
/// Points have no edges and are always indexed.
/// </summary>
internal static class MongoGeoEdges
{
    private const double Tolerance = MongoGeoTranslator.Margin / 2;

    public static bool ReadApart(Geometry geometry) => geometry switch
    {
        LineString line => Edges(line.CoordinateSequence).Any(e => Apart(e.A, e.B)),
        Polygon polygon => ReadApart(polygon.ExteriorRing) || polygon.InteriorRings.Any(ReadApart),
        GeometryCollection collection => collection.Geometries.Any(ReadApart),
        _ => false,
    };

    private static IEnumerable<(Coordinate A, Coordinate B)> Edges(CoordinateSequence sequence)
    {
        for (var i = 1; i < sequence.Count; i++) yield return (sequence.GetCoordinate(i - 1), sequence.GetCoordinate(i));
    }

    private static bool Apart(Coordinate a, Coordinate b)
    {
        if (Math.Abs(b.X - a.X) >= 180) return true;
        var (u, v) = (Unit(a), Unit(b));
        var omega = Math.Acos(Math.Clamp(u.X * v.X + u.Y * v.Y + u.Z * v.Z, -1, 1));
        if (omega < 1e-12) return false; // a repeated vertex
        var sin = Math.Sin(omega);
        if (sin < 1e-9) return true; // antipodal ends (pole to pole): no single great circle
        for (var quarter = 1; quarter <= 3; quarter++)
        {
            var t = quarter / 4.0;
            double s = Math.Sin((1 - t) * omega) / sin, r = Math.Sin(t * omega) / sin;
            double x = s * u.X + r * v.X, y = s * u.Y + r * v.Y, z = s * u.Z + r * v.Z;
            var lat = Math.Atan2(z, Math.Sqrt(x * x + y * y)) * 180 / Math.PI;
            var lon = Math.Atan2(y, x) * 180 / Math.PI;
            var dLon = Math.Abs(lon - (a.X + (b.X - a.X) * t)) % 360;
            if (Math.Abs(lat - (a.Y + (b.Y - a.Y) * t)) > Tolerance || Math.Min(dLon, 360 - dLon) > Tolerance) return true;
        }
        return false;
    }

    private static (double X, double Y, double Z) Unit(Coordinate c)
    {
        double lon = c.X * Math.PI / 180, lat = c.Y * Math.PI / 180;
        return (Math.Cos(lat) * Math.Cos(lon), Math.Cos(lat) * Math.Sin(lon), Math.Sin(lat));
    }
}
