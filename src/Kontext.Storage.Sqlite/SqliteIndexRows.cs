using System.Text.Json;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Keeps the index tables in step with an entity, inside the write's transaction: types, attributes (with their
/// kinds), scopes, the scalar values comparisons look at, and GeoProperty bounding boxes.
/// </summary>
internal static class SqliteIndexRows
{
    private static readonly string[] EntityKeyedTables = ["entity_types", "entity_attributes", "entity_scopes", "attribute_values"];

    public static void Delete(SqliteConnection connection, string entityId)
    {
        foreach (var table in EntityKeyedTables) Execute(connection, $"DELETE FROM {table} WHERE entity_id = $id", entityId);
        Execute(connection, "DELETE FROM entity_bbox WHERE rid IN (SELECT rid FROM entity_geometries WHERE entity_id = $id)", entityId);
        Execute(connection, "DELETE FROM entity_geometries WHERE entity_id = $id", entityId);
    }

    public static void Replace(SqliteConnection connection, Entity entity, bool existed = true)
    {
        if (existed) Delete(connection, entity.Id);
        var types = Prepared(connection, "INSERT INTO entity_types(type, entity_id) VALUES($v, $id)", entity.Id, "$v");
        foreach (var type in entity.Types) Run(types, ("$v", type));
        if (entity.Scopes is not null)
        {
            var scopes = Prepared(connection, "INSERT INTO entity_scopes(scope, entity_id) VALUES($v, $id)", entity.Id, "$v");
            foreach (var scope in entity.Scopes) Run(scopes, ("$v", scope));
        }
        var attribute = Prepared(connection, "INSERT INTO entity_attributes(attr, entity_id, kinds) VALUES($a, $id, $k)", entity.Id, "$a", "$k");
        var value = Prepared(connection, "INSERT INTO attribute_values(attr, entity_id, num, str) VALUES($a, $id, $n, $s)", entity.Id, "$a", "$n", "$s");
        var geometry = Prepared(connection, "INSERT INTO entity_geometries(entity_id, attr) VALUES($id, $a) RETURNING rid", entity.Id, "$a");
        var box = Prepared(connection, "INSERT INTO entity_bbox(rid, min_x, max_x, min_y, max_y) VALUES($r, $x0, $x1, $y0, $y1)", entity.Id, "$r", "$x0", "$x1", "$y0", "$y1");
        foreach (var (name, instances) in entity.Attributes)
        {
            Run(attribute, ("$a", name), ("$k", string.Join(',', instances.Select(Attr.Type).Distinct())));
            foreach (var instance in instances)
            {
                foreach (var scalar in QEvaluator.TopLevelScalars(instance))
                {
                    if (scalar is not System.Text.Json.Nodes.JsonValue v) continue;
                    switch (v.GetValueKind())
                    {
                        case JsonValueKind.Number when JsonNumbers.TryGetDouble(v, out var number):
                            Run(value, ("$a", name), ("$n", number), ("$s", DBNull.Value));
                            break;
                        case JsonValueKind.String:
                            Run(value, ("$a", name), ("$n", DBNull.Value), ("$s", v.GetValue<string>()));
                            break;
                    }
                }
                if (Attr.Type(instance) == Attr.GeoProperty && GeoJsonGeometry.TryRead(instance["value"]) is { IsEmpty: false } shape)
                {
                    geometry.Parameters["$a"].Value = name;
                    var rid = (long)geometry.ExecuteScalar()!;
                    var envelope = shape.EnvelopeInternal;
                    Run(box, ("$r", rid), ("$x0", envelope.MinX), ("$x1", envelope.MaxX), ("$y0", envelope.MinY), ("$y1", envelope.MaxY));
                }
            }
        }
    }

    /// <summary>The statistics keys an entity contributes to: (type, "", ""), (type, attr, "*") and (type, attr, kind).</summary>
    public static HashSet<(string Type, string Attr, string Kind)> StatisticKeys(Entity? entity)
    {
        var keys = new HashSet<(string, string, string)>();
        if (entity is null) return keys;
        foreach (var type in entity.Types)
        {
            keys.Add((type, "", ""));
            foreach (var (name, instances) in entity.Attributes)
            {
                keys.Add((type, name, "*"));
                foreach (var kind in instances.Select(Attr.Type)) keys.Add((type, name, kind));
            }
        }
        return keys;
    }

    /// <summary>Applies the difference between the keys before and after a write to the counters.</summary>
    public static void UpdateStatistics(SqliteConnection connection, HashSet<(string Type, string Attr, string Kind)> before, HashSet<(string Type, string Attr, string Kind)> after)
    {
        var upsert = SqliteDatabase.Cached(connection, """
            INSERT INTO type_statistics(type, attr, kind, entities) VALUES($t, $a, $k, $d)
            ON CONFLICT(type, attr, kind) DO UPDATE SET entities = entities + excluded.entities
            """, ("$t", ""), ("$a", ""), ("$k", ""), ("$d", 0));
        var decreased = false;
        foreach (var key in after.Except(before)) Apply(upsert, key, 1);
        foreach (var key in before.Except(after)) { Apply(upsert, key, -1); decreased = true; }
        if (decreased) SqliteDatabase.Cached(connection, "DELETE FROM type_statistics WHERE entities <= 0").ExecuteNonQuery();

        static void Apply(SqliteCommand command, (string Type, string Attr, string Kind) key, int delta) =>
            Run(command, ("$t", key.Type), ("$a", key.Attr), ("$k", key.Kind), ("$d", delta));
    }

    private static void Execute(SqliteConnection connection, string sql, string entityId) =>
        SqliteDatabase.Cached(connection, sql, ("$id", entityId)).ExecuteNonQuery();

    private static SqliteCommand Prepared(SqliteConnection connection, string sql, string entityId, params string[] parameters) =>
        SqliteDatabase.Cached(connection, sql, [("$id", entityId), .. parameters.Select(name => (name, (object?)DBNull.Value))]);

    private static void Run(SqliteCommand command, params (string Name, object Value)[] values)
    {
        foreach (var (name, value) in values) command.Parameters[name].Value = value;
        command.ExecuteNonQuery();
    }
}
