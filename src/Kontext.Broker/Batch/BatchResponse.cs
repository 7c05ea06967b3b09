using System.Text.Encodings.Web;
using System.Text.Json;
using Kontext.Broker.Http;

namespace Kontext.Broker.Batch;

/// <summary>
/// The answers of the batch operations (clauses 6.14–6.18 and /entityOperations/merge): 201 with the array of created ids, 204, or 207 with a
/// BatchOperationResult (clause 5.2.16) whose errors are BatchEntityErrors (clause 5.2.17) carrying a ProblemDetails.
/// Ids appear once in <c>success</c> even when the batch names an entity several times.
/// </summary>
internal static class BatchResponse
{

    /// <summary>Create: 201 and the ids when every entity was created, else 207.</summary>
    public static Task WriteCreateAsync(BatchRequest batch, IReadOnlyList<BatchItemResult> results) =>
        results.All(r => r.Succeeded)
            ? WriteIdsAsync(batch, DistinctIds(results, r => r.Succeeded))
            : WriteMultiStatusAsync(batch, results);

    /// <summary>Upsert: 201 and the ids of the created entities when some were created, 204 when all existed, 207 on any error.</summary>
    public static Task WriteUpsertAsync(BatchRequest batch, IReadOnlyList<BatchItemResult> results)
    {
        if (!results.All(r => r.Succeeded)) return WriteMultiStatusAsync(batch, results);
        var created = DistinctIds(results, r => r.Status == BatchItemStatus.Created);
        if (created.Count > 0) return WriteIdsAsync(batch, created);
        NoContent(batch);
        return Task.CompletedTask;
    }

    /// <summary>Update, delete, merge: 204 when every entity succeeded, else 207.</summary>
    public static Task WriteChangedAsync(BatchRequest batch, IReadOnlyList<BatchItemResult> results)
    {
        if (!results.All(r => r.Succeeded)) return WriteMultiStatusAsync(batch, results);
        NoContent(batch);
        return Task.CompletedTask;
    }

    private static void NoContent(BatchRequest batch)
    {
        batch.Http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task WriteIdsAsync(BatchRequest batch, IReadOnlyList<string> ids)
    {
        var response = Start(batch, StatusCodes.Status201Created);
        await using var writer = new Utf8JsonWriter(response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartArray();
        foreach (var id in ids) writer.WriteStringValue(id);
        writer.WriteEndArray();
        await writer.FlushAsync(batch.Aborted);
    }

    private static async Task WriteMultiStatusAsync(BatchRequest batch, IReadOnlyList<BatchItemResult> results)
    {
        var response = Start(batch, StatusCodes.Status207MultiStatus);
        await using var writer = new Utf8JsonWriter(response.BodyWriter, NgsiJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartArray("success");
        foreach (var id in DistinctIds(results, r => r.Succeeded)) writer.WriteStringValue(id);
        writer.WriteEndArray();
        writer.WriteStartArray("errors");
        foreach (var result in results.Where(r => !r.Succeeded))
        {
            var error = result.Error!;
            writer.WriteStartObject();
            // An item without a usable id is reported with the id it gave, or null when it gave none.
            if (result.EntityId is null) writer.WriteNull("entityId");
            else writer.WriteString("entityId", result.EntityId);
            if (result.RegistrationId is not null) writer.WriteString("registrationId", result.RegistrationId); // a source's error (clause 5.2.17)
            writer.WriteStartObject("error");
            writer.WriteString("type", error.Type);
            writer.WriteString("title", error.Title);
            writer.WriteNumber("status", error.Status);
            writer.WriteString("detail", error.Detail);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(batch.Aborted);
    }

    private static HttpResponse Start(BatchRequest batch, int status)
    {
        var response = batch.Http.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        return response;
    }

    private static List<string> DistinctIds(IEnumerable<BatchItemResult> results, Func<BatchItemResult, bool> include)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return results.OrderBy(r => r.Index).Where(include).Select(r => r.EntityId!).Where(seen.Add).ToList();
    }
}
