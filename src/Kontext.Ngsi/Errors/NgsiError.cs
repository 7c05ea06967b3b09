namespace Kontext.Ngsi.Errors;

/// <summary>An NGSI-LD error as a value: the ProblemDetails type URI, HTTP status, title and detail.</summary>
public sealed record NgsiError(string Type, int Status, string Title, string Detail)
{
    public const string TypeBase = "https://uri.etsi.org/ngsi-ld/errors/";

    public static NgsiError InvalidRequest(string detail) => new(TypeBase + "InvalidRequest", 400, "Invalid request", detail);
    public static NgsiError BadRequestData(string detail) => new(TypeBase + "BadRequestData", 400, "Bad request data", detail);
    public static NgsiError AlreadyExists(string detail) => new(TypeBase + "AlreadyExists", 409, "Already exists", detail);
    // Conflict (table 5.5.2-1: "the operation conflicts with the current state of the system"): a registration that clashes
    // with another or with local entities (clause 5.9.2), a write an exclusive or redirect source does not offer (clause 5.6).
    public static NgsiError Conflict(string detail) => new(TypeBase + "Conflict", 409, "Conflict", detail);
    public static NgsiError OperationNotSupported(string detail) => new(TypeBase + "OperationNotSupported", 422, "Operation not supported", detail);
    public static NgsiError ResourceNotFound(string detail) => new(TypeBase + "ResourceNotFound", 404, "Resource not found", detail);
    public static NgsiError InternalError(string detail) => new(TypeBase + "InternalError", 500, "Internal error", detail);
    public static NgsiError TooComplexQuery(string detail) => new(TypeBase + "TooComplexQuery", 403, "Too complex query", detail);
    public static NgsiError TooManyResults(string detail) => new(TypeBase + "TooManyResults", 403, "Too many results", detail);
    // 504 since v1.9.1 (table 6.3.2-1; 503 before): the broker is a gateway that could not get the document.
    public static NgsiError LdContextNotAvailable(string detail) => new(TypeBase + "LdContextNotAvailable", 504, "JSON-LD context not available", detail);
    public static NgsiError NonexistentTenant(string detail) => new(TypeBase + "NonexistentTenant", 404, "Nonexistent tenant", detail);

    // The spec has no dedicated types for these HTTP-level refusals; like Orion-LD we keep the NGSI-LD
    // error namespace so every error body has the same shape, and name them after the HTTP condition.
    public static NgsiError UnsupportedMediaType(string detail) => new(TypeBase + "UnsupportedMediaType", 415, "Unsupported media type", detail);
    public static NgsiError NotAcceptable(string detail) => new(TypeBase + "NotAcceptable", 406, "Not acceptable", detail);
    public static NgsiError RequestEntityTooLarge(string detail) => new(TypeBase + "RequestEntityTooLarge", 413, "Request entity too large", detail);
    public static NgsiError MethodNotAllowed(string detail) => new(TypeBase + "MethodNotAllowed", 405, "Method not allowed", detail);

    /// <summary>A configured cap on what callers may create (tenants, subscriptions, contexts) is reached (Kontext:Limits).</summary>
    public static NgsiError LimitExceeded(string detail) => new(TypeBase + "LimitExceeded", 403, "Limit exceeded", detail);
    /// <summary>
    /// A bounded resource of the broker stayed busy longer than it lets a request wait (Kontext:Limits:ReaderWait): the
    /// request did nothing, and the caller may send it again after <paramref name="retryAfter"/> (the Retry-After header).
    /// </summary>
    public static NgsiError ServiceUnavailable(string detail, TimeSpan retryAfter) =>
        new(TypeBase + "ServiceUnavailable", 503, "Service unavailable", detail) { RetryAfter = retryAfter };
    /// <summary>A request that came back to this broker and would be forwarded again (clauses 6.3.17, 6.3.18).</summary>
    public static NgsiError LoopDetected(string detail) => new(TypeBase + "LoopDetected", 508, "Loop detected", detail);

    /// <summary>When the caller may try again (answered as Retry-After), for refusals of a busy broker; null for the others.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>Carries an <see cref="NgsiError"/> out of deep code paths; mapped to HTTP in one place at the edge.</summary>
public sealed class NgsiException(NgsiError error) : Exception(error.Detail)
{
    public NgsiError Error { get; } = error;

    public static NgsiException BadRequestData(string detail) => new(NgsiError.BadRequestData(detail));
    public static NgsiException InvalidRequest(string detail) => new(NgsiError.InvalidRequest(detail));
    public static NgsiException NotFound(string detail) => new(NgsiError.ResourceNotFound(detail));
}
