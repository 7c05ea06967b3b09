namespace Kontext.Storage.Tests.Mongo.Recording;

/// <summary>
/// The audit of docs/mongodb.md ("Audit") as data: every command the store sends, by collection and whether it runs inside a
/// transaction, and every query, update and aggregation operator, each with the MongoDB release that introduced it. The
/// tests run the whole port (<see cref="StoreScenario"/>) and demand that what the server received is exactly this list, and
/// that the document lists every row; so a new command or operator cannot ship without its line in the audit.
/// </summary>
internal static class MongoAudit
{
    public sealed record Command(string Name, string Collection, bool InTransaction);

    /// <summary>Collections are named without their database (every tenant database has the same); "admin" for server commands.</summary>
    public static readonly Command[] Commands =
    [
        new("hello", "admin", false), new("buildInfo", "admin", false), new("commitTransaction", "admin", true), new("abortTransaction", "admin", true),
        new("listCollections", "", false),
        new("find", "tenants", false), new("aggregate", "tenants", false), new("update", "tenants", false),
        new("find", "contexts", false), new("aggregate", "contexts", false), new("update", "contexts", false), new("delete", "contexts", false),
        .. new[] { "entities", "attributeInstances", "changes", "counters", "subscriptions", "outbox", "cursors", "deletedEntities", "historyMarkers", "registrations", "csourceSubscriptions",
            "adapterUplinks", "deadLetters", "validationModes", "temporalBuckets" }
            .Select(c => new Command("create", c, false)),
        new("createIndexes", "entities", false), new("createIndexes", "attributeInstances", false), new("createIndexes", "outbox", false),
        new("createIndexes", "historyMarkers", false), new("createIndexes", "deadLetters", false), new("createIndexes", "temporalBuckets", false), new("listIndexes", "entities", false),
        // the entity write's transaction
        new("find", "entities", true), new("findAndModify", "counters", true), new("insert", "entities", true), new("update", "entities", true),
        new("delete", "entities", true), new("update", "deletedEntities", true), new("delete", "deletedEntities", true),
        new("insert", "attributeInstances", true), new("insert", "historyMarkers", true), new("insert", "changes", true),
        new("find", "historyMarkers", true), new("aggregate", "attributeInstances", true),
        // pre-aggregated buckets: added to by the entity write, rebuilt a day at a time with an instance modify or delete
        // (and by the history maintenance) in a transaction of their own; read, dropped after a purge and backfilled outside
        new("update", "temporalBuckets", true), new("find", "temporalBuckets", true), new("delete", "temporalBuckets", true),
        new("find", "attributeInstances", true), new("update", "attributeInstances", true), new("delete", "attributeInstances", true),
        new("find", "temporalBuckets", false), new("delete", "temporalBuckets", false), new("find", "counters", false), new("update", "counters", false),
        // outside transactions
        new("insert", "attributeInstances", false), new("find", "entities", false), new("aggregate", "entities", false),
        new("find", "historyMarkers", false), new("aggregate", "attributeInstances", false), new("find", "attributeInstances", false),
        new("update", "attributeInstances", false), new("delete", "attributeInstances", false), new("distinct", "attributeInstances", false),
        new("delete", "historyMarkers", false), new("find", "deletedEntities", false), new("find", "changes", false), new("delete", "changes", false),
        new("find", "subscriptions", false), new("update", "subscriptions", false),
        // a subscription's creation and deletion: with the change counter's flag of whether the tenant has one
        new("insert", "subscriptions", true), new("delete", "subscriptions", true), new("find", "subscriptions", true), new("update", "counters", true),
        new("find", "cursors", false), new("findAndModify", "counters", false),
        new("find", "outbox", false), new("update", "outbox", false), new("delete", "outbox", false),
        // context source registrations and registration subscriptions: reads outside, writes in one transaction with their notifications
        new("find", "registrations", false), new("find", "registrations", true), new("insert", "registrations", true), new("update", "registrations", true),
        new("delete", "registrations", true), new("update", "registrations", false),
        new("find", "csourceSubscriptions", false), new("find", "csourceSubscriptions", true), new("insert", "csourceSubscriptions", true),
        new("update", "csourceSubscriptions", true), new("delete", "csourceSubscriptions", true),
        // the adapters' facet: one document per command, no transaction
        new("update", "adapterUplinks", false), new("delete", "adapterUplinks", false),
        new("insert", "deadLetters", false), new("update", "deadLetters", false), new("find", "deadLetters", false), new("delete", "deadLetters", false),
        new("find", "validationModes", false), new("update", "validationModes", false), new("delete", "validationModes", false),
        // the matcher's transaction
        new("find", "cursors", true), new("insert", "cursors", true), new("update", "cursors", true), new("insert", "outbox", true), new("update", "subscriptions", true),
    ];

    public sealed record Operator(string Name, string Since);

    /// <summary>Every $-name the store sends; "< 4.0" for those older than any release MongoDB still supports.</summary>
    public static readonly Operator[] Operators =
    [
        // query predicates
        new("$and", "< 4.0"), new("$or", "< 4.0"), new("$nor", "< 4.0"), new("$in", "< 4.0"), new("$ne", "< 4.0"), new("$gt", "< 4.0"),
        new("$gte", "< 4.0"), new("$lt", "< 4.0"), new("$lte", "< 4.0"), new("$exists", "< 4.0"), new("$elemMatch", "< 4.0"),
        new("$geoWithin", "< 4.0"), new("$geoIntersects", "< 4.0"), new("$geometry", "< 4.0"),
        // updates
        new("$set", "< 4.0"), new("$unset", "4.2"), new("$inc", "< 4.0"), new("$max", "< 4.0"), new("$setOnInsert", "< 4.0"),
        // aggregation stages
        new("$match", "< 4.0"), new("$group", "< 4.0"), new("$sort", "< 4.0"), new("$unwind", "< 4.0"), new("$project", "< 4.0"),
        new("$replaceRoot", "< 4.0"), new("$setWindowFields", "5.0"),
        // accumulators, window functions and expressions
        new("$sum", "< 4.0"), new("$min", "< 4.0"), new("$addToSet", "< 4.0"), new("$top", "5.2"), new("$topN", "5.2"), new("$documentNumber", "5.0"),
        new("$cond", "< 4.0"), new("$eq", "< 4.0"), new("$type", "< 4.0"), new("$multiply", "< 4.0"), new("$divide", "< 4.0"), new("$subtract", "< 4.0"),
        new("$floor", "< 4.0"), new("$objectToArray", "< 4.0"), new("$strLenBytes", "< 4.0"),
    ];
}
