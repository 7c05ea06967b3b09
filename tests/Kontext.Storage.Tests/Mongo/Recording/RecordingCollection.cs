using System.Collections;
using System.Reflection;
using MongoDB.Bson;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// IMongoCollection{BsonDocument} over the fake server: each CRUD method becomes the command the driver would send
/// (recorded with its session's transaction), then runs against the fake's documents.
/// </summary>
public class RecordingCollection : DispatchProxy
{
    private FakeMongoServer _server = null!;
    private string _database = null!;
    private string _name = null!;
    private IMongoDatabase _owner = null!;

    public static IMongoCollection<BsonDocument> Create(FakeMongoServer server, string database, string name, IMongoDatabase owner)
    {
        var collection = Create<IMongoCollection<BsonDocument>, RecordingCollection>();
        var state = (RecordingCollection)(object)collection;
        (state._server, state._database, state._name, state._owner) = (server, database, name, owner);
        return collection;
    }

    private FakeCollection State => _server.Collection(_database, _name);

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        args ??= [];
        var session = (RecordingSession?)(object?)args.OfType<IClientSessionHandle>().FirstOrDefault();
        var transaction = session?.Transaction;
        var filter = args.OfType<FilterDefinition<BsonDocument>>().Select(Driver.Render).FirstOrDefault();
        var state = State;
        var existed = state.Exists;
        switch (method!.Name)
        {
            case "get_CollectionNamespace": return new CollectionNamespace(_database, _name);
            case "get_Database": return _owner;
            case "get_DocumentSerializer": return BsonDocumentSerializer.Instance;
            case "get_Settings": return new MongoCollectionSettings();
            case "get_Indexes": return RecordingIndexes.Create(_server, _database, _name, session);

            case "FindAsync":
            case "FindSync":
            {
                var options = args.FirstOrDefault(a => a?.GetType().Name.StartsWith("FindOptions") == true);
                var sort = (Driver.Property(options, "Sort") as SortDefinition<BsonDocument>)?.Render(Driver.Args);
                var limit = (int?)Driver.Property(options, "Limit");
                var skip = (int?)Driver.Property(options, "Skip");
                var found = Query(state, filter!, sort, skip, limit);
                _server.Record(new ServerCall("find", _database, _name, transaction, existed, Filter: filter, Sort: sort, Limit: limit, Affected: found.Count,
                    Options: GeoIndexNote(state, filter!)));
                return Driver.Return(method, Driver.Cursor(Driver.Unwrap(method.ReturnType).GetGenericArguments()[0], found));
            }
            case "CountDocumentsAsync":
            case "CountDocuments":
            {
                // countDocuments is an aggregate with $match and $group: $sum on the server.
                var pipeline = new List<BsonDocument> { new("$match", filter!), new("$group", new BsonDocument { { "_id", 1 }, { "n", new BsonDocument("$sum", 1) } }) };
                var count = (long)Query(state, filter!, null, null, null).Count;
                _server.Record(new ServerCall("aggregate", _database, _name, transaction, existed, Pipeline: pipeline, Affected: count));
                return Driver.Return(method, count);
            }
            case "DistinctAsync":
            case "Distinct":
            {
                var definition = args.First(a => a is not null && a.GetType().GetMethod("Render", [typeof(RenderArgs<BsonDocument>)]) is not null && a is not FilterDefinition<BsonDocument>)!;
                var field = (string)Driver.Property(definition.GetType().GetMethod("Render", [typeof(RenderArgs<BsonDocument>)])!.Invoke(definition, [Driver.Args]), "FieldName")!;
                var values = Query(state, filter!, null, null, null).Select(d => BsonMatch.Get(d, field)).OfType<BsonValue>().Distinct().ToList();
                _server.Record(new ServerCall("distinct", _database, _name, transaction, existed, Filter: filter, Options: new BsonDocument("key", field)));
                var itemType = Driver.Unwrap(method.ReturnType).GetGenericArguments()[0];
                var items = values.Select(v => itemType == typeof(string) ? (object)v.AsString : v).ToList();
                return Driver.Return(method, Activator.CreateInstance(typeof(ListCursor<>).MakeGenericType(itemType), [items])!);
            }
            case "AggregateAsync":
            case "Aggregate":
            {
                var pipeline = args[session is null ? 0 : 1]!;
                var rendered = pipeline.GetType().GetMethod("Render")!.Invoke(pipeline, [Driver.Args])!;
                var stages = ((IEnumerable<BsonDocument>)Driver.Property(rendered, "Documents")!).ToList();
                var options = args.OfType<AggregateOptions>().FirstOrDefault();
                _server.Record(new ServerCall("aggregate", _database, _name, transaction, existed, Pipeline: stages,
                    Options: options?.AllowDiskUse is { } disk ? new BsonDocument("allowDiskUse", disk) : null));
                var resultType = Driver.Unwrap(method.ReturnType).GetGenericArguments()[0];
                return Driver.Return(method, Driver.Cursor(resultType, []));
            }
            case "InsertOneAsync":
            case "InsertOne":
            case "InsertManyAsync":
            case "InsertMany":
            {
                var documents = args.OfType<BsonDocument>().Concat(args.OfType<IEnumerable<BsonDocument>>().SelectMany(d => d)).ToList();
                _server.Record(new ServerCall("insert", _database, _name, transaction, existed, Documents: documents.Select(d => d.DeepClone().AsBsonDocument).ToList(), Affected: documents.Count));
                foreach (var document in documents) Insert(state, session, document);
                return Driver.Return(method, null);
            }
            case "UpdateOneAsync":
            case "UpdateOne":
            case "UpdateManyAsync":
            case "UpdateMany":
            case "ReplaceOneAsync":
            case "ReplaceOne":
            {
                var multi = method.Name.StartsWith("UpdateMany");
                var replacement = method.Name.StartsWith("Replace") ? args.OfType<BsonDocument>().Single() : null;
                var update = replacement ?? args.OfType<UpdateDefinition<BsonDocument>>().Single().Render(Driver.Args).AsBsonDocument;
                var upsert = args.OfType<UpdateOptions>().FirstOrDefault()?.IsUpsert == true || args.OfType<ReplaceOptions>().FirstOrDefault()?.IsUpsert == true;
                var (matched, upserted) = Update(state, session, filter!, update, multi, upsert);
                _server.Record(new ServerCall("update", _database, _name, transaction, existed, Filter: filter, Update: update, Multi: multi, Upsert: upsert, Affected: matched));
                object result = replacement is not null
                    ? new ReplaceOneResult.Acknowledged(matched, matched, upserted)
                    : new UpdateResult.Acknowledged(matched, matched, upserted);
                return Driver.Return(method, result);
            }
            case "DeleteOneAsync":
            case "DeleteOne":
            case "DeleteManyAsync":
            case "DeleteMany":
            {
                var multi = method.Name.StartsWith("DeleteMany");
                var deleted = Delete(state, session, filter!, multi);
                _server.Record(new ServerCall("delete", _database, _name, transaction, existed, Filter: filter, Multi: multi, Affected: deleted));
                return Driver.Return(method, new DeleteResult.Acknowledged(deleted));
            }
            case "FindOneAndUpdateAsync":
            case "FindOneAndUpdate":
            {
                var update = args.OfType<UpdateDefinition<BsonDocument>>().Single().Render(Driver.Args).AsBsonDocument;
                var options = args.FirstOrDefault(a => a?.GetType().Name.StartsWith("FindOneAndUpdateOptions") == true);
                var upsert = Driver.Property(options, "IsUpsert") as bool? == true;
                var after = Driver.Property(options, "ReturnDocument") as ReturnDocument? == ReturnDocument.After;
                var before = Query(state, filter!, null, null, 1).FirstOrDefault();
                Update(state, session, filter!, update, multi: false, upsert);
                var result = after ? Query(state, filter!, null, null, 1).FirstOrDefault() : before;
                _server.Record(new ServerCall("findAndModify", _database, _name, transaction, existed, Filter: filter, Update: update, Upsert: upsert, Affected: result is null ? 0 : 1));
                return Driver.Return(method, result);
            }
            case "BulkWriteAsync":
            case "BulkWrite":
            {
                // On the wire, each run of statements of one kind is one update / delete / insert command; recorded here per statement.
                var models = args.OfType<IEnumerable<WriteModel<BsonDocument>>>().Single().ToList();
                long matched = 0, deleted = 0, inserted = 0;
                foreach (var model in models)
                {
                    switch (model)
                    {
                        case UpdateOneModel<BsonDocument> or ReplaceOneModel<BsonDocument>:
                        {
                            var (where, update, upsert) = model is UpdateOneModel<BsonDocument> u
                                ? (Driver.Render(u.Filter), u.Update.Render(Driver.Args).AsBsonDocument, u.IsUpsert)
                                : (Driver.Render(((ReplaceOneModel<BsonDocument>)model).Filter), ((ReplaceOneModel<BsonDocument>)model).Replacement, ((ReplaceOneModel<BsonDocument>)model).IsUpsert);
                            var (count, upserted) = Update(state, session, where, update, multi: false, upsert);
                            _server.Record(new ServerCall("update", _database, _name, transaction, existed, Filter: where, Update: update, Upsert: upsert, Affected: Math.Max(count, upserted is null ? 0 : 1)));
                            matched += count;
                            break;
                        }
                        case DeleteOneModel<BsonDocument> d:
                        {
                            var where = Driver.Render(d.Filter);
                            var count = Delete(state, session, where, multi: false);
                            _server.Record(new ServerCall("delete", _database, _name, transaction, existed, Filter: where, Affected: count));
                            deleted += count;
                            break;
                        }
                        default: throw new NotSupportedException($"the fake bulk write has no {model.GetType().Name}");
                    }
                }
                return Driver.Return(method, new BulkWriteResult<BsonDocument>.Acknowledged(models.Count, matched, deleted, inserted, matched, models, []));
            }
            default: throw new NotSupportedException($"the fake collection has no {method.Name}");
        }
    }

    /// <summary>$near/$nearSphere need a geospatial index on their field: noted on the call for the limit check.</summary>
    private static BsonDocument? GeoIndexNote(FakeCollection state, BsonDocument filter)
    {
        var missing = new BsonArray();
        foreach (var (field, op) in NearClauses(filter))
            if (!state.HasGeoIndexOn(field)) missing.Add(field + " " + op);
        return missing.Count == 0 ? null : new BsonDocument("nearWithoutGeoIndex", missing);
    }

    internal static IEnumerable<(string Field, string Operator)> NearClauses(BsonDocument filter)
    {
        foreach (var element in filter)
        {
            if (element.Value is BsonArray array)
            {
                foreach (var nested in array.OfType<BsonDocument>().SelectMany(NearClauses)) yield return nested;
            }
            else if (element.Value is BsonDocument condition)
            {
                foreach (var op in condition.Names.Where(n => n is "$near" or "$nearSphere")) yield return (element.Name, op);
            }
        }
    }

    private static List<BsonDocument> Query(FakeCollection state, BsonDocument filter, BsonDocument? sort, int? skip, int? limit)
    {
        lock (state)
        {
            IEnumerable<BsonDocument> found = state.Documents.Where(d => BsonMatch.Matches(d, filter)).ToList();
            if (sort is not null)
            {
                var ordered = found.OrderBy(_ => 0);
                foreach (var key in sort)
                {
                    var path = key.Name;
                    ordered = key.Value.ToInt32() >= 0
                        ? ordered.ThenBy(d => BsonMatch.Get(d, path), Comparer<BsonValue?>.Create(BsonMatch.CompareForSort))
                        : ordered.ThenByDescending(d => BsonMatch.Get(d, path), Comparer<BsonValue?>.Create(BsonMatch.CompareForSort));
                }
                found = ordered;
            }
            if (skip is > 0) found = found.Skip(skip.Value);
            if (limit is > 0) found = found.Take(limit.Value);
            return found.Select(d => d.DeepClone().AsBsonDocument).ToList();
        }
    }

    private void Insert(FakeCollection state, RecordingSession? session, BsonDocument document)
    {
        if (_server.FailWrite?.Invoke(_name, document) is { } code) throw FakeMongoServer.WriteError(code, $"fake failure {code}");
        lock (state)
        {
            var copy = document.DeepClone().AsBsonDocument;
            if (!copy.Contains("_id")) copy.InsertAt(0, new BsonElement("_id", ObjectId.GenerateNewId()));
            if (!state.Ids.Add(copy["_id"]))
                throw FakeMongoServer.WriteError(11000, $"E11000 duplicate key error collection: {_database}.{_name} index: _id_");
            var wasCreated = state.Exists;
            state.Exists = true;
            state.Documents.Add(copy);
            session?.Undo.Add(() => { lock (state) { Remove(state, copy); if (!wasCreated) state.Exists = false; } });
        }
    }

    private (long Matched, BsonValue? Upserted) Update(FakeCollection state, RecordingSession? session, BsonDocument filter, BsonDocument update, bool multi, bool upsert)
    {
        var matched = 0;
        lock (state)
        {
            for (var i = 0; i < state.Documents.Count && (multi || matched == 0); i++)
            {
                var target = state.Documents[i];
                if (!BsonMatch.Matches(target, filter)) continue;
                var updated = BsonMatch.Apply(target, update, inserting: false);
                if (_server.FailWrite?.Invoke(_name, updated) is { } code) throw FakeMongoServer.WriteError(code, $"fake failure {code}");
                state.Documents[i] = updated;
                matched++;
                session?.Undo.Add(() => { lock (state) { var at = state.Documents.FindIndex(d => ReferenceEquals(d, updated)); if (at >= 0) state.Documents[at] = target; } });
            }
            if (matched > 0 || !upsert) return (matched, null);
        }
        var inserted = BsonMatch.Apply(BsonMatch.Seed(filter), update, inserting: true);
        Insert(state, session, inserted);
        return (0, inserted.GetValue("_id", BsonNull.Value));
    }

    private static void Remove(FakeCollection state, BsonDocument document)
    {
        state.Documents.RemoveAt(state.Documents.FindIndex(d => ReferenceEquals(d, document)));
        state.Ids.Remove(document["_id"]);
    }

    private static long Delete(FakeCollection state, RecordingSession? session, BsonDocument filter, bool multi)
    {
        lock (state)
        {
            var removed = new List<BsonDocument>();
            state.Documents.RemoveAll(d =>
            {
                if ((!multi && removed.Count > 0) || !BsonMatch.Matches(d, filter)) return false;
                removed.Add(d);
                return true;
            });
            foreach (var target in removed)
            {
                state.Ids.Remove(target["_id"]);
                session?.Undo.Add(() => { lock (state) { state.Documents.Add(target); state.Ids.Add(target["_id"]); } });
            }
            return removed.Count;
        }
    }
}

/// <summary>IMongoIndexManager{BsonDocument}: createIndexes and listIndexes over the fake collection's index specs.</summary>
public class RecordingIndexes : DispatchProxy
{
    private FakeMongoServer _server = null!;
    private string _database = null!;
    private string _name = null!;
    private RecordingSession? _session;

    public static IMongoIndexManager<BsonDocument> Create(FakeMongoServer server, string database, string name, RecordingSession? session)
    {
        var indexes = Create<IMongoIndexManager<BsonDocument>, RecordingIndexes>();
        var state = (RecordingIndexes)(object)indexes;
        (state._server, state._database, state._name, state._session) = (server, database, name, session);
        return indexes;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        args ??= [];
        var transaction = ((RecordingSession?)(object?)args.OfType<IClientSessionHandle>().FirstOrDefault())?.Transaction;
        var state = _server.Collection(_database, _name);
        switch (method!.Name)
        {
            case "CreateManyAsync":
            case "CreateMany":
            case "CreateOneAsync":
            case "CreateOne":
            {
                var models = args.OfType<CreateIndexModel<BsonDocument>>().Concat(args.OfType<IEnumerable<CreateIndexModel<BsonDocument>>>().SelectMany(m => m)).ToList();
                var specs = models.Select(m => new BsonDocument
                {
                    { "key", m.Keys.Render(Driver.Args) }, { "name", m.Options?.Name ?? "" }, { "unique", m.Options?.Unique ?? false },
                }).ToList();
                var existed = state.Exists;
                _server.Record(new ServerCall("createIndexes", _database, _name, transaction, existed, Documents: specs));
                lock (state)
                {
                    state.Exists = true;
                    foreach (var spec in specs)
                    {
                        var same = state.Indexes.FirstOrDefault(i => i["name"] == spec["name"]);
                        if (same is not null && !same["key"].Equals(spec["key"]))
                            throw FakeMongoServer.CommandError(86, "IndexKeySpecsConflict", $"An existing index has the same name as the requested index: {spec["name"]}");
                        if (same is null) state.Indexes.Add(spec);
                    }
                }
                object names = method.Name.StartsWith("CreateOne") ? specs[0]["name"].AsString : specs.Select(s => s["name"].AsString).ToList();
                return Driver.Return(method, names);
            }
            case "ListAsync":
            case "List":
                _server.Record(new ServerCall("listIndexes", _database, _name, transaction, state.Exists));
                return Driver.Return(method, Driver.Cursor(typeof(BsonDocument), state.IndexSpecs.Select(i => i.DeepClone().AsBsonDocument).ToList()));
            default: throw new NotSupportedException($"the fake index manager has no {method.Name}");
        }
    }
}
