using System.Reflection;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;

namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>Shared plumbing of the recording proxies: rendering driver definitions to BSON and typed results.</summary>
internal static class Driver
{
    public static readonly RenderArgs<BsonDocument> Args = new(BsonDocumentSerializer.Instance, BsonSerializer.SerializerRegistry);

    public static BsonDocument Render(FilterDefinition<BsonDocument> filter) => filter.Render(Args);

    public static object? Property(object? target, string name) => target?.GetType().GetProperty(name)?.GetValue(target);

    public static object Task(Type resultType, object? value) =>
        typeof(Task).GetMethod(nameof(System.Threading.Tasks.Task.FromResult))!.MakeGenericMethod(resultType).Invoke(null, [value])!;

    public static object Cursor(Type itemType, IEnumerable<BsonDocument> documents) =>
        Activator.CreateInstance(typeof(ListCursor<>).MakeGenericType(itemType), [documents.Select(d => (object)d).ToList()])!;

    /// <summary>The result type of a Task{T} or the type itself.</summary>
    public static Type Unwrap(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>) ? type.GetGenericArguments()[0] : type;

    public static object? Return(MethodInfo method, object? value)
    {
        if (method.ReturnType == typeof(Task)) return System.Threading.Tasks.Task.CompletedTask;
        if (method.ReturnType == typeof(void)) return null;
        return method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>)
            ? Task(method.ReturnType.GetGenericArguments()[0], value)
            : value;
    }
}

/// <summary>A cursor over a list, in one batch.</summary>
public sealed class ListCursor<T>(List<object> items) : IAsyncCursor<T>
{
    private bool _done;

    public IEnumerable<T> Current { get; private set; } = [];

    public bool MoveNext(CancellationToken cancellationToken = default)
    {
        if (_done) return false;
        _done = true;
        Current = items.Cast<T>().ToList();
        return true;
    }

    public Task<bool> MoveNextAsync(CancellationToken cancellationToken = default) => Task.FromResult(MoveNext(cancellationToken));

    public void Dispose() { }
}

/// <summary>IMongoClient over the fake server.</summary>
public class RecordingClient : DispatchProxy
{
    private FakeMongoServer _server = null!;

    public static IMongoClient Create(FakeMongoServer server)
    {
        var client = Create<IMongoClient, RecordingClient>();
        ((RecordingClient)(object)client)._server = server;
        return client;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        switch (method!.Name)
        {
            case "GetDatabase": return RecordingDatabase.Create(_server, (string)args![0]!, (IMongoClient)(object)this);
            case "StartSession": return RecordingSession.Create((IMongoClient)(object)this, _server);
            case "StartSessionAsync": return Driver.Task(typeof(IClientSessionHandle), RecordingSession.Create((IMongoClient)(object)this, _server));
            case "Dispose": return null;
            default: throw new NotSupportedException($"the fake client has no {method.Name}");
        }
    }
}

/// <summary>IClientSessionHandle: WithTransaction runs the callback as one transaction, undone if it throws.</summary>
public class RecordingSession : DispatchProxy
{
    private IMongoClient _client = null!;
    private FakeMongoServer _server = null!;

    public long? Transaction { get; private set; }
    internal List<Action> Undo { get; } = [];

    public static IClientSessionHandle Create(IMongoClient client, FakeMongoServer server)
    {
        var session = Create<IClientSessionHandle, RecordingSession>();
        var state = (RecordingSession)(object)session;
        (state._client, state._server) = (client, server);
        return session;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        switch (method!.Name)
        {
            case "WithTransactionAsync":
                return typeof(RecordingSession).GetMethod(nameof(RunAsync), BindingFlags.NonPublic | BindingFlags.Instance)!
                    .MakeGenericMethod(method.GetGenericArguments()[0]).Invoke(this, [args![0], args[2]]);
            case "get_IsInTransaction": return Transaction is not null;
            case "get_Client": return _client;
            case "Dispose": return null;
            default: throw new NotSupportedException($"the fake session has no {method.Name}");
        }
    }

    private async Task<T> RunAsync<T>(Func<IClientSessionHandle, CancellationToken, Task<T>> callback, CancellationToken cancellationToken)
    {
        if (Transaction is not null) throw new InvalidOperationException("nested transaction");
        Transaction = _server.NextTransaction();
        Undo.Clear();
        try
        {
            var result = await callback((IClientSessionHandle)(object)this, cancellationToken);
            _server.Record(new ServerCall("commitTransaction", "admin", "", Transaction, true));
            return result;
        }
        catch
        {
            for (var i = Undo.Count - 1; i >= 0; i--) Undo[i]();
            _server.Record(new ServerCall("abortTransaction", "admin", "", Transaction, true));
            throw;
        }
        finally
        {
            Transaction = null;
            Undo.Clear();
        }
    }
}

/// <summary>IMongoDatabase: collections, createCollection, listCollections and the hello / buildInfo commands.</summary>
public class RecordingDatabase : DispatchProxy
{
    private FakeMongoServer _server = null!;
    private string _name = null!;
    private IMongoClient _client = null!;

    public static IMongoDatabase Create(FakeMongoServer server, string name, IMongoClient client)
    {
        var database = Create<IMongoDatabase, RecordingDatabase>();
        var state = (RecordingDatabase)(object)database;
        (state._server, state._name, state._client) = (server, name, client);
        return database;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        var session = args?.OfType<IClientSessionHandle>().FirstOrDefault();
        var transaction = session is null ? null : ((RecordingSession)(object)session).Transaction;
        switch (method!.Name)
        {
            case "get_DatabaseNamespace": return new DatabaseNamespace(_name);
            case "get_Client": return _client;
            case "get_Settings": return new MongoDatabaseSettings();
            case "GetCollection":
                if (method.GetGenericArguments()[0] != typeof(BsonDocument)) throw new NotSupportedException("the fake stores BsonDocument collections only");
                return RecordingCollection.Create(_server, _name, (string)args![0]!, (IMongoDatabase)(object)this);
            case "CreateCollection":
            case "CreateCollectionAsync":
            {
                var name = (string)args!.First(a => a is string)!;
                var options = args!.OfType<CreateCollectionOptions>().FirstOrDefault();
                var rendered = new BsonDocument();
                if (options?.TimeSeriesOptions is { } ts)
                {
                    var spec = new BsonDocument("timeField", ts.TimeField);
                    if (ts.MetaField is not null) spec.Add("metaField", ts.MetaField);
                    rendered.Add("timeseries", spec);
                }
                var collection = _server.Collection(_name, name);
                _server.Record(new ServerCall("create", _name, name, transaction, collection.Exists, Options: rendered));
                if (collection.Exists) throw FakeMongoServer.CommandError(48, "NamespaceExists", $"Collection {_name}.{name} already exists.");
                collection.Exists = true;
                collection.Options = rendered;
                return Driver.Return(method, null);
            }
            case "ListCollections":
            case "ListCollectionsAsync":
            {
                _server.Record(new ServerCall("listCollections", _name, "", transaction, true));
                var docs = _server.Collections(_name).Select(c => new BsonDocument
                {
                    { "name", c.Name }, { "type", c.IsTimeSeries ? "timeseries" : "collection" }, { "options", c.Options },
                });
                var filter = Driver.Property(args!.OfType<ListCollectionsOptions>().FirstOrDefault(), "Filter") as FilterDefinition<BsonDocument>;
                if (filter is not null) docs = docs.Where(d => BsonMatch.Matches(d, Driver.Render(filter)));
                return Driver.Return(method, Driver.Cursor(typeof(BsonDocument), docs.ToList()));
            }
            case "RunCommand":
            case "RunCommandAsync":
            {
                var command = args![session is null ? 0 : 1] switch
                {
                    BsonDocumentCommand<BsonDocument> c => c.Document,
                    Command<BsonDocument> c => c.Render(Driver.Args.SerializerRegistry).Document,
                    var other => throw new NotSupportedException($"command {other}"),
                };
                var name = command.GetElement(0).Name;
                _server.Record(new ServerCall(name, _name, "", transaction, true, Filter: command));
                var reply = name switch
                {
                    "hello" or "isMaster" => _server.Hello,
                    "buildInfo" => new BsonDocument { { "version", _server.Version }, { "ok", 1 } },
                    "ping" => new BsonDocument("ok", 1),
                    _ => throw new NotSupportedException($"the fake server has no command {name}"),
                };
                return Driver.Return(method, reply);
            }
            default: throw new NotSupportedException($"the fake database has no {method.Name}");
        }
    }
}
