using Kontext.Ngsi.Errors;

namespace Kontext.Broker.Security;

/// <summary>
/// The access refusals as NGSI-LD ProblemDetails. NGSI-LD leaves security to deployments and defines no error types for
/// it, so these live in the broker's own namespace (as the adapters' errors do), named after the HTTP condition.
/// </summary>
internal static class AccessProblems
{
    public const string UnauthorizedType = "urn:kontext:errors:Unauthorized";
    public const string ForbiddenType = "urn:kontext:errors:Forbidden";
    public const string TooManyRequestsType = "urn:kontext:errors:TooManyRequests";

    /// <summary>401: no credential, or one that does not check out.</summary>
    public static NgsiException Unauthorized(string detail) => new(new NgsiError(UnauthorizedType, 401, "Unauthorized", detail));

    /// <summary>403: a known caller without the right.</summary>
    public static NgsiException Forbidden(string detail) => new(new NgsiError(ForbiddenType, 403, "Forbidden", detail));

    public static NgsiError TooManyRequests(string detail) => new(TooManyRequestsType, 429, "Too many requests", detail);
}
