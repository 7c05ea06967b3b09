using Kontext.Broker.Http;
using Kontext.Ngsi.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kontext.Broker.Tests.Hardening;

/// <summary>
/// Dot segments and empty ids in request paths (IETF RFC 3986 clause 5.2.4, NGSI-LD clause 4.6.2): the server would
/// resolve "/attrs/.." to the entity before routing, so the raw target is checked as the client sent it. HttpClient
/// resolves dot segments itself, so these cases are built as the server sees them.
/// </summary>
public sealed class MalformedPathTests
{
    private static HttpContext Request(string method, string rawTarget, string resolvedPath)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Path = resolvedPath;
        http.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        return http;
    }

    [Theory]
    [InlineData("/ngsi-ld/v1/temporal/entities/urn:e/attrs/..?deleteAll=false", "/ngsi-ld/v1/temporal/entities/urn:e")]
    [InlineData("/ngsi-ld/v1/temporal/entities/urn:e/attrs/%2e%2e", "/ngsi-ld/v1/temporal/entities/urn:e")]
    [InlineData("/ngsi-ld/v1/temporal/entities/urn:e/attrs/%2e", "/ngsi-ld/v1/temporal/entities/urn:e/attrs")]
    [InlineData("/ngsi-ld/v1/entities/urn:e/attrs/%252e%252e", "/ngsi-ld/v1/entities/urn:e/attrs/%2e%2e")]
    public void A_dot_segment_is_BadRequestData(string raw, string resolved)
    {
        var act = () => MalformedPaths.Check(Request("DELETE", raw, resolved));
        act.Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith("BadRequestData");
    }

    [Fact]
    public void Dots_inside_a_name_are_no_dot_segment()
    {
        var act = () => MalformedPaths.Check(Request("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:a.b..c", "/ngsi-ld/v1/entities/urn:ngsi-ld:a.b..c"));
        act.Should().NotThrow();
    }

    [Theory]
    [InlineData("/ngsi-ld/v1/entities/urn:e/attrs//x")] // an empty name after attrs is refused on the temporal API only
    [InlineData("/ngsi-ld/v1/entities")]
    [InlineData("/ngsi-ld/v1/entitiesX//y")] // not below the root
    [InlineData("/ngsi-ld/v1/entities/urn:ngsi-ld:T:%41")]
    public void Paths_with_nothing_malformed_pass(string path)
    {
        var act = () => MalformedPaths.Check(Request("PATCH", path, path));
        act.Should().NotThrow();
    }

    [Theory]
    [InlineData("POST", "/ngsi-ld/v1/temporal/entities//attrs", "BadRequestData")]
    [InlineData("DELETE", "/ngsi-ld/v1/temporal/entities/urn:e/attrs//urn:i:1", "BadRequestData")]
    [InlineData("PATCH", "/ngsi-ld/v1/temporal/entities/urn:e/attrs//urn:i:1", "MethodNotAllowed")]
    [InlineData("GET", "/ngsi-ld/v1/entities//attrs", "BadRequestData")]
    [InlineData("GET", "/NGSI-LD/v1/Entities//attrs", "BadRequestData")] // the roots match as routing does, ignoring case
    public void An_empty_entity_id_or_temporal_attribute_name_is_refused(string method, string path, string error)
    {
        var act = () => MalformedPaths.Check(Request(method, path, path));
        act.Should().Throw<NgsiException>().Which.Error.Type.Should().EndWith(error);
    }
}
