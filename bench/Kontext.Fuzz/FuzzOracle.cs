using System.Text.Json;

namespace Kontext.Fuzz;

/// <summary>
/// What every answer must satisfy, whatever the request: every error an NGSI-LD ProblemDetails, and no 5xx except the
/// one the spec prescribes for a remote @context that cannot be fetched (LdContextNotAvailable, 503/504).
/// </summary>
public static class FuzzOracle
{
    /// <summary>Null when the answer is acceptable, else what is wrong with it.</summary>
    public static string? Check(string method, int status, string? contentType, byte[] body)
    {
        if (status < 400) return null;
        if (status >= 500 && status is not (503 or 504)) return $"status {status}";
        if (method == "HEAD") return null; // a HEAD answer has no body by definition
        if (body.Length == 0) return $"status {status} with an empty body";
        if (contentType is null || !contentType.Contains("json", StringComparison.OrdinalIgnoreCase)) return $"status {status} with Content-Type {contentType}";
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "error body is not an object";
            foreach (var member in new[] { "type", "title", "detail" })
                if (!root.TryGetProperty(member, out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
                    return $"error body lacks '{member}'";
            if (!root.TryGetProperty("status", out var s) || !s.TryGetInt32(out var st) || st != status) return "error body 'status' differs from the HTTP status";
            if (status >= 500 && !(status is 503 or 504 && root.GetProperty("type").GetString()!.EndsWith("/LdContextNotAvailable", StringComparison.Ordinal)))
                return $"status {status}";
            return null;
        }
        catch (JsonException ex)
        {
            return $"status {status} with a body that is not JSON: " + ex.Message;
        }
    }
}
