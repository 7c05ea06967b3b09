using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// Keeps the index tables in step with an entity, inside the write's transaction: types, attributes (with their
/// kinds), scopes, the scalar values comparisons look at, and GeoProperty bounding boxes. A write changes only the
/// rows of what it changed (<see cref="Update"/>), so an update costs by its size, not the entity's.
/// </summary>
internal static class SqliteIndexRows
{
    private static readonly string[] EntityKeyedTables = ["entity_types", "entity_attributes", "entity_scopes", "attribute_values", "entity_cells"];

    /// <param name="ek">The entity's integer key (<c>entities.ek</c>), which its index rows carry.</param>
    public static void Delete(SqliteConnection connection, long ek)
    {
        foreach (var table in EntityKeyedTables) Execute(connection, $"DELETE FROM {table} WHERE ek = $id", ek);
        Execute(connection, "DELETE FROM entity_bbox WHERE rid IN (SELECT rid FROM entity_geometries WHERE ek = $id)", ek);
        Execute(connection, "DELETE FROM entity_geometries WHERE ek = $id", ek);
    }

    /// <summary>
    /// What an entity's index rows are derived from: its types, scopes and, per attribute, a fingerprint of each kind of
    /// row (one that <see cref="CaptureAround"/> left unread compares equal to itself and holds the kinds only).
    /// </summary>
    public sealed record IndexedState(HashSet<string> Types, HashSet<string> Scopes, Dictionary<string, AttributeFingerprint> Attributes);

    /// <summary>
    /// An entity as it was before a write decision (which may change it in place), its fingerprints not yet read: the
    /// types, scopes and each attribute's kinds (all a deletion's statistics need) and, by reference, its instances.
    /// </summary>
    public sealed class CapturedEntity(HashSet<string> types, HashSet<string> scopes, Dictionary<string, (string Kinds, JsonObject[] Instances)> attributes)
    {
        public HashSet<string> Types { get; } = types;
        public HashSet<string> Scopes { get; } = scopes;
        /// <summary>Each attribute's kinds and its instances (one map: a write captures every attribute of the entity).</summary>
        public Dictionary<string, (string Kinds, JsonObject[] Instances)> Attributes { get; } = attributes;
#if DEBUG
        /// <summary>The fingerprints read before the decision, which <see cref="CaptureAround"/> checks its own against.</summary>
        public Dictionary<string, AttributeFingerprint>? Before { get; init; }
#endif

        /// <summary>The state before with only the kinds (a deletion's statistics).</summary>
        public IndexedState KindsOnly() =>
            new(Types, Scopes, Attributes.ToDictionary(k => k.Key, k => Unread(k.Value.Kinds), StringComparer.Ordinal));
    }

    /// <summary>
    /// Equal fingerprints mean equal rows: the kinds row, the scalar value rows, the geometry rows of one attribute. The
    /// value rows are the rows themselves, so a write that changes them inserts what it compared, without a second walk.
    /// </summary>
    public readonly record struct AttributeFingerprint(string Kinds, ValueRows Values, string Geometry);

    /// <summary>
    /// An attribute's value rows (its top-level numbers and strings, in instance order), equal when every row is: a
    /// number by its bits (so 0 and -0 differ, as their stored values do), a text ordinally.
    /// </summary>
    public readonly struct ValueRows(ValueRow[] rows) : IEquatable<ValueRows>
    {
        private readonly ValueRow[] _rows = rows;

        public ReadOnlySpan<ValueRow> Rows => _rows;
        public int Count => _rows?.Length ?? 0;

        public bool Equals(ValueRows other)
        {
            var mine = Rows;
            var theirs = other.Rows;
            if (mine.Length != theirs.Length) return false;
            for (var i = 0; i < mine.Length; i++)
            {
                if (mine[i].Number is { } n ? theirs[i].Number is not { } m || BitConverter.DoubleToInt64Bits(n) != BitConverter.DoubleToInt64Bits(m) : theirs[i].Number is not null)
                    return false;
                if (!string.Equals(mine[i].Text, theirs[i].Text, StringComparison.Ordinal)) return false;
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is ValueRows other && Equals(other);
        public override int GetHashCode() => Count;
        public static bool operator ==(ValueRows left, ValueRows right) => left.Equals(right);
        public static bool operator !=(ValueRows left, ValueRows right) => !left.Equals(right);
    }

    /// <summary>One attribute_values row of an attribute: a number or a text.</summary>
    public readonly record struct ValueRow(double? Number, string? Text);

    public static IndexedState? Capture(Entity? entity)
    {
        if (entity is null) return null;
        var attributes = new Dictionary<string, AttributeFingerprint>(entity.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, instances) in entity.Attributes) attributes[name] = Fingerprint(instances);
        return new IndexedState(entity.Types.ToHashSet(StringComparer.Ordinal), (entity.Scopes ?? []).ToHashSet(StringComparer.Ordinal), attributes);
    }

    /// <summary>
    /// The entity before a write decision, for <see cref="CaptureAround"/> after it: copies of what the decision may
    /// change in place (the types, scopes, instance lists and kinds), no value or geometry read yet.
    /// </summary>
    public static CapturedEntity? CaptureInstances(Entity? entity)
    {
        if (entity is null) return null;
        var attributes = new Dictionary<string, (string, JsonObject[])>(entity.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, list) in entity.Attributes) attributes[name] = (Kinds(list), [.. list]);
        return new CapturedEntity(entity.Types.ToHashSet(StringComparer.Ordinal), (entity.Scopes ?? []).ToHashSet(StringComparer.Ordinal), attributes)
        {
#if DEBUG
            // Every test runs the debug build: it reads the fingerprints before the decision too, to check those read after.
            Before = Capture(entity)!.Attributes,
#endif
        };
    }

    /// <summary>
    /// The indexed states before and after a decision that replaced every instance it changed and edited none
    /// (<c>EntityWrite.ReplacesInstances</c>), <paramref name="before"/> captured before it: an attribute whose list
    /// still holds the same instances, in their order, is left unread on both sides (equal, with its kinds), and the
    /// others are fingerprinted from the instances before and after. A PATCH of one attribute reads that attribute
    /// alone. The unread fingerprints suit the staged delta (<see cref="UpdatedEntityRows"/>) and the statistics, which
    /// skip equal attributes; <paramref name="unchangedUnread"/> false reads them too (for <see cref="Update"/>).
    /// </summary>
    public static (IndexedState Before, IndexedState After) CaptureAround(CapturedEntity before, Entity after, bool unchangedUnread)
    {
        var old = new Dictionary<string, AttributeFingerprint>(before.Attributes.Count, StringComparer.Ordinal);
        var now = new Dictionary<string, AttributeFingerprint>(after.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, (kinds, instances)) in before.Attributes)
        {
            if (after.Attributes.TryGetValue(name, out var list) && CollectionsMarshal.AsSpan(list).SequenceEqual(instances, ReferenceEqualityComparer.Instance))
                old[name] = now[name] = unchangedUnread ? Unread(kinds) : Fingerprint(instances);
            else old[name] = Fingerprint(instances);
#if DEBUG
            if (Fingerprint(instances) != before.Before![name] || kinds != before.Before[name].Kinds)
                throw new InvalidOperationException($"A write decision changed an instance of '{name}' in place but said it replaces instances");
#endif
        }
        foreach (var (name, instances) in after.Attributes)
            if (!now.ContainsKey(name)) now[name] = Fingerprint(instances);
        return (new IndexedState(before.Types, before.Scopes, old), new IndexedState(SameOr(before.Types, after.Types), SameOr(before.Scopes, after.Scopes), now));
    }

    /// <summary>
    /// The set of <paramref name="items"/>: <paramref name="before"/> itself when it holds the same names (the usual
    /// write keeps the entity's types and scopes; indexed states only read their sets), else a new one.
    /// </summary>
    private static HashSet<string> SameOr(HashSet<string> before, List<string>? items) =>
        items is null ? (before.Count == 0 ? before : new HashSet<string>(StringComparer.Ordinal))
        : before.SetEquals(items) ? before : items.ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The fingerprint of an attribute left as it was, not read: its kinds, and a geometry no read one has (a read one is
    /// empty or ends in a separator), so it equals only itself.
    /// </summary>
    private static AttributeFingerprint Unread(string kinds) => new(kinds, default, UnreadGeometry);

    private const string UnreadGeometry = "\u0000unread";

    private static AttributeFingerprint Fingerprint(IReadOnlyList<JsonObject> instances)
    {
        var hasGeometry = false;
        for (var i = 0; i < instances.Count; i++) hasGeometry |= Attr.Type(instances[i]) == Attr.GeoProperty;
        var values = ValueRowsOf(instances);
        var geometry = "";
        if (hasGeometry)
        {
            // One builder per thread: a write fingerprints every attribute before and after.
            var text = t_fingerprint ??= new StringBuilder(256);
            text.Clear();
            for (var i = 0; i < instances.Count; i++)
                if (Attr.Type(instances[i]) == Attr.GeoProperty) text.Append(instances[i]["value"]?.ToJsonString()).Append('\u001f');
            geometry = text.ToString();
            if (text.Capacity > 64 * 1024) t_fingerprint = null; // a large attribute's builder is not kept
        }
        return new AttributeFingerprint(Kinds(instances), new ValueRows(values), geometry);
    }

    [ThreadStatic] private static StringBuilder? t_fingerprint;

    private static string Kinds(IReadOnlyList<JsonObject> instances) =>
        instances.Count == 1 ? Attr.Type(instances[0]) : string.Join(',', instances.Select(Attr.Type).Distinct());

    /// <summary>
    /// The rows the value index holds for these instances: their top-level numbers and strings, in instance order, in an
    /// array of their count (the usual attribute's one row allocates that one row).
    /// </summary>
    private static ValueRow[] ValueRowsOf(IReadOnlyList<JsonObject> instances)
    {
        // Scratch lists per thread: every attribute of every entity written is read here, often twice.
        var scalars = t_scalars ??= [];
        var rows = t_rows ??= [];
        try
        {
            for (var i = 0; i < instances.Count; i++)
            {
                scalars.Clear();
                QEvaluator.AddTopLevelScalars(instances[i], scalars);
                foreach (var scalar in scalars)
                {
                    if (scalar is not JsonValue v) continue;
                    switch (v.GetValueKind())
                    {
                        case JsonValueKind.Number when JsonNumbers.TryGetDouble(v, out var number):
                            rows.Add(new ValueRow(number, null));
                            break;
                        case JsonValueKind.String:
                            rows.Add(new ValueRow(null, v.GetValue<string>()));
                            break;
                    }
                }
            }
            return rows.Count == 0 ? [] : rows.ToArray();
        }
        finally
        {
            // Nothing of the entity is kept past the call; a large attribute's lists are not kept at all.
            if (scalars.Capacity > 1024) t_scalars = null; else scalars.Clear();
            if (rows.Capacity > 1024) t_rows = null; else rows.Clear();
        }
    }

    [ThreadStatic] private static List<JsonNode>? t_scalars;
    [ThreadStatic] private static List<ValueRow>? t_rows;

    /// <summary>
    /// Brings the index rows from <paramref name="before"/> (null: the entity is new) to <paramref name="entity"/>,
    /// touching only the rows of what changed: a PATCH of one attribute rewrites that attribute's value rows, nothing else.
    /// </summary>
    /// <returns>The entity's indexed state now, for the statistics (<see cref="UpdateStatistics(SqliteConnection, IndexedState?, IndexedState?)"/>).</returns>
    public static IndexedState Update(SqliteConnection connection, long id, IndexedState? before, Entity entity)
    {
        var now = Capture(entity)!;
        if (before is null || !before.Types.SetEquals(entity.Types))
        {
            if (before is not null) Execute(connection, "DELETE FROM entity_types WHERE ek = $id", id);
            var types = Prepared(connection, "INSERT INTO entity_types(type, ek) VALUES($v, $id)", id, "$v");
            foreach (var type in entity.Types.Distinct(StringComparer.Ordinal)) Run(types, ("$v", SqliteNameSchema.Id(connection, type)));
        }
        if (before is null ? entity.Scopes is { Count: > 0 } : !before.Scopes.SetEquals(entity.Scopes ?? []))
        {
            if (before is not null) Execute(connection, "DELETE FROM entity_scopes WHERE ek = $id", id);
            var scopes = Prepared(connection, "INSERT INTO entity_scopes(scope, ek) VALUES($v, $id)", id, "$v");
            foreach (var scope in (entity.Scopes ?? []).Distinct(StringComparer.Ordinal)) Run(scopes, ("$v", scope));
        }
        foreach (var (name, instances) in entity.Attributes)
        {
            var after = now.Attributes[name];
            if (before is null || !before.Attributes.TryGetValue(name, out var old))
            {
                InsertKinds(connection, id, name, after.Kinds);
                InsertValues(connection, id, name, instances);
                InsertGeometries(connection, id, name, instances);
                continue;
            }
            if (old.Kinds != after.Kinds)
                Run(Prepared(connection, "UPDATE entity_attributes SET kinds = $k WHERE attr = $a AND ek = $id", id, "$a", "$k"), ("$a", SqliteNameSchema.Id(connection, name)), ("$k", after.Kinds));
            if (old.Values != after.Values && !UpdateValuesInPlace(connection, id, name, instances, old))
            {
                DeleteValues(connection, id, name);
                InsertValues(connection, id, name, instances);
            }
            if (old.Geometry != after.Geometry)
            {
                DeleteGeometries(connection, id, name);
                InsertGeometries(connection, id, name, instances);
            }
        }
        if (before is null) return now;
        foreach (var name in before.Attributes.Keys)
        {
            if (entity.Attributes.ContainsKey(name)) continue;
            Run(Prepared(connection, "DELETE FROM entity_attributes WHERE attr = $a AND ek = $id", id, "$a"), ("$a", SqliteNameSchema.Id(connection, name)));
            DeleteValues(connection, id, name);
            DeleteGeometries(connection, id, name);
        }
        return now;
    }

    /// <summary>
    /// A new entity's row and index rows, the same rows <see cref="Update"/> inserts for one, for the group's set-based
    /// write (<see cref="SqliteGroupRows"/>); <paramref name="indexed"/> is the entity's <see cref="Capture"/>.
    /// </summary>
    public static SqliteGroupRows.NewEntity NewEntityRows(SqliteConnection connection, Entity entity, byte[] doc, IndexedState indexed)
    {
        var createdAt = Validate.Format(entity.CreatedAt);
        var modifiedAt = entity.ModifiedAt == entity.CreatedAt ? createdAt : Validate.Format(entity.ModifiedAt); // a created entity's are one time
        var rows = new SqliteGroupRows.NewEntity(entity.Id, doc, createdAt, modifiedAt, TypeIds(connection, entity.Types), Distinct(entity.Scopes), [], [], []);
        foreach (var (name, instances) in entity.Attributes)
        {
            var nameId = SqliteNameSchema.Id(connection, name);
            rows.Attributes.Add((nameId, indexed.Attributes[name].Kinds));
            AddValueRows(rows.Values, nameId, indexed.Attributes[name].Values);
            AddGeometryRows(rows.Geometries, nameId, instances);
        }
        return rows;
    }

    /// <summary>The name ids of <paramref name="types"/>, each type once, in order (loops: a batch builds these for every entity, of usually one type).</summary>
    private static List<long> TypeIds(SqliteConnection connection, List<string> types)
    {
        var distinct = Distinct(types);
        var ids = new List<long>(distinct.Count);
        foreach (var type in distinct) ids.Add(SqliteNameSchema.Id(connection, type));
        return ids;
    }

    /// <summary>The first occurrence of each of <paramref name="items"/> (none: an empty list), in order.</summary>
    private static List<string> Distinct(List<string>? items)
    {
        if (items is null) return [];
        if (items.Count > 8) return items.Distinct(StringComparer.Ordinal).ToList(); // the loop below is quadratic
        var distinct = new List<string>(items.Count);
        for (var i = 0; i < items.Count; i++)
            if (items.IndexOf(items[i], 0, i) < 0) distinct.Add(items[i]);
        return distinct;
    }

    /// <summary>
    /// An existing entity's new row and the changes of its index rows from <paramref name="before"/> to
    /// <paramref name="entity"/> (whose <see cref="Capture"/> is <paramref name="now"/>): the same changes
    /// <see cref="Update"/> makes, staged for the group's set-based write (<see cref="SqliteGroupRows"/>).
    /// </summary>
    public static SqliteGroupRows.EntityUpdate UpdatedEntityRows(SqliteConnection connection, long ek, IndexedState before, Entity entity, byte[] doc, IndexedState now)
    {
        var rows = new SqliteGroupRows.EntityUpdate(ek, entity.Id, doc, Validate.Format(entity.ModifiedAt));
        if (!before.Types.SetEquals(entity.Types))
            rows.Types = TypeIds(connection, entity.Types);
        if (!before.Scopes.SetEquals(entity.Scopes ?? []))
            rows.Scopes = Distinct(entity.Scopes);
        foreach (var (name, instances) in entity.Attributes)
        {
            var after = now.Attributes[name];
            if (!before.Attributes.TryGetValue(name, out var old))
            {
                var added = SqliteNameSchema.Id(connection, name);
                rows.Attributes.Add((added, after.Kinds));
                AddValueRows(rows.Values, added, after.Values);
                AddGeometryRows(rows.Geometries, added, instances);
                continue;
            }
            if (old.Kinds == after.Kinds && old.Values == after.Values && old.Geometry == after.Geometry) continue;
            var nameId = SqliteNameSchema.Id(connection, name);
            if (old.Kinds != after.Kinds) rows.Kinds.Add((nameId, after.Kinds));
            if (old.Values != after.Values)
            {
                // One row before and after (the usual new reading): updated where it is, as UpdateValuesInPlace does.
                if (after.Values.Count == 1 && old.Values.Count == 1) rows.ValuesInPlace.Add((nameId, after.Values.Rows[0].Number, after.Values.Rows[0].Text));
                else
                {
                    rows.DroppedValues.Add(nameId);
                    AddValueRows(rows.Values, nameId, after.Values);
                }
            }
            if (old.Geometry != after.Geometry)
            {
                rows.DroppedGeometries.Add(nameId);
                AddGeometryRows(rows.Geometries, nameId, instances);
            }
        }
        foreach (var name in before.Attributes.Keys)
        {
            if (entity.Attributes.ContainsKey(name)) continue;
            var nameId = SqliteNameSchema.Id(connection, name);
            rows.DroppedAttributes.Add(nameId);
            rows.DroppedValues.Add(nameId);
            rows.DroppedGeometries.Add(nameId);
        }
        return rows;
    }

    private static void AddValueRows(List<(long Attr, int N, double? Number, string? Text)> rows, long nameId, ValueRows values)
    {
        var all = values.Rows;
        for (var i = 0; i < all.Length; i++) rows.Add((nameId, i, all[i].Number, all[i].Text));
    }

    private static void AddGeometryRows(List<(long Attr, double MinX, double MaxX, double MinY, double MaxY)> rows, long nameId, List<JsonObject> instances)
    {
        foreach (var instance in instances)
        {
            if (Attr.Type(instance) != Attr.GeoProperty) continue;
            if (PointOf(instance["value"]) is var (x, y))
            {
                rows.Add((nameId, x, x, y, y));
                continue;
            }
            if (GeoJsonGeometry.TryRead(instance["value"]) is not { IsEmpty: false } shape) continue;
            var envelope = shape.EnvelopeInternal;
            rows.Add((nameId, envelope.MinX, envelope.MaxX, envelope.MinY, envelope.MaxY));
        }
    }

    /// <summary>
    /// A valid GeoJSON Point's longitude and latitude, read directly: most geometries are points, and their box is the
    /// point itself (no NetTopologySuite geometry). Anything else gives null and is read by GeoJsonGeometry.TryRead.
    /// </summary>
    private static (double X, double Y)? PointOf(JsonNode? value)
    {
        if (value is not JsonObject geometry || geometry.Count != 2 || geometry["type"] is not JsonValue type
            || type.GetValueKind() != JsonValueKind.String || type.GetValue<string>() != "Point"
            || geometry["coordinates"] is not JsonArray { Count: 2 or 3 } coordinates) return null;
        foreach (var coordinate in coordinates)
            if (!JsonNumbers.TryGetDouble(coordinate, out var d) || !double.IsFinite(d)) return null;
        JsonNumbers.TryGetDouble(coordinates[0], out var x);
        JsonNumbers.TryGetDouble(coordinates[1], out var y);
        // Out of range: GeoJsonGeometry.TryRead refuses it (no row); left to it.
        return x is < -180 or > 180 || y is < -90 or > 90 ? null : (x, y);
    }

    private static void InsertKinds(SqliteConnection connection, long id, string name, string kinds) =>
        Run(Prepared(connection, "INSERT INTO entity_attributes(attr, ek, kinds) VALUES($a, $id, $k)", id, "$a", "$k"), ("$a", SqliteNameSchema.Id(connection, name)), ("$k", kinds));

    private static void InsertValues(SqliteConnection connection, long id, string name, List<JsonObject> instances)
    {
        var value = Prepared(connection, "INSERT INTO attribute_values(ek, attr, n, num, str) VALUES($id, $a, $o, $n, $s)", id, "$a", "$o", "$n", "$s");
        long? nameId = null;
        var ordinal = 0;
        foreach (var (number, text) in ValueRowsOf(instances))
            Run(value, ("$a", nameId ??= SqliteNameSchema.Id(connection, name)), ("$o", ordinal++), ("$n", number is { } n ? n : DBNull.Value), ("$s", text is { } t ? t : DBNull.Value));
    }

    private static void InsertGeometries(SqliteConnection connection, long id, string name, List<JsonObject> instances)
    {
        long? nameId = null;
        foreach (var instance in instances)
        {
            if (Attr.Type(instance) != Attr.GeoProperty || GeoJsonGeometry.TryRead(instance["value"]) is not { IsEmpty: false } shape) continue;
            var geometry = Prepared(connection, "INSERT INTO entity_geometries(ek, attr) VALUES($id, $a) RETURNING rid", id, "$a");
            geometry.Parameters["$a"].Value = nameId ??= SqliteNameSchema.Id(connection, name);
            var rid = (long)geometry.ExecuteScalar()!;
            var envelope = shape.EnvelopeInternal;
            var box = Prepared(connection, "INSERT INTO entity_bbox(rid, min_x, max_x, min_y, max_y) VALUES($r, $x0, $x1, $y0, $y1)", id, "$r", "$x0", "$x1", "$y0", "$y1");
            Run(box, ("$r", rid), ("$x0", envelope.MinX), ("$x1", envelope.MaxX), ("$y0", envelope.MinY), ("$y1", envelope.MaxY));
            var cell = Prepared(connection, SqliteCellSchema.InsertSql, id, "$a", "$c", "$r", "$x0", "$x1", "$y0", "$y1");
            foreach (var c in SqliteGeoGrid.CellsOf(envelope.MinX, envelope.MaxX, envelope.MinY, envelope.MaxY))
                Run(cell, ("$a", nameId.Value), ("$c", c), ("$r", rid), ("$x0", envelope.MinX), ("$x1", envelope.MaxX), ("$y0", envelope.MinY), ("$y1", envelope.MaxY));
        }
    }

    /// <summary>
    /// Rewrites the attribute's value rows where they are when their number stays (a new reading of a Property): the row
    /// and its entry in the entity index stay put, only the value index moves. False when the number of rows changes.
    /// </summary>
    private static bool UpdateValuesInPlace(SqliteConnection connection, long id, string name, List<JsonObject> instances, AttributeFingerprint old)
    {
        var scalars = ValueRowsOf(instances);
        if (scalars.Length == 1 && old.Values.Count == 1)
        {
            // One row before and after (the usual new reading): one statement, no look-up of the row first. Any other
            // count of rows touched means the fingerprint misread the old rows; the caller then rewrites them.
            var (number, text) = scalars[0];
            return SqliteDatabase.Cached(connection, "UPDATE attribute_values SET num = $n, str = $s WHERE ek = $id AND attr = $a",
                ("$id", id), ("$a", SqliteNameSchema.Id(connection, name)), ("$n", number), ("$s", text)).ExecuteNonQuery() == 1;
        }
        var nameId = SqliteNameSchema.Id(connection, name);
        if ((long)SqliteDatabase.Cached(connection, "SELECT COUNT(*) FROM attribute_values WHERE ek = $id AND attr = $a", ("$id", id), ("$a", nameId)).ExecuteScalar()! != scalars.Length)
            return false;
        for (var i = 0; i < scalars.Length; i++)
        {
            var (number, text) = scalars[i];
            // The rows are numbered 0… by the writes that inserted them; a row missing among them leaves the count short, and a
            // count that matched with a gap in the numbers shows here.
            if (SqliteDatabase.Cached(connection, "UPDATE attribute_values SET num = $n, str = $s WHERE ek = $id AND attr = $a AND n = $o",
                    ("$id", id), ("$a", nameId), ("$o", i), ("$n", number), ("$s", text)).ExecuteNonQuery() != 1)
                return false;
        }
        return true;
    }

    private static void DeleteValues(SqliteConnection connection, long id, string name) =>
        Run(Prepared(connection, $"DELETE FROM attribute_values WHERE ek = $id AND attr = {SqliteNameSchema.IdOf("$a")}", id, "$a"), ("$a", name));

    private static void DeleteGeometries(SqliteConnection connection, long id, string name)
    {
        Run(Prepared(connection, $"DELETE FROM entity_bbox WHERE rid IN (SELECT rid FROM entity_geometries WHERE ek = $id AND attr = {SqliteNameSchema.IdOf("$a")})", id, "$a"), ("$a", name));
        Run(Prepared(connection, $"DELETE FROM entity_geometries WHERE ek = $id AND attr = {SqliteNameSchema.IdOf("$a")}", id, "$a"), ("$a", name));
        Run(Prepared(connection, $"DELETE FROM entity_cells WHERE ek = $id AND attr = {SqliteNameSchema.IdOf("$a")}", id, "$a"), ("$a", name));
    }

    /// <summary>
    /// The statistics keys an indexed state contributes to: (type, "", ""), (type, attr, "*") and (type, attr, kind),
    /// read from the captured types and each attribute's kinds, so the entity is not walked again.
    /// </summary>
    public static HashSet<(string Type, string Attr, string Kind)> StatisticKeys(IndexedState? state)
    {
        var keys = new List<(string, string, string)>();
        AddStatisticKeys(state, keys);
        return [.. keys];
    }

    /// <summary>
    /// Adds the keys of <see cref="StatisticKeys"/>, each once (the types, attribute names and each attribute's kinds are
    /// distinct); an attribute of one kind (the usual one) is not split.
    /// </summary>
    private static void AddStatisticKeys(IndexedState? state, List<(string Type, string Attr, string Kind)> keys)
    {
        if (state is null) return;
        foreach (var type in state.Types)
        {
            keys.Add((type, "", ""));
            foreach (var (name, fingerprint) in state.Attributes)
            {
                keys.Add((type, name, "*"));
                var kinds = fingerprint.Kinds;
                if (!kinds.Contains(','))
                {
                    if (kinds.Length > 0) keys.Add((type, name, kinds));
                }
                else
                {
                    foreach (var kind in kinds.Split(',', StringSplitOptions.RemoveEmptyEntries)) keys.Add((type, name, kind));
                }
            }
        }
    }

    [ThreadStatic] private static List<(string Type, string Attr, string Kind)>? t_statisticKeys;

    /// <summary>
    /// The statistics change of a write from <paramref name="before"/> to <paramref name="after"/> (null: no entity). A
    /// write that keeps the types, the attribute names and each attribute's kinds (a new value, the usual update) changes
    /// no key, and no key set is built for it.
    /// </summary>
    public static void UpdateStatistics(SqliteConnection connection, IndexedState? before, IndexedState? after)
    {
        if (before is not null && after is not null && SameStatisticKeys(before, after)) return;
        if (before is null || after is null)
        {
            // A new or deleted entity: every key of the one side counts, no key sets to compare (a batch create's case).
            var pending = SqliteDatabase.State(connection).JobStatistics;
            var delta = before is null ? 1 : -1;
            var keys = t_statisticKeys ??= [];
            try
            {
                AddStatisticKeys(before ?? after, keys);
                foreach (var key in keys) CollectionsMarshal.GetValueRefOrAddDefault(pending, key, out _) += delta;
            }
            finally
            {
                keys.Clear(); // nothing of this entity is left for the next one
            }
            return;
        }
        UpdateStatistics(connection, StatisticKeys(before), StatisticKeys(after));
    }

    private static bool SameStatisticKeys(IndexedState before, IndexedState after)
    {
        if (!before.Types.SetEquals(after.Types) || before.Attributes.Count != after.Attributes.Count) return false;
        foreach (var (name, fingerprint) in before.Attributes)
            if (!after.Attributes.TryGetValue(name, out var now) || now.Kinds != fingerprint.Kinds) return false;
        return true;
    }

    /// <summary>
    /// Adds the difference between the keys before and after a write to the group's counters: a group of writes to one
    /// type changes the same few rows, which are written once, at commit (<see cref="WriteStatistics"/>).
    /// </summary>
    public static void UpdateStatistics(SqliteConnection connection, HashSet<(string Type, string Attr, string Kind)> before, HashSet<(string Type, string Attr, string Kind)> after)
    {
        var pending = SqliteDatabase.State(connection).JobStatistics;
        foreach (var key in after) if (!before.Contains(key)) pending[key] = pending.GetValueOrDefault(key) + 1;
        foreach (var key in before) if (!after.Contains(key)) pending[key] = pending.GetValueOrDefault(key) - 1;
    }

    /// <summary>Writes the group's counter changes, in its transaction, just before it commits.</summary>
    public static void WriteStatistics(SqliteConnection connection)
    {
        var pending = SqliteDatabase.State(connection).GroupStatistics;
        if (pending.Count == 0) return;
        var upsert = SqliteDatabase.Cached(connection, """
            INSERT INTO type_statistics(type, attr, kind, entities) VALUES($t, $a, $k, $d)
            ON CONFLICT(type, attr, kind) DO UPDATE SET entities = entities + excluded.entities
            """, ("$t", ""), ("$a", ""), ("$k", ""), ("$d", 0));
        var decreased = false;
        foreach (var ((type, attr, kind), delta) in pending)
        {
            if (delta == 0) continue;
            Run(upsert, ("$t", type), ("$a", attr), ("$k", kind), ("$d", delta));
            decreased |= delta < 0;
        }
        pending.Clear();
        if (decreased) SqliteDatabase.Cached(connection, "DELETE FROM type_statistics WHERE entities <= 0").ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection connection, string sql, long entityId) =>
        SqliteDatabase.Cached(connection, sql, ("$id", entityId)).ExecuteNonQuery();

    private static SqliteCommand Prepared(SqliteConnection connection, string sql, long entityId, params string[] parameters) =>
        SqliteDatabase.Cached(connection, sql, [("$id", entityId), .. parameters.Select(name => (name, (object?)DBNull.Value))]);

    private static void Run(SqliteCommand command, params (string Name, object Value)[] values)
    {
        foreach (var (name, value) in values) command.Parameters[name].Value = value;
        command.ExecuteNonQuery();
    }
}
