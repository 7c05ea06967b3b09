using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Kontext.Storage.Sqlite;

/// <summary>
/// The rows a group's entity writes add or change, kept until the group ends and then written set-based (issue 12, batch
/// writes): new entities with their index rows, history instances and change records go in as a few multi-row INSERTs
/// per table, updated entities' rows and the index rows they drop or change as a few multi-row UPDATEs and DELETEs,
/// and the history's series keys are resolved once per group, instead of one statement per row and three per new
/// series. A job that stages rows writes nothing itself, so its savepoint costs nothing; a job that fails drops what it
/// staged (<see cref="JobRolledBack"/>). The writer writes the rows before any job that may read them (every job that
/// does not stage, and a staging job whose entity is staged) and before the group commits, outside any job's savepoint,
/// so a failure there fails the whole group, like a failed commit: nothing of it was acknowledged.
/// </summary>
internal sealed class SqliteGroupRows
{
    /// <summary>A new entity's row and index rows (name ids resolved by the job; each type and scope once; the document in UTF-8).</summary>
    public sealed record NewEntity(
        string Id, byte[] Doc, string CreatedAt, string ModifiedAt, List<long> Types, List<string> Scopes,
        List<(long Attr, string Kinds)> Attributes, List<(long Attr, int N, double? Number, string? Text)> Values,
        List<(long Attr, double MinX, double MaxX, double MinY, double MaxY)> Geometries);

    /// <summary>
    /// An existing entity's new row and the changes of its index rows, as <see cref="SqliteIndexRows.Update"/> would make
    /// them one statement at a time (<see cref="SqliteIndexRows.UpdatedEntityRows"/>): the rows of what changed are
    /// dropped (types and scopes of the entity when they changed; attribute, value and geometry rows per attribute) and
    /// the new ones added; a kinds change or a single value that stays single is updated where it is.
    /// </summary>
    public sealed record EntityUpdate(long Ek, string Id, byte[] Doc, string ModifiedAt)
    {
        /// <summary>The entity's types when they changed (its type rows are replaced), else null.</summary>
        public List<long>? Types { get; set; }
        /// <summary>The entity's scopes when they changed (its scope rows are replaced), else null.</summary>
        public List<string>? Scopes { get; set; }
        public List<long> DroppedAttributes { get; } = [];
        public List<(long Attr, string Kinds)> Attributes { get; } = [];
        public List<(long Attr, string Kinds)> Kinds { get; } = [];
        public List<long> DroppedValues { get; } = [];
        public List<(long Attr, int N, double? Number, string? Text)> Values { get; } = [];
        public List<(long Attr, double? Number, string? Text)> ValuesInPlace { get; } = [];
        public List<long> DroppedGeometries { get; } = [];
        public List<(long Attr, double MinX, double MaxX, double MinY, double MaxY)> Geometries { get; } = [];
    }

    /// <summary>
    /// An attribute_instances row, its series named by entity id and attribute name id until the rows are written; its
    /// stored document bound from where its bytes are (<see cref="StoredDocument"/>: the instance's own UTF-8, or its
    /// members where the entity's stored document holds them, <see cref="EncodedInstances"/>). <paramref name="HistoryKey"/>
    /// is the entity's history key as the write read it with the entity's row
    /// (<see cref="ReadEntity{T}(SqliteConnection, string, StoredRow{T}, out long?)"/>), null when the row named none.
    /// </summary>
    public sealed record Instance(
        string EntityId, long? HistoryKey, long Attr, string? DatasetId, byte[] InstanceId, string Kind, string? ObservedAt, string ModifiedAt,
        StoredDocument Doc, (string? Type, double? Number, string? Text, object? Key) Sample);

    public sealed record Change(string EntityId, string Operation, string At, string? BeforeDoc, string? AfterDoc);

    private readonly List<NewEntity> _entities = [];
    private readonly List<EntityUpdate> _updates = [];
    private readonly HashSet<string> _entityIds = new(StringComparer.Ordinal);
    private readonly List<Instance> _instances = [];
    private readonly List<Change> _changes = [];
    private readonly Dictionary<(string EntityId, long Attr), long> _seriesKeys = [];
    private readonly Dictionary<(long Hk, long Attr), string> _keyedSeries = [];
    private readonly HashSet<(string EntityId, long Attr)> _pairsSeen = [];
    /// <summary>The ids of the staged new entities, while their rows are written.</summary>
    private readonly HashSet<string> _newEntityIds = new(StringComparer.Ordinal);
    /// <summary>The history keys the staged rows' entities were given (they had none), while the rows are written.</summary>
    private readonly Dictionary<string, long> _historyKeys = new(StringComparer.Ordinal);
    private (int Entities, int Updates, int Instances, int Changes) _released;

    public bool IsEmpty => _entities.Count == 0 && _updates.Count == 0 && _instances.Count == 0 && _changes.Count == 0;

    /// <summary>Whether a new or updated entity of this id waits to be written: a write to it must see its rows first.</summary>
    public bool HasEntity(string id) => _entityIds.Contains(id);

    public void Add(NewEntity entity)
    {
        _entities.Add(entity);
        _entityIds.Add(entity.Id);
    }

    public void Add(EntityUpdate update)
    {
        _updates.Add(update);
        _entityIds.Add(update.Id);
    }

    public void Add(Instance instance) => _instances.Add(instance);

    public void Add(Change change) => _changes.Add(change);

    /// <summary>The running job's savepoint was released: its rows belong to the group.</summary>
    public void JobReleased() => _released = (_entities.Count, _updates.Count, _instances.Count, _changes.Count);

    /// <summary>The running job was rolled back: the rows it staged are dropped.</summary>
    public void JobRolledBack()
    {
        // An entity is staged at most once per flush (a second write to it writes the staged rows first), so its id goes too.
        for (var i = _released.Entities; i < _entities.Count; i++) _entityIds.Remove(_entities[i].Id);
        for (var i = _released.Updates; i < _updates.Count; i++) _entityIds.Remove(_updates[i].Id);
        _entities.RemoveRange(_released.Entities, _entities.Count - _released.Entities);
        _updates.RemoveRange(_released.Updates, _updates.Count - _released.Updates);
        _instances.RemoveRange(_released.Instances, _instances.Count - _released.Instances);
        _changes.RemoveRange(_released.Changes, _changes.Count - _released.Changes);
    }

    /// <summary>Writes every staged row, in the order the jobs staged them, and forgets them.</summary>
    public void Write(SqliteConnection connection)
    {
        if (IsEmpty) return;
        // The series first: a new entity's row is then inserted with its history key, not updated for it afterwards.
        ResolveSeries(connection);
        WriteEntities(connection);
        WriteInstances(connection);
        Insert(connection, "change_log(entity_id, operation, at, before_doc, after_doc)", 5, _changes,
            (b, c) => b.Add(c.EntityId).Add(c.Operation).Add(c.At).Add(c.BeforeDoc).Add(c.AfterDoc));
        _entities.Clear();
        _updates.Clear();
        _entityIds.Clear();
        _instances.Clear();
        _changes.Clear();
        _released = default;
    }

    private void WriteEntities(SqliteConnection connection)
    {
        if (_entities.Count == 0 && _updates.Count == 0) return;
        // The keys SQLite would give one insert after another (the largest plus one), given here so that the index rows
        // can name them without reading them back.
        var keyed = new List<(long Ek, NewEntity Entity)>(_entities.Count);
        if (_entities.Count > 0)
        {
            var nextKey = Scalar(connection, "SELECT COALESCE(MAX(ek), 0) FROM entities") + 1;
            foreach (var entity in _entities) keyed.Add((nextKey++, entity));
            Insert(connection, "entities(ek, id, doc, created_at, modified_at, hk)", 6, keyed,
                (b, e) => b.Add(e.Ek).Add(e.Entity.Id).AddText(e.Entity.Doc).Add(e.Entity.CreatedAt).Add(e.Entity.ModifiedAt)
                    .Add(_historyKeys.TryGetValue(e.Entity.Id, out var hk) ? hk : (long?)null));
        }
        WriteUpdates(connection);
        Insert(connection, "entity_types(type, ek)", 2, KeyedRows(keyed, static e => e.Types, static u => u.Types), (b, r) => b.Add(r.Row).Add(r.Ek));
        Insert(connection, "entity_scopes(scope, ek)", 2, KeyedRows(keyed, static e => e.Scopes, static u => u.Scopes), (b, r) => b.Add(r.Row).Add(r.Ek));
        Insert(connection, "entity_attributes(attr, ek, kinds)", 3, KeyedRows(keyed, static e => e.Attributes, static u => u.Attributes),
            (b, r) => b.Add(r.Row.Attr).Add(r.Ek).Add(r.Row.Kinds));
        Insert(connection, InsertValues, 5, KeyedRows(keyed, static e => e.Values, static u => u.Values),
            (b, r) => b.Add(r.Ek).Add(r.Row.Attr).Add(r.Row.N).Add(r.Row.Number).Add(r.Row.Text));
        var geometries = KeyedRows(keyed, static e => e.Geometries, static u => u.Geometries);
        if (geometries.Count == 0) return;
        var nextRid = Scalar(connection, "SELECT COALESCE(MAX(rid), 0) FROM entity_geometries") + 1;
        var numbered = new List<(long Rid, (long Attr, double MinX, double MaxX, double MinY, double MaxY) g, long Ek)>(geometries.Count);
        foreach (var (g, ek) in geometries) numbered.Add((nextRid++, g, ek));
        Insert(connection, "entity_geometries(rid, ek, attr)", 3, numbered, (b, r) => b.Add(r.Rid).Add(r.Ek).Add(r.g.Attr));
        Insert(connection, "entity_bbox(rid, min_x, max_x, min_y, max_y)", 5, numbered,
            (b, r) => b.Add(r.Rid).Add(r.g.MinX).Add(r.g.MaxX).Add(r.g.MinY).Add(r.g.MaxY));
        // Each geometry's grid cells (SqliteCellSchema), beside its box.
        Insert(connection, "entity_cells(attr, cell, ek, rid, min_x, max_x, min_y, max_y)", 8,
            numbered.SelectMany(r => SqliteGeoGrid.CellsOf(r.g.MinX, r.g.MaxX, r.g.MinY, r.g.MaxY).Select(cell => (Cell: cell, r.Rid, r.g, r.Ek))).ToList(),
            (b, r) => b.Add(r.g.Attr).Add(r.Cell).Add(r.Ek).Add(r.Rid).Add(r.g.MinX).Add(r.g.MaxX).Add(r.g.MinY).Add(r.g.MaxY));
    }

    /// <summary>
    /// The rows of one table the staged entities add, each beside its entity's key: the new entities' first, then the
    /// updated ones'. Plain loops: LINQ's iterator and closure per entity were most of what a group of PATCHes allocated.
    /// </summary>
    private List<(T Row, long Ek)> KeyedRows<T>(List<(long Ek, NewEntity Entity)>? created, Func<NewEntity, IReadOnlyList<T>> ofNew, Func<EntityUpdate, IReadOnlyList<T>?> ofUpdate)
    {
        // Counted first: a group's rows of one table are thousands, whose list grown by doubling left each smaller array behind.
        var count = 0;
        foreach (var (_, entity) in created ?? []) count += ofNew(entity).Count;
        foreach (var update in _updates) count += ofUpdate(update)?.Count ?? 0;
        var rows = new List<(T Row, long Ek)>(count);
        foreach (var (ek, entity) in created ?? [])
        {
            var list = ofNew(entity);
            for (var i = 0; i < list.Count; i++) rows.Add((list[i], ek));
        }
        foreach (var update in _updates)
        {
            if (ofUpdate(update) is not { } list) continue;
            for (var i = 0; i < list.Count; i++) rows.Add((list[i], update.Ek));
        }
        return rows;
    }

    /// <summary>
    /// The updated entities' rows, and their index rows that go or change in place; the rows they gain are inserted with
    /// the new entities' ({0} of each statement: the keys as VALUES rows).
    /// </summary>
    internal const string UpdateEntities = "UPDATE entities SET doc = v.column2, modified_at = v.column3 FROM (VALUES {0}) v WHERE entities.ek = v.column1";
    internal const string DropTypes = "DELETE FROM entity_types WHERE ek IN (VALUES {0})";
    internal const string DropScopes = "DELETE FROM entity_scopes WHERE ek IN (VALUES {0})";
    internal const string DropAttributes = "DELETE FROM entity_attributes WHERE (attr, ek) IN (VALUES {0})";
    // Each pair's rows are searched by the primary key's ek, then its attr (SqliteValueKeySchema).
    internal const string DropValues = "DELETE FROM attribute_values WHERE (ek, attr) IN (SELECT column1, column2 FROM (VALUES {0}))";
    internal const string DropBoxes = "DELETE FROM entity_bbox WHERE rid IN (SELECT g.rid FROM (VALUES {0}) v JOIN entity_geometries g ON g.ek = v.column1 AND g.attr = v.column2)";
    internal const string DropCells = "DELETE FROM entity_cells WHERE (ek, attr) IN (VALUES {0})";
    internal const string DropGeometries = "DELETE FROM entity_geometries WHERE rid IN (SELECT g.rid FROM (VALUES {0}) v JOIN entity_geometries g ON g.ek = v.column1 AND g.attr = v.column2)";
    /// <summary>The value rows' target: (ek, attr, n) is the primary key, n the row's ordinal in its attribute (SqliteValueKeySchema).</summary>
    private const string InsertValues = "attribute_values(ek, attr, n, num, str)";
    internal const string UpdateKinds = "UPDATE entity_attributes SET kinds = v.column3 FROM (VALUES {0}) v WHERE entity_attributes.attr = v.column1 AND entity_attributes.ek = v.column2";
    internal const string UpdateValues = "UPDATE attribute_values SET num = v.column3, str = v.column4 FROM (VALUES {0}) v WHERE attribute_values.ek = v.column1 AND attribute_values.attr = v.column2";

    private void WriteUpdates(SqliteConnection connection)
    {
        if (_updates.Count == 0) return;
        Execute(connection, UpdateEntities, 3, _updates, (b, u) => b.Add(u.Ek).AddText(u.Doc).Add(u.ModifiedAt));
        var droppedTypes = new List<long>();
        var droppedScopes = new List<long>();
        foreach (var update in _updates)
        {
            if (update.Types is not null) droppedTypes.Add(update.Ek);
            if (update.Scopes is not null) droppedScopes.Add(update.Ek);
        }
        Execute(connection, DropTypes, 1, droppedTypes, (b, ek) => b.Add(ek));
        Execute(connection, DropScopes, 1, droppedScopes, (b, ek) => b.Add(ek));
        Execute(connection, DropAttributes, 2, KeyedRows(null, NoRows<long>, static u => u.DroppedAttributes), (b, r) => b.Add(r.Row).Add(r.Ek));
        Execute(connection, DropValues, 2, KeyedRows(null, NoRows<long>, static u => u.DroppedValues), (b, r) => b.Add(r.Ek).Add(r.Row));
        var droppedGeometries = KeyedRows(null, NoRows<long>, static u => u.DroppedGeometries);
        Execute(connection, DropBoxes, 2, droppedGeometries, (b, r) => b.Add(r.Ek).Add(r.Row));
        Execute(connection, DropGeometries, 2, droppedGeometries, (b, r) => b.Add(r.Ek).Add(r.Row));
        Execute(connection, DropCells, 2, droppedGeometries, (b, r) => b.Add(r.Ek).Add(r.Row));
        Execute(connection, UpdateKinds, 3, KeyedRows(null, NoRows<(long Attr, string Kinds)>, static u => u.Kinds), (b, r) => b.Add(r.Row.Attr).Add(r.Ek).Add(r.Row.Kinds));
        // One value row before and after (a new reading): updated where it is. The fingerprint said there was one row per
        // pair; should the file hold another count (an index that disagrees with its document), the pairs of that
        // statement get their rows dropped and inserted anew, as SqliteIndexRows.Update does one at a time.
        var inPlace = KeyedRows(null, NoRows<(long Attr, double? Number, string? Text)>, static u => u.ValuesInPlace);
        foreach (var (offset, count) in Chunks(inPlace.Count))
        {
            var chunk = count == inPlace.Count ? inPlace : inPlace.GetRange(offset, count);
            if (Execute(connection, UpdateValues, 4, chunk, (b, r) => b.Add(r.Ek).Add(r.Row.Attr).Add(r.Row.Number).Add(r.Row.Text)) == count) continue;
            Execute(connection, DropValues, 2, chunk, (b, r) => b.Add(r.Ek).Add(r.Row.Attr));
            Insert(connection, InsertValues, 5, chunk, (b, r) => b.Add(r.Ek).Add(r.Row.Attr).Add(0L).Add(r.Row.Number).Add(r.Row.Text));
        }
    }

    /// <summary>For <see cref="KeyedRows{T}"/> of updates alone: new entities have none of these rows.</summary>
    private static IReadOnlyList<T> NoRows<T>(NewEntity entity) => [];

    /// <summary>
    /// The series keys of (entity id, attribute name id) pairs that have one and whose entity row holds its history key
    /// ({0}: the pairs as VALUES rows), for instances staged without the key: the entity's row is found again by its id
    /// (<see cref="SqliteHistoryKeySchema"/>).
    /// </summary>
    internal const string KnownSeries = """
        SELECT e.id, s.attr, s.sk FROM (VALUES {0}) v
        JOIN entities e ON e.id = v.column1 JOIN temporal_series s ON s.hk = e.hk AND s.attr = v.column2
        """;

    /// <summary>The history keys of entity rows that lack them or differ ({0}: (id, hk) as VALUES rows).</summary>
    internal const string KeepHistoryKeys = "UPDATE entities SET hk = v.column2 FROM (VALUES {0}) v WHERE entities.id = v.column1 AND entities.hk IS NOT v.column2";

    /// <summary>The history keys of entity ids ({0}: the ids as VALUES rows).</summary>
    internal const string HistoryKeys = "SELECT h.id, h.hk FROM (VALUES {0}) v JOIN history_entities h ON h.id = v.column1";

    /// <summary>The series keys of (history key, attribute name id) pairs ({0}: the pairs as VALUES rows).</summary>
    internal const string SeriesKeys = "SELECT s.hk, s.attr, s.sk FROM (VALUES {0}) v JOIN temporal_series s ON s.hk = v.column1 AND s.attr = v.column2";

    /// <summary>
    /// The series key of every staged instance (<see cref="_seriesKeys"/>), and the history keys given to entities that
    /// had none (<see cref="_historyKeys"/>), before any staged row is written.
    /// </summary>
    private void ResolveSeries(SqliteConnection connection)
    {
        _historyKeys.Clear();
        if (_instances.Count == 0) return;
        // Series keys once for the group: those that exist, of entities whose history key the write read with the entity's
        // row, straight from temporal_series' key (the usual update: one page to find); of the others, those whose entity row
        // knows its history key by the entity id; the rest added with their entity's history key where that is missing too,
        // in the order of first use (as one insert after another would add them), read back, and the history keys kept in
        // the entity rows (of entities that have one now: a deleted entity's markers have none) for the next write. A key
        // read with the row is the entity's still: only a history purge, which clears it, frees one (SqliteHistoryKeySchema),
        // and that job runs after the staged rows are written.
        // The look-up tables are the group rows' own, kept from group to group: sized for a group's thousands of instances once.
        var seriesKeys = _seriesKeys;
        var keyed = _keyedSeries;
        seriesKeys.Clear();
        keyed.Clear();
        foreach (var instance in _instances)
            if (instance.HistoryKey is { } hk) keyed.TryAdd((hk, instance.Attr), instance.EntityId);
        if (keyed.Count > 0)
            Select(connection, SeriesKeys, 2, keyed.Keys.ToList(), (b, s) => b.Add(s.Hk).Add(s.Attr),
                row => seriesKeys[(keyed[(row.Long(0), row.Long(1))], row.Long(1))] = row.Long(2));
        // In the order of first use; a keyed pair without a series (the entity's first instance of the attribute) among them.
        var pairs = new List<(string EntityId, long Attr)>();
        _pairsSeen.Clear();
        _newEntityIds.Clear();
        foreach (var entity in _entities) _newEntityIds.Add(entity.Id);
        var ofExisting = new List<(string EntityId, long Attr)>();
        foreach (var instance in _instances)
        {
            var pair = (instance.EntityId, instance.Attr);
            if (seriesKeys.ContainsKey(pair) || !_pairsSeen.Add(pair)) continue;
            pairs.Add(pair);
            // A new entity's row is not written yet (and would hold no history key): none of its series can be found through it.
            if (!_newEntityIds.Contains(pair.EntityId)) ofExisting.Add(pair);
        }
        Select(connection, KnownSeries, 2, ofExisting, (b, p) => b.Add(p.EntityId).Add(p.Attr), row => seriesKeys[(row.Text(0), row.Long(1))] = row.Long(2));
        var missing = pairs.Where(p => !seriesKeys.ContainsKey(p)).ToList();
        if (missing.Count > 0)
        {
            var entityIds = missing.Select(p => p.EntityId).Distinct(StringComparer.Ordinal).ToList();
            Insert(connection, "history_entities(id)", 1, entityIds, (b, id) => b.Add(id), "INSERT OR IGNORE");
            var historyKeys = _historyKeys;
            Select(connection, HistoryKeys, 1, entityIds, (b, id) => b.Add(id), row => historyKeys[row.Text(0)] = row.Long(1));
            var series = missing.Select(p => (Hk: historyKeys[p.EntityId], p.Attr)).ToList();
            Insert(connection, "temporal_series(hk, attr)", 2, series, (b, s) => b.Add(s.Hk).Add(s.Attr), "INSERT OR IGNORE");
            var added = new Dictionary<(long Hk, long Attr), long>(series.Count);
            Select(connection, SeriesKeys, 2, series, (b, s) => b.Add(s.Hk).Add(s.Attr), row => added[(row.Long(0), row.Long(1))] = row.Long(2));
            foreach (var pair in missing) seriesKeys[pair] = added[(historyKeys[pair.EntityId], pair.Attr)];
        }
    }

    /// <summary>
    /// The staged instances' rows, with the series keys <see cref="ResolveSeries"/> found; the history keys it gave are kept
    /// in the rows of the existing entities (the new ones were inserted with theirs).
    /// </summary>
    private void WriteInstances(SqliteConnection connection)
    {
        if (_instances.Count == 0) return;
        var seriesKeys = _seriesKeys;
        var existing = new List<string>(_historyKeys.Count);
        foreach (var id in _historyKeys.Keys) if (!_newEntityIds.Contains(id)) existing.Add(id);
        Execute(connection, KeepHistoryKeys, 2, existing, (b, id) => b.Add(id).Add(_historyKeys[id]));
        Insert(connection,
            "attribute_instances(sk, dataset_id, instance_id, kind, observed_at, modified_at, doc, trimmed, sample_type, sample_num, sample_str, sample_key)",
            12, _instances, (b, i) => b.Add(seriesKeys[(i.EntityId, i.Attr)]).Add(i.DatasetId).Add(i.InstanceId).Add(i.Kind)
                .Add(i.ObservedAt).Add(i.ModifiedAt).Add(i.Doc).Add(i.Doc.Trimmed)
                .Add(i.Sample.Type).Add(i.Sample.Number).Add(i.Sample.Text).Add(i.Sample.Key));
        // Nothing of the group is held past it (its ids would live on into older generations), nor the size of a group far
        // beyond the usual.
        var large = seriesKeys.Count > MaxKeptLookups;
        seriesKeys.Clear();
        _keyedSeries.Clear();
        _pairsSeen.Clear();
        _newEntityIds.Clear();
        _historyKeys.Clear();
        if (!large) return;
        seriesKeys.TrimExcess();
        _keyedSeries.TrimExcess();
        _pairsSeen.TrimExcess();
        _newEntityIds.TrimExcess();
        _historyKeys.TrimExcess();
    }

    private const int MaxKeptLookups = 1 << 16;

    /// <summary>An entity's stored row as a write reads it: its key and its document's UTF-8 bytes (valid during the call only).</summary>
    public delegate T StoredRow<T>(long ek, ReadOnlySpan<byte> doc);

    /// <summary>
    /// Reads the entity <paramref name="id"/>'s row through a statement of the writer's own (<see cref="Prepared"/>): the
    /// read every entity write starts with, without Microsoft.Data.Sqlite's per-execution work or a .NET string of the
    /// document. Default when there is none.
    /// </summary>
    public static T? ReadEntity<T>(SqliteConnection connection, string id, StoredRow<T> read) => ReadEntity(connection, id, read, out _);

    /// <param name="historyKey">The entity's history key as its row holds it (<see cref="SqliteHistoryKeySchema"/>); null when it holds none or there is no row.</param>
    public static T? ReadEntity<T>(SqliteConnection connection, string id, StoredRow<T> read, out long? historyKey)
    {
        historyKey = null;
        var statement = Prepared(connection, "SELECT ek, doc, hk FROM entities WHERE id = ?");
        try
        {
            new Binder(statement).Add(id);
            var rc = raw.sqlite3_step(statement);
            if (rc == raw.SQLITE_DONE) return default;
            Check(connection, rc, raw.SQLITE_ROW);
            var result = read(raw.sqlite3_column_int64(statement, 0), raw.sqlite3_column_blob(statement, 1));
            if (raw.sqlite3_column_type(statement, 2) != raw.SQLITE_NULL) historyKey = raw.sqlite3_column_int64(statement, 2);
            return result;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>Runs a statement without parameters or rows (SAVEPOINT, RELEASE, ROLLBACK TO) through a statement of the writer's own.</summary>
    public static void Run(SqliteConnection connection, string sql)
    {
        var statement = Prepared(connection, sql);
        try
        {
            Check(connection, raw.sqlite3_step(statement), raw.SQLITE_DONE);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>Rows per statement: chunks of this many, the rest in halving chunks, so a table needs at most seven statements prepared.</summary>
    private const int ChunkRows = 64;

    private static void Insert<T>(SqliteConnection connection, string target, int width, IReadOnlyList<T> rows, Action<Binder, T> bind, string verb = "INSERT")
    {
        if (rows.Count == 0) return;
        var sqlFormat = $"{verb} INTO {target} VALUES {{0}}";
        foreach (var (offset, count) in Chunks(rows.Count))
        {
            var statement = Prepared(connection, sqlFormat, width, count);
            try
            {
                var binder = new Binder(statement);
                for (var i = offset; i < offset + count; i++) bind(binder, rows[i]);
                Check(connection, raw.sqlite3_step(statement), raw.SQLITE_DONE);
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }
    }

    /// <returns>The rows the statements changed (sqlite3_changes: the statement's own, not its triggers').</returns>
    private static int Execute<T>(SqliteConnection connection, string sqlFormat, int width, IReadOnlyList<T> keys, Action<Binder, T> bind)
    {
        var changed = 0;
        foreach (var (offset, count) in Chunks(keys.Count))
        {
            var statement = Prepared(connection, sqlFormat, width, count);
            try
            {
                var binder = new Binder(statement);
                for (var i = offset; i < offset + count; i++) bind(binder, keys[i]);
                Check(connection, raw.sqlite3_step(statement), raw.SQLITE_DONE);
                changed += raw.sqlite3_changes(connection.Handle);
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }
        return changed;
    }

    private static void Select<T>(SqliteConnection connection, string sqlFormat, int width, IReadOnlyList<T> keys, Action<Binder, T> bind, Action<Row> read)
    {
        foreach (var (offset, count) in Chunks(keys.Count))
        {
            var statement = Prepared(connection, sqlFormat, width, count);
            try
            {
                var binder = new Binder(statement);
                for (var i = offset; i < offset + count; i++) bind(binder, keys[i]);
                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW) read(new Row(statement));
                Check(connection, rc, raw.SQLITE_DONE);
            }
            finally
            {
                raw.sqlite3_reset(statement);
            }
        }
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        var statement = Prepared(connection, sql);
        try
        {
            Check(connection, raw.sqlite3_step(statement), raw.SQLITE_ROW);
            return raw.sqlite3_column_int64(statement, 0);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    private static IEnumerable<(int Offset, int Count)> Chunks(int total)
    {
        var offset = 0;
        for (; total - offset >= ChunkRows; offset += ChunkRows) yield return (offset, ChunkRows);
        for (var size = ChunkRows / 2; size > 0; size /= 2)
        {
            if (total - offset < size) continue;
            yield return (offset, size);
            offset += size;
        }
    }

    private static string Placeholders(int width, int rows)
    {
        var row = "(" + string.Join(", ", Enumerable.Repeat("?", width)) + ")";
        return string.Join(", ", Enumerable.Repeat(row, rows));
    }

    /// <summary>
    /// The statement of <paramref name="sqlFormat"/> with <paramref name="rows"/> rows of <paramref name="width"/>
    /// placeholders as {0}, found by those three: its text (hundreds of placeholders) is built once per connection, not at
    /// every execution just to look the statement up.
    /// </summary>
    private static sqlite3_stmt Prepared(SqliteConnection connection, string sqlFormat, int width, int rows)
    {
        var statements = SqliteDatabase.State(connection).MultiRowStatements;
        if (statements.TryGetValue((sqlFormat, width, rows), out var statement)) return statement;
        statement = Prepared(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, Placeholders(width, rows)));
        statements[(sqlFormat, width, rows)] = statement;
        return statement;
    }

    /// <summary>
    /// A statement of the writer connection's own, kept for its life and bound by position: a multi-row statement has
    /// hundreds of parameters, which Microsoft.Data.Sqlite would look up by name one by one at every execution.
    /// </summary>
    private static sqlite3_stmt Prepared(SqliteConnection connection, string sql)
    {
        var statements = SqliteDatabase.State(connection).RowStatements;
        if (statements.TryGetValue(sql, out var statement)) return statement;
        Check(connection, raw.sqlite3_prepare_v2(connection.Handle, sql, out statement), raw.SQLITE_OK);
        statements[sql] = statement;
        return statement;
    }

    private static void Check(SqliteConnection connection, int rc, int expected)
    {
        if (rc != expected) throw new SqliteException(raw.sqlite3_errmsg(connection.Handle).utf8_to_string(), rc, raw.sqlite3_extended_errcode(connection.Handle));
    }

    /// <summary>
    /// Binds values to a statement's parameters in order. The typed overloads serve the columns whose type the row
    /// records know (no boxing per value: a group binds tens of thousands); <see cref="Add(object?)"/> the sample columns.
    /// </summary>
    private sealed class Binder(sqlite3_stmt statement)
    {
        private int _index;

        public Binder Add(long value) => Checked(raw.sqlite3_bind_int64(statement, ++_index, value));

        public Binder Add(long? value) => value is { } l ? Add(l) : Checked(raw.sqlite3_bind_null(statement, ++_index));

        public Binder Add(double? value) => Checked(value is { } d ? raw.sqlite3_bind_double(statement, ++_index, d) : raw.sqlite3_bind_null(statement, ++_index));

        /// <summary>
        /// A text, encoded into the thread's buffer (SQLite copies the bytes): the string overload of the binding allocates
        /// an array per value, a document's size for every row of a group.
        /// </summary>
        public Binder Add(string? value)
        {
            // "" through the string overload: a span of no bytes may reach SQLite as a null pointer, which binds NULL.
            if (string.IsNullOrEmpty(value)) return Checked(value is null ? raw.sqlite3_bind_null(statement, ++_index) : raw.sqlite3_bind_text(statement, ++_index, value));
            var buffer = Buffer(Encoding.UTF8.GetMaxByteCount(value.Length));
            return Checked(raw.sqlite3_bind_text(statement, ++_index, buffer.AsSpan(0, Encoding.UTF8.GetBytes(value, buffer))));
        }

        /// <summary>A history row's document as <see cref="StoredDocument"/> says, completed in the thread's buffer when it is trimmed; NULL when there is none.</summary>
        public Binder Add(StoredDocument doc)
        {
            if (doc.Utf8 is null) return Checked(raw.sqlite3_bind_null(statement, ++_index));
            if (doc.End == doc.Start) return Checked(raw.sqlite3_bind_text(statement, ++_index, "")); // see Add(string?)
            var text = doc.Utf8.AsSpan(doc.Start, doc.End - doc.Start);
            if (doc.Trimmed == 0) return Checked(raw.sqlite3_bind_text(statement, ++_index, text));
            var buffer = Buffer(text.Length + KeptCreatedAtMember.Length + (doc.KeptCreatedAt?.Length ?? 0) + 2);
            text.CopyTo(buffer);
            var length = text.Length;
            if (doc.KeptCreatedAt is { } createdAt)
            {
                KeptCreatedAtMember.CopyTo(buffer.AsSpan(length));
                length += KeptCreatedAtMember.Length;
                length += Encoding.UTF8.GetBytes(createdAt, buffer.AsSpan(length)); // a plain time: ASCII, written as it is
                buffer[length++] = (byte)'"';
            }
            buffer[length++] = (byte)'}';
            return Checked(raw.sqlite3_bind_text(statement, ++_index, buffer.AsSpan(0, length)));
        }

        private static ReadOnlySpan<byte> KeptCreatedAtMember => ",\"createdAt\":\""u8;

        private static byte[] Buffer(int size)
        {
            var buffer = t_utf8 is { } kept && kept.Length >= size ? kept : new byte[Math.Max(size, 4096)];
            if (buffer.Length <= MaxKeptBuffer) t_utf8 = buffer;
            return buffer;
        }

        /// <summary>UTF-8 bytes as TEXT (<see cref="Add(object?)"/> binds a byte array as a BLOB).</summary>
        public Binder AddText(byte[] utf8) =>
            Checked(utf8.Length == 0 ? raw.sqlite3_bind_text(statement, ++_index, "") : raw.sqlite3_bind_text(statement, ++_index, utf8.AsSpan()));

        private const int MaxKeptBuffer = 1 << 20;
        [ThreadStatic] private static byte[]? t_utf8;

        public Binder Add(object? value) => value switch
        {
            null => Checked(raw.sqlite3_bind_null(statement, ++_index)),
            long l => Add(l),
            int i => Add((long)i),
            double d => Add(d),
            string s => Add(s),
            byte[] bytes => Checked(raw.sqlite3_bind_blob(statement, ++_index, bytes)),
            _ => throw new ArgumentException($"No SQLite binding for {value.GetType()}"),
        };

        private Binder Checked(int rc) =>
            rc == raw.SQLITE_OK ? this : throw new SqliteException($"Binding parameter {_index} failed", rc);
    }

    private readonly struct Row(sqlite3_stmt statement)
    {
        public long Long(int column) => raw.sqlite3_column_int64(statement, column);
        public string Text(int column) => raw.sqlite3_column_text(statement, column).utf8_to_string();
    }
}
