using MongoDB.Bson;
using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>
/// What the store needs of the deployment, checked once when the storage is constructed (that is, when the broker starts):
/// multi-document transactions, so a replica set or a sharded cluster (hello reports setName, or msg "isdbgrid" from a
/// mongos), and MongoDB 7.0 or later, the oldest release the audit in docs/mongodb.md was made against.
/// </summary>
public static class MongoDeployment
{
    public static readonly Version Minimum = new(7, 0);

    /// <summary>Asks the server (hello, buildInfo) and throws <see cref="InvalidOperationException"/> when the store cannot run on it.</summary>
    public static void Require(IMongoClient client)
    {
        var admin = client.GetDatabase("admin");
        var hello = admin.RunCommand<BsonDocument>(new BsonDocument("hello", 1));
        var build = admin.RunCommand<BsonDocument>(new BsonDocument("buildInfo", 1));
        if (Problem(hello, build.GetValue("version", "").AsString) is { } problem) throw new InvalidOperationException(problem);
    }

    /// <summary>Why the store cannot run on a server that answered hello and reported this version; null when it can.</summary>
    public static string? Problem(BsonDocument hello, string version)
    {
        var clustered = hello.Contains("setName") || (hello.TryGetValue("msg", out var msg) && msg == "isdbgrid");
        if (!clustered)
            return "Kontext needs MongoDB as a replica set or a sharded cluster: every write commits the entity, its history and its " +
                   "change-log entry in one multi-document transaction, which a standalone mongod does not offer. Start mongod with " +
                   "--replSet rs0 and run rs.initiate() once (a single-member replica set is enough; docker-compose.yml does this), " +
                   "then add ?replicaSet=rs0 to Kontext:Storage:Mongo:ConnectionString.";
        var parsed = Version.TryParse(version.Split('-')[0], out var v) ? v : null;
        if (parsed is null || parsed < Minimum)
            return $"Kontext needs MongoDB {Minimum.Major}.{Minimum.Minor} or later; this server reports version '{version}'.";
        return null;
    }
}
