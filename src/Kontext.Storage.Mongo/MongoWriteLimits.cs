using Kontext.Ngsi.Errors;
using MongoDB.Bson;

namespace Kontext.Storage.Mongo;

/// <summary>
/// Sizes checked before anything is sent: a document above MongoDB's 16 MiB BSON limit is refused with 413 instead of
/// failing on the server, and a group of documents is cut into batches that each fit one transaction's budget.
/// </summary>
public static class MongoWriteLimits
{
    /// <summary>"The maximum BSON document size is 16 mebibytes" (Limits and Thresholds → BSON Document Size).</summary>
    public const int MaxDocumentBytes = 16 * 1024 * 1024;

    public static int Size(BsonDocument document) => document.ToBson().Length;

    public static void RequireStorable(BsonDocument document, string what)
    {
        var size = Size(document);
        if (size > MaxDocumentBytes)
            throw new NgsiException(NgsiError.RequestEntityTooLarge(
                $"The {what} would take {size} bytes as one MongoDB document; MongoDB stores at most {MaxDocumentBytes} bytes per document"));
    }

    /// <summary>Consecutive batches of at most <paramref name="maxBytes"/> and <paramref name="maxCount"/> documents (a larger document goes alone).</summary>
    public static List<List<BsonDocument>> Batches(IEnumerable<BsonDocument> documents, int maxBytes, int maxCount)
    {
        var batches = new List<List<BsonDocument>>();
        var current = new List<BsonDocument>();
        long bytes = 0;
        foreach (var document in documents)
        {
            var size = Size(document);
            if (current.Count > 0 && (bytes + size > maxBytes || current.Count >= maxCount))
            {
                batches.Add(current);
                (current, bytes) = ([], 0);
            }
            current.Add(document);
            bytes += size;
        }
        if (current.Count > 0) batches.Add(current);
        return batches;
    }
}
