using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Ngsi.Model;

namespace Kontext.Broker.Tests.Entities;

/// <summary>A broker whose reaper runs often, so tests wait little for it.</summary>
public sealed class TransientFixture() : BrokerFixtureBase(new Dictionary<string, string?> { ["Kontext:Transient:SweepInterval"] = "00:00:00.200" });

/// <summary>Transient entities and attributes (clause 4.22): expiresAt on entities and on attribute instances.</summary>
public sealed class TransientEntityTests(TransientFixture fixture) : IClassFixture<TransientFixture>
{
    private readonly HttpClient _client = fixture.Client;
    private static string Past => Validate.Format(DateTimeOffset.UtcNow.AddMinutes(-1));
    private static string Future => Validate.Format(DateTimeOffset.UtcNow.AddHours(1));

    [Fact]
    public async Task An_entity_created_already_expired_is_never_served_and_its_id_is_free()
    {
        var id = Api.NewId();
        (await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","expiresAt":"{{{{Past}}}}","speed":1}""")).StatusCode.Should().Be(HttpStatusCode.Created);

        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var listed = JsonNode.Parse(await (await _client.Send(HttpMethod.Get, $"{Api.Entities}?type=T&id={id}")).Content.ReadAsStringAsync())!.AsArray();
        listed.Should().BeEmpty();
        (await _client.CreateAsync($$$$"""{"id":"{{{{id}}}}","type":"T","speed":2}""")).StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_merge_setting_a_past_expiresAt_ends_the_entity_at_once()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","speed":1}""");

        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", $$$$"""{"expiresAt":"{{{{Future}}}}"}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}", $$$$"""{"expiresAt":"{{{{Past}}}}"}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await _client.Send(HttpMethod.Get, $"{Api.Entities}/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_expired_instance_vanishes_and_its_siblings_stay()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""
            {"id":"{{{{id}}}}","type":"T","humidity":60,"temperature":{"type":"Property","value":21,"expiresAt":"{{{{Past}}}}"},
             "speed":[{"type":"Property","value":1,"datasetId":"urn:ngsi-ld:d:gps","expiresAt":"{{{{Past}}}}"},{"type":"Property","value":2}]}
            """);

        var entity = await _client.GetEntityAsync(id);

        entity.ContainsKey("temperature").Should().BeFalse();
        entity["humidity"]!["value"]!.GetValue<int>().Should().Be(60);
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task ExpiresAt_is_shown_with_the_system_attributes_only()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","expiresAt":"2100-01-01T00:00:00Z","speed":{"type":"Property","value":1,"expiresAt":"2100-01-01T00:00:00Z"}}""");

        var plain = await _client.GetEntityAsync(id);
        var withSystem = await _client.GetEntityAsync(id, "?options=sysAttrs");

        plain.ToJsonString().Should().NotContain("expiresAt");
        withSystem["expiresAt"]!.GetValue<string>().Should().Be("2100-01-01T00:00:00Z");
        withSystem["speed"]!["expiresAt"]!.GetValue<string>().Should().Be("2100-01-01T00:00:00Z");
    }

    [Fact]
    public async Task Update_attributes_replaces_an_instance_and_its_expiry_partial_update_keeps_it()
    {
        var id = Api.NewId();
        await _client.CreateOkAsync($$$$"""
            {"id":"{{{{id}}}}","type":"T","a":{"type":"Property","value":1,"expiresAt":"2100-01-01T00:00:00Z"},"b":{"type":"Property","value":1,"expiresAt":"2100-01-01T00:00:00Z"}}
            """);

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"a":{"type":"Property","value":2}}""");
        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs/b", """{"value":2}""");

        var entity = await _client.GetEntityAsync(id, "?options=sysAttrs");
        entity["a"]!.AsObject().ContainsKey("expiresAt").Should().BeFalse();
        entity["b"]!["expiresAt"]!.GetValue<string>().Should().Be("2100-01-01T00:00:00Z");
    }

    [Fact]
    public async Task The_reaper_removes_an_expired_entity_and_its_history_stays()
    {
        var id = Api.NewId();
        var soon = DateTimeOffset.UtcNow.AddSeconds(1);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","expiresAt":"{{{{Validate.Format(soon)}}}}","temperature":7}""");

        // The reaper turns the expired entity into a deleted one; the temporal API still shows what it was.
        var temporal = await EventuallyAsync(async () =>
        {
            var response = await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}?options=temporalValues&timeproperty=modifiedAt");
            if (response.StatusCode != HttpStatusCode.OK) return null;
            var body = await response.JsonAsync();
            return body.ContainsKey("deletedAt") ? body : null;
        });

        temporal["temperature"]!["values"]!.AsArray().Select(v => v![0]!.GetValue<int>()).Should().Equal(7);
    }

    [Fact]
    public async Task The_reaper_removes_an_expired_instance_with_its_history()
    {
        var id = Api.NewId();
        var soon = DateTimeOffset.UtcNow.AddSeconds(1);
        await _client.CreateOkAsync($$$$"""{"id":"{{{{id}}}}","type":"T","steady":100,"flash":{"type":"Property","value":10,"expiresAt":"{{{{Validate.Format(soon)}}}}"}}""");

        var temporal = await EventuallyAsync(async () =>
        {
            var body = await (await _client.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}?options=temporalValues&timeproperty=modifiedAt")).JsonAsync();
            return body.ContainsKey("flash") ? null : body;
        });

        temporal["steady"]!["values"]!.AsArray().Select(v => v![0]!.GetValue<int>()).Should().Equal(100);
    }

    // Waits for the reaper without asserting how long it took.
    private static async Task<JsonObject> EventuallyAsync(Func<Task<JsonObject?>> probe)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await probe() is { } done) return done;
            await Task.Delay(100);
        }
        throw new TimeoutException("the reaper did not run within 30 s");
    }
}

/// <summary>The reaper's start-up scan over a file written before (issue 12: by key windows, not by offset).</summary>
public sealed class TransientRestartTests
{
    [Fact]
    public async Task A_broker_started_on_transient_and_durable_entities_reaps_exactly_the_transient_ones()
    {
        var soon = Validate.Format(DateTimeOffset.UtcNow.AddSeconds(2));
        var first = new BrokerFactory(settings: new Dictionary<string, string?> { ["Kontext:Transient:SweepInterval"] = "00:00:00" }); // no reaper
        string transient = Api.NewId(), instance = Api.NewId(), durable = Api.NewId(), later = Api.NewId();
        using (var client = first.CreateClient())
        {
            await client.CreateOkAsync($$$$"""{"id":"{{{{durable}}}}","type":"T","temperature":1}""");
            await client.CreateOkAsync($$$$"""{"id":"{{{{transient}}}}","type":"T","expiresAt":"{{{{soon}}}}","temperature":2}""");
            await client.CreateOkAsync($$$$"""{"id":"{{{{instance}}}}","type":"T","steady":3,"flash":{"type":"Property","value":4,"expiresAt":"{{{{soon}}}}"}}""");
            await client.CreateOkAsync($$$$"""{"id":"{{{{later}}}}","type":"T","expiresAt":"2100-01-01T00:00:00Z","temperature":5}""");
        }
        await first.DisposeAsync();

        await using var second = new BrokerFactory(first.DataDirectory, new Dictionary<string, string?> { ["Kontext:Transient:SweepInterval"] = "00:00:00.200" });
        using var reading = second.CreateClient();
        async Task<JsonObject> TemporalAsync(string id) =>
            await (await reading.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}?options=temporalValues&timeproperty=modifiedAt")).JsonAsync();

        // Reaped: the entity is deleted (its history shows deletedAt), the instance leaves with its history.
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if ((await TemporalAsync(transient)).ContainsKey("deletedAt") && !(await TemporalAsync(instance)).ContainsKey("flash")) break;
            await Task.Delay(100);
        }

        (await TemporalAsync(transient)).ContainsKey("deletedAt").Should().BeTrue();
        (await TemporalAsync(instance)).ContainsKey("flash").Should().BeFalse();
        (await reading.GetEntityAsync(instance))["steady"]!["value"]!.GetValue<int>().Should().Be(3);
        (await reading.GetEntityAsync(durable))["temperature"]!["value"]!.GetValue<int>().Should().Be(1);
        (await reading.GetEntityAsync(later))["temperature"]!["value"]!.GetValue<int>().Should().Be(5);
        (await TemporalAsync(durable)).ContainsKey("deletedAt").Should().BeFalse();
        second.DeleteData();
    }
}
