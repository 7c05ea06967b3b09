using Kontext.Ngsi.Model;
using NetTopologySuite.Geometries;
using NetTopologySuite.Operation.Distance;

namespace Kontext.Ngsi.Query;

/// <summary>
/// In-memory evaluation of a <see cref="GeoQuery"/>. Topological relations use NetTopologySuite predicates on
/// longitude/latitude as planar coordinates (as GeoJSON and most stores do). <c>near</c> uses real distances in metres:
/// see <see cref="DistanceMetres"/>.
/// </summary>
public static class GeoEvaluator
{
    private const double EarthRadiusMetres = 6_371_008.8; // IUGG mean radius

    /// <summary>True when any instance of the entity's GeoProperty satisfies the relation.</summary>
    public static bool Matches(Entity entity, GeoQuery query)
    {
        if (!entity.Attributes.TryGetValue(query.GeoProperty, out var instances)) return false;
        foreach (var instance in instances)
        {
            if (Attr.Type(instance) != Attr.GeoProperty) continue;
            var geometry = GeoJsonGeometry.TryRead(instance["value"]);
            if (geometry is not null && Relates(geometry, query)) return true;
        }
        return false;
    }

    public static bool Relates(Geometry entityGeometry, GeoQuery query) => query.Relation switch
    {
        GeoRelation.Near => IsNear(entityGeometry, query.Geometry, query.MaxDistance, query.MinDistance),
        GeoRelation.Within => entityGeometry.Within(query.Geometry),
        GeoRelation.Contains => entityGeometry.Contains(query.Geometry),
        GeoRelation.Intersects => entityGeometry.Intersects(query.Geometry),
        // The same coordinates are equal even when the geometry is invalid (a self-intersecting ring), where topology cannot decide.
        GeoRelation.Equals => entityGeometry.EqualsNormalized(query.Geometry)
            || (entityGeometry.IsValid && query.Geometry.IsValid && entityGeometry.EqualsTopologically(query.Geometry)),
        GeoRelation.Disjoint => entityGeometry.Disjoint(query.Geometry),
        GeoRelation.Overlaps => entityGeometry.Overlaps(query.Geometry),
        _ => false,
    };

    private static bool IsNear(Geometry geometry, Geometry reference, double? max, double? min)
    {
        var distance = DistanceMetres(reference, geometry);
        return (max is null || distance <= max) && (min is null || distance >= min);
    }

    /// <summary>
    /// Distance in metres between two geometries, from the nearest point of one to the other (a reference line or
    /// polygon is measured from its closest point, clause 4.10). When neither is a point, the nearest points are found in
    /// the planar lon/lat plane (with the copies of <paramref name="geometry"/> one turn east and west, see
    /// <see cref="Copies"/>) and measured from one of them with <see cref="DistanceMetres(Point, Geometry)"/>.
    /// </summary>
    public static double DistanceMetres(Geometry reference, Geometry geometry)
    {
        if (reference is Point point) return DistanceMetres(point, geometry);
        if (geometry is Point other) return DistanceMetres(other, reference);
        if (reference.IsEmpty || geometry.IsEmpty) return double.PositiveInfinity;
        var envelope = reference.EnvelopeInternal;
        var distance = double.PositiveInfinity;
        foreach (var copy in Copies(geometry, envelope.MinX - 180, envelope.MaxX + 180))
        {
            if (reference.Intersects(copy)) return 0;
            var nearest = DistanceOp.NearestPoints(reference, copy);
            distance = Math.Min(distance, DistanceMetres(GeoJsonGeometry.Factory.CreatePoint(nearest[1]), reference));
        }
        return distance;
    }

    /// <summary>
    /// Great-circle distance in metres from a point to the nearest point of a geometry (0 when the geometry covers it).
    /// The nearest point is found in a local equirectangular projection centred on the query point (longitudes scaled by
    /// cos(latitude)), then the haversine distance to it is measured. The geometry is planar lon/lat, so one that crosses
    /// the antimeridian uncut goes the long way round, as for the other relations; across the antimeridian the geometry's
    /// copy one turn east or west is measured too, so a point at 179.999°E is near one at 179.999°W. This is exact for
    /// points and accurate to well under 1% for geometries within a few hundred kilometres (not within a few degrees of a
    /// pole, where the projection bends: there it can only overestimate); across continents the nearest point of a long
    /// edge can be slightly off, which only matters for distances far larger than "near" is used for.
    /// </summary>
    public static double DistanceMetres(Point point, Geometry geometry)
    {
        if (geometry.IsEmpty) return double.PositiveInfinity;
        if (geometry is Point p) return Haversine(point.X, point.Y, p.X, p.Y);
        if (geometry.Covers(point)) return 0;

        var lon0 = point.X;
        var lat0 = point.Y;
        var scale = Math.Max(Math.Cos(lat0 * Math.PI / 180), 1e-6);
        var distance = double.PositiveInfinity;
        foreach (var copy in Copies(geometry, lon0 - 180, lon0 + 180))
        {
            var projected = copy.Copy();
            projected.Apply(new ProjectFilter(c => new Coordinate((c.X - lon0) * scale, c.Y - lat0)));
            var nearest = DistanceOp.NearestPoints(projected, GeoJsonGeometry.Factory.CreatePoint(new Coordinate(0, 0)))[0];
            // A point of the geometry (its longitude perhaps a turn off, which haversine ignores): never below the true distance.
            distance = Math.Min(distance, Haversine(lon0, lat0, lon0 + nearest.X / scale, lat0 + nearest.Y));
        }
        return distance;
    }

    private static readonly double[] Turns = [0, 360, -360];

    /// <summary>
    /// The geometry and its copies one turn (360°) east and west whose longitudes reach into [<paramref name="west"/>,
    /// <paramref name="east"/>]: where something within half a turn of a reference may lie. Far from the antimeridian,
    /// only the geometry itself.
    /// </summary>
    private static IEnumerable<Geometry> Copies(Geometry geometry, double west, double east)
    {
        var envelope = geometry.EnvelopeInternal;
        foreach (var turn in Turns)
        {
            if (envelope.MaxX + turn < west || envelope.MinX + turn > east) continue;
            if (turn == 0) { yield return geometry; continue; }
            var copy = geometry.Copy();
            copy.Apply(new ProjectFilter(c => new Coordinate(c.X + turn, c.Y)));
            yield return copy;
        }
    }

    public static double Haversine(double lon1, double lat1, double lon2, double lat2)
    {
        static double Rad(double d) => d * Math.PI / 180;
        var dLat = Rad(lat2 - lat1);
        var dLon = Rad(lon2 - lon1);
        var a = Math.Sin(dLat / 2) * Math.Sin(dLat / 2) + Math.Cos(Rad(lat1)) * Math.Cos(Rad(lat2)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * EarthRadiusMetres * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    private sealed class ProjectFilter(Func<Coordinate, Coordinate> project) : IEntireCoordinateSequenceFilter
    {
        public bool Done => false;
        public bool GeometryChanged => true;

        public void Filter(CoordinateSequence seq)
        {
            for (var i = 0; i < seq.Count; i++)
            {
                var c = project(seq.GetCoordinate(i));
                seq.SetX(i, c.X);
                seq.SetY(i, c.Y);
            }
        }
    }
}
