using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using static Kontext.Broker.Tests.Temporal.TemporalApi;

namespace Kontext.Broker.Tests.Temporal;

/// <summary>
/// The Temporal Evolution of the Scope (clause 4.5.6) and scopeQ on the temporal query (clause 5.7.4.4 with the
/// validity of clause 4.18: a Scope is valid from when it is set until it is replaced or removed).
/// </summary>
public sealed class TemporalScopeTests : IClassFixture<BrokerFixture>, IAsyncLifetime
{
    private const string Window = "timerel=between&timeAt=2026-03-01T12:00:00Z&endTimeAt=2026-03-01T13:00:00Z";
    private readonly HttpClient _client;
    private readonly string _tenant = "temporal-scope-" + Guid.NewGuid().ToString("N")[..8];

    public TemporalScopeTests(BrokerFixture fixture) => _client = fixture.Client;

    private static JsonObject Scoped(string id, (object Scope, string At)[] scopes, params (string Value, string At)[] speeds) => new()
    {
        ["id"] = "urn:ngsi-ld:Vehicle:" + id, ["type"] = "Vehicle",
        ["scope"] = new JsonArray(scopes.Select(s => (JsonNode)new JsonObject
        {
            ["type"] = "Property",
            ["value"] = s.Scope is string[] many ? new JsonArray(many.Select(x => (JsonNode)x).ToArray()) : JsonValue.Create((string)s.Scope),
            ["observedAt"] = s.At,
        }).ToArray()),
        ["speed"] = new JsonArray(speeds.Select(s => (JsonNode)new JsonObject { ["type"] = "Property", ["value"] = s.Value, ["observedAt"] = s.At }).ToArray()),
    };

    public async Task InitializeAsync()
    {
        var fixtures = new[]
        {
            Scoped("ab", [("/A/B", "2026-03-01T10:00:00Z")], ("abval", "2026-03-01T12:05:00Z")),
            Scoped("both", [(new[] { "/A/B", "/C" }, "2026-03-01T10:00:00Z")], ("bothval", "2026-03-01T12:05:00Z")),
            Scoped("mid", [("/M", "2026-03-01T12:10:00Z")], ("midpre", "2026-03-01T12:05:00Z"), ("midpost", "2026-03-01T12:15:00Z")),
            Scoped("replaced", [("/R", "2026-03-01T10:00:00Z"), ("/S", "2026-03-01T12:30:00Z")], ("repold", "2026-03-01T12:15:00Z"), ("repnew", "2026-03-01T12:45:00Z")),
            Scoped("late", [("/Z", "2026-03-01T14:00:00Z")], ("lateval", "2026-03-01T12:05:00Z")),
        };
        foreach (var entity in fixtures)
        {
            var response = await _client.CreateTemporalAsync(entity, _tenant);
            response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
        await _client.CreateTemporalAsync(Vehicle("urn:ngsi-ld:Vehicle:bare", ("speed", 1, "2026-03-01T12:05:00Z")), _tenant);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<string> QueryAsync(string scopeQ)
    {
        var response = await _client.Send(HttpMethod.Get, $"{Root}?type=Vehicle&scopeQ={Uri.EscapeDataString(scopeQ)}&{Window}", tenant: _tenant);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return text;
    }

    [Fact]
    public async Task ScopeQ_selects_by_the_scopes_valid_in_the_window()
    {
        var exact = await QueryAsync("/A/B");
        exact.Should().Contain("Vehicle:ab\"").And.Contain("Vehicle:both\"").And.NotContain("Vehicle:bare").And.NotContain("Vehicle:late");
        var any = await QueryAsync("/#");
        any.Should().Contain("Vehicle:mid\"").And.Contain("Vehicle:replaced\"").And.NotContain("Vehicle:bare").And.NotContain("Vehicle:late", "/Z became valid only after the window");
        (await QueryAsync("(/A/B;/C)")).Should().Contain("Vehicle:both\"").And.NotContain("Vehicle:ab\"");
    }

    [Fact]
    public async Task Only_instances_from_while_the_matching_scope_was_valid_are_returned()
    {
        var mid = await QueryAsync("/M");
        mid.Should().Contain("midpost").And.NotContain("midpre");
        var old = await QueryAsync("/R");
        old.Should().Contain("repold").And.NotContain("repnew");
        var replacement = await QueryAsync("/S");
        replacement.Should().Contain("repnew").And.NotContain("repold");
    }

    [Fact]
    public async Task The_scope_evolution_is_a_Property_with_instances()
    {
        var (_, body) = await _client.GetTemporalAsync($"{Root}/urn:ngsi-ld:Vehicle:replaced", _tenant);
        var scope = Instances(body, "scope");
        scope.Select(s => s["value"]!.GetValue<string>()).Should().Equal("/R", "/S");
        scope.Should().OnlyContain(s => s["type"]!.GetValue<string>() == "Property" && s["instanceId"] != null);
        (await _client.GetEntityAsync("urn:ngsi-ld:Vehicle:replaced", tenant: _tenant))["scope"]!.GetValue<string>().Should().Be("/S");
    }

    [Fact]
    public async Task A_scope_change_through_the_Core_API_becomes_an_instance_with_observedAt_a_copy_of_modifiedAt()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Vehicle","scope":"/Old","speed":{"type":"Property","value":1}}""", tenant: _tenant);
        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", """{"scope":"/New"}""", "application/merge-patch+json", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);

        var (_, body) = await _client.GetTemporalAsync($"{Root}/{id}?options=sysAttrs", _tenant);

        var scope = Instances(body, "scope");
        scope.Select(s => s["value"]!.GetValue<string>()).Should().Equal("/Old", "/New");
        scope[1]["observedAt"]!.GetValue<string>().Should().Be(scope[1]["modifiedAt"]!.GetValue<string>());
        scope[1].Select(m => m.Key).Should().BeSubsetOf(["type", "value", "instanceId", "createdAt", "modifiedAt", "deletedAt", "observedAt"]);
    }

    [Fact]
    public async Task Removing_the_scope_through_the_Core_API_is_a_deletion_with_the_empty_array()
    {
        var id = Api.NewId("Vehicle");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Vehicle","scope":["/A","/B"],"speed":{"type":"Property","value":1}}""", tenant: _tenant);
        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/scope", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var (_, deleted) = await _client.GetTemporalAsync($"{Root}/{id}?timeproperty=deletedAt", _tenant);
        var scope = deleted["scope"]!.AsArray().Single()!.AsObject();
        scope["value"]!.ToJsonString().Should().Be("[]");
        scope["deletedAt"].Should().NotBeNull();

        var (_, simplified) = await _client.GetTemporalAsync($"{Root}/{id}?timeproperty=deletedAt&options=temporalValues", _tenant);
        simplified["scope"]!["values"]![0]![0]!.ToJsonString().Should().Be("[]");
    }
}
