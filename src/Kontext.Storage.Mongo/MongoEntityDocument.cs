using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using MongoDB.Bson;
using NetTopologySuite.Geometries;

namespace Kontext.Storage.Mongo;

/// <summary>
/// The stored entity document:
/// <code>
/// { _id: entityId, seq: creation sequence (stable paging order), v: version (optimistic concurrency),
///   type: [IRI], scope: [..], createdAt: Date, modifiedAt: Date,
///   attrs: { &lt;encoded IRI&gt;: [instance, ...] },          the entity as stored (keys encoded)
///   names: [&lt;encoded IRI&gt;],                             attribute existence (multikey index)
///   vals:  { &lt;encoded IRI&gt;: [scalar, ...] },           what a top-level q comparison sees (wildcard index)
///   geo:   { &lt;encoded IRI&gt;: GeoJSON },                  GeoProperty geometries MongoDB can index (2dsphere)
///   geoUnindexed: [&lt;encoded IRI&gt;] }                     GeoProperties whose geometry S2 would reject or read apart (long edges)
/// </code>
/// names/vals/geo are derived on every write; queries use them as necessary conditions and the evaluator decides.
/// A write the 2dsphere index refuses ("Can't extract geo keys": S2 rejects a geometry NetTopologySuite accepts) is written
/// again with <c>indexGeometry</c> false: every GeoProperty then goes to geoUnindexed, which every geo pre-filter lets through.
/// </summary>
public static class MongoEntityDocument
{
    public const string Attrs = "attrs", Names = "names", Vals = "vals", Geo = "geo", GeoUnindexed = "geoUnindexed";

    public static BsonDocument ToBson(Entity entity, long seq, long version, bool indexGeometry = true)
    {
        var attrs = new BsonDocument();
        var vals = new BsonDocument();
        var geo = new BsonDocument();
        var unindexed = new BsonArray();
        foreach (var (name, instances) in entity.Attributes)
        {
            var key = MongoKeys.Encode(name);
            attrs.Add(key, new BsonArray(instances.Select(i => (BsonValue)MongoJson.ToBson(i))));
            var scalars = new BsonArray(instances.SelectMany(QEvaluator.TopLevelScalars).Select(MongoJson.ToBson).Where(s => !s.IsBsonNull).Distinct());
            if (scalars.Count > 0) vals.Add(key, scalars);
            var (geometry, rejected) = Geometries(instances);
            if (geometry is not null && indexGeometry) geo.Add(key, geometry);
            if (rejected || (geometry is not null && !indexGeometry)) unindexed.Add(key);
        }
        var doc = new BsonDocument
        {
            { "_id", entity.Id },
            { "seq", seq },
            { "v", version },
            { "type", new BsonArray(entity.Types) },
        };
        if (entity.Scopes is { Count: > 0 } scopes) doc.Add("scope", new BsonArray(scopes));
        doc.Add("createdAt", new BsonDateTime(entity.CreatedAt.UtcDateTime));
        doc.Add("modifiedAt", new BsonDateTime(entity.ModifiedAt.UtcDateTime));
        if (entity.ExpiresAt is { } expiresAt) doc.Add("expiresAt", new BsonDateTime(expiresAt.UtcDateTime));
        doc.Add(Attrs, attrs);
        doc.Add(Names, new BsonArray(attrs.Names));
        doc.Add(Vals, vals);
        doc.Add(Geo, geo);
        if (unindexed.Count > 0) doc.Add(GeoUnindexed, unindexed);
        return doc;
    }

    /// <summary>
    /// The update that turns the stored <paramref name="before"/> into <paramref name="after"/>: <c>$set</c> of the fields
    /// that differ and <c>$unset</c> of those gone, per attribute inside attrs/vals/geo (keys are encoded, so a dotted
    /// path is safe). A one-attribute PATCH then sends and logs (oplog) that attribute, not the whole entity.
    /// </summary>
    public static BsonDocument Changes(BsonDocument before, BsonDocument after)
    {
        var set = new BsonDocument();
        var unset = new BsonDocument();
        foreach (var field in after)
        {
            if (field.Name == "_id") continue;
            if (field.Name is Attrs or Vals or Geo && field.Value is BsonDocument changed && before.TryGetValue(field.Name, out var old) && old is BsonDocument stored)
            {
                foreach (var element in changed)
                    if (!stored.TryGetValue(element.Name, out var was) || !was.Equals(element.Value)) set.Add($"{field.Name}.{element.Name}", element.Value);
                foreach (var element in stored)
                    if (!changed.Contains(element.Name)) unset.Add($"{field.Name}.{element.Name}", "");
                continue;
            }
            if (!before.TryGetValue(field.Name, out var previous) || !previous.Equals(field.Value)) set.Add(field.Name, field.Value);
        }
        foreach (var field in before)
            if (!after.Contains(field.Name)) unset.Add(field.Name, "");
        var update = new BsonDocument();
        if (set.ElementCount > 0) update.Add("$set", set);
        if (unset.ElementCount > 0) update.Add("$unset", unset);
        return update;
    }

    /// <summary>
    /// The fields <see cref="FromBson"/> reads (and <c>_id</c>, always returned): a read that only rebuilds the entity leaves the
    /// derived names, vals and geo on the server.
    /// </summary>
    public static readonly BsonDocument Stored = new() { { "type", 1 }, { "scope", 1 }, { "createdAt", 1 }, { "modifiedAt", 1 }, { "expiresAt", 1 }, { Attrs, 1 } };

    public static Entity FromBson(BsonDocument doc)
    {
        var entity = new Entity(doc["_id"].AsString)
        {
            Types = doc["type"].AsBsonArray.Select(t => t.AsString).ToList(),
            Scopes = doc.TryGetValue("scope", out var scope) ? scope.AsBsonArray.Select(s => s.AsString).ToList() : null,
            CreatedAt = new DateTimeOffset(doc["createdAt"].ToUniversalTime()),
            ModifiedAt = new DateTimeOffset(doc["modifiedAt"].ToUniversalTime()),
            ExpiresAt = doc.TryGetValue("expiresAt", out var expiresAt) ? new DateTimeOffset(expiresAt.ToUniversalTime()) : null,
        };
        foreach (var element in doc[Attrs].AsBsonDocument)
            entity.Attributes[MongoKeys.Decode(element.Name)] = element.Value.AsBsonArray.Select(i => MongoJson.ToJson(i.AsBsonDocument)).ToList();
        return entity;
    }

    /// <summary>
    /// The GeoProperty instances' geometries as one indexable GeoJSON value (a GeometryCollection for several datasetIds),
    /// and whether some instance had a geometry S2 rejects (self-intersecting rings and the like) or reads apart from the planar
    /// evaluator (long edges, <see cref="MongoGeoEdges"/>): such attributes are listed in geoUnindexed so geo pre-filters still
    /// let the entity through to the exact in-memory check.
    /// </summary>
    private static (BsonDocument? Geometry, bool Rejected) Geometries(List<JsonObject> instances)
    {
        var parts = new List<BsonDocument>();
        var rejected = false;
        foreach (var instance in instances)
        {
            if (Attr.Type(instance) != Attr.GeoProperty) continue;
            var value = instance["value"];
            var geometry = GeoJsonGeometry.TryRead(value);
            if (geometry is null) continue; // the evaluator ignores it too
            if (!geometry.IsValid || geometry is GeometryCollection { NumGeometries: 0 } || MongoGeoEdges.ReadApart(geometry)) { rejected = true; continue; }
            parts.Add(WithoutRepeatedPositions(MongoJson.ToBson(value).AsBsonDocument));
        }
        return parts.Count switch
        {
            0 => (null, rejected),
            1 => (parts[0], rejected),
            _ => (new BsonDocument { { "type", "GeometryCollection" }, { "geometries", new BsonArray(parts.SelectMany(Flatten)) } }, rejected),
        };
    }

    private static IEnumerable<BsonDocument> Flatten(BsonDocument geometry) =>
        geometry["type"] == "GeometryCollection" ? geometry["geometries"].AsBsonArray.Select(g => g.AsBsonDocument) : [geometry];

    /// <summary>S2 rejects consecutive duplicate vertices that GeoJSON allows; the indexed copy drops them.</summary>
    private static BsonDocument WithoutRepeatedPositions(BsonDocument geometry)
    {
        var copy = geometry.DeepClone().AsBsonDocument;
        if (copy.TryGetValue("coordinates", out var coordinates)) copy["coordinates"] = Dedupe(coordinates);
        if (copy.TryGetValue("geometries", out var geometries))
            copy["geometries"] = new BsonArray(geometries.AsBsonArray.Select(g => WithoutRepeatedPositions(g.AsBsonDocument)));
        return copy;
    }

    private static BsonValue Dedupe(BsonValue node)
    {
        if (node is not BsonArray array || array.Count == 0) return node;
        if (array[0].IsNumeric) return new BsonArray(array.Take(2)); // a position: longitude, latitude (altitude dropped)
        var items = array.Select(Dedupe).ToList();
        if (!items[0].AsBsonArray[0].IsNumeric) return new BsonArray(items);
        var result = new BsonArray();
        foreach (var position in items)
            if (result.Count == 0 || !result[^1].Equals(position)) result.Add(position);
        return result;
    }
}
