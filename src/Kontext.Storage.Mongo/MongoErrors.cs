using MongoDB.Driver;

namespace Kontext.Storage.Mongo;

/// <summary>The server error codes the store reacts to (src/mongo/base/error_codes.yml of the server).</summary>
internal static class MongoErrors
{
    public const int NamespaceExists = 48, WriteConflict = 112, IndexBuildAlreadyInProgress = 285, DuplicateKey = 11000,
        CannotExtractGeoKeys = 16755;

    /// <summary>The server's code for a failed command or write, whichever exception the driver wrapped it in.</summary>
    public static int? Code(Exception e) => e switch
    {
        MongoWriteException w => w.WriteError?.Code,
        MongoBulkWriteException b => b.WriteErrors.FirstOrDefault()?.Code,
        MongoCommandException c => c.Code,
        _ => null,
    };
}
