using System.Net;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>A broker whose matcher lets an idle tenant's cursor stand (no periodic jump within a test).</summary>
public sealed class IdleMatcherFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Notifications:SweepInterval"] = "01:00:00",
});

/// <summary>
/// A tenant that no subscription follows (issue 12): the matcher neither reads its change log nor writes its cursor
/// after its commits, and yet a subscription is matched against every change made after it was written and against
/// none made before (a new one, or a paused one made active again).
/// </summary>
public sealed class IdleTenantTests(IdleMatcherFixture fixture) : IClassFixture<IdleMatcherFixture>, IAsyncLifetime
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "idle-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _probeTenant = "probe-" + Guid.NewGuid().ToString("N")[..8];
    private static string Later => Validate.Format(DateTimeOffset.UtcNow.AddHours(1));
    private NotificationReceiver _receiver = null!, _probe = null!;

    public async Task InitializeAsync()
    {
        _receiver = await NotificationReceiver.StartAsync();
        _probe = await NotificationReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _probe.DisposeAsync();
    }

    private async Task<string> SubscribeAsync(string tenant, string type, string endpoint)
    {
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions",
            $$$$"""{"type":"Subscription","entities":[{"type":"{{{{type}}}}"}],"notification":{"endpoint":{"uri":"{{{{endpoint}}}}","accept":"application/json"}}}""",
            tenant: tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString().Split('/')[^1];
    }

    private async Task PatchSpeedAsync(string id, int speed) =>
        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", $$"""{"speed":{{speed}}}""", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);

    private async Task<ITenantStore> StoreAsync() =>
        (await fixture.Factory.Services.GetRequiredService<IEntityStorage>().GetTenantAsync(_tenant, false, default))!;

    /// <summary>
    /// Returns once the matcher has looked at every tenant written before the call: it then matches a change of another
    /// tenant, and a second one after the first is delivered (a round that starts after the round which took them all).
    /// </summary>
    private async Task MatcherPassedAsync()
    {
        var probe = Api.NewId("Probe");
        if (_probe.Received.Count == 0) await SubscribeAsync(_probeTenant, "Probe", _probe.Url);
        var seen = _probe.Received.Count;
        await _client.CreateOkAsync($$$"""{"id":"{{{probe}}}","type":"Probe","n":1}""", tenant: _probeTenant);
        await _probe.WaitForAsync(seen + 1);
        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/{probe}/attrs", """{"n":2}""", tenant: _probeTenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await _probe.WaitForAsync(seen + 2)).Should().HaveCount(seen + 2);
    }

    private async Task<IReadOnlyList<int>> SpeedsUntilAsync(int last)
    {
        for (var attempt = 0; attempt < 150 && !_receiver.Received.Any(r => Speed(r) == last); attempt++) await Task.Delay(100);
        return _receiver.Received.Select(Speed).ToList();

        static int Speed(ReceivedNotification n) => n.Entity["speed"]!["value"]!.GetValue<int>();
    }

    [Fact]
    public async Task A_tenant_that_no_subscription_follows_keeps_its_cursor_while_its_changes_are_logged()
    {
        // A transient entity's writes are logged with or without subscriptions (the expiry reaper reads them).
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Car","expiresAt":"{{{Later}}}","speed":1}""", tenant: _tenant);
        await MatcherPassedAsync();
        var store = await StoreAsync();
        var cursor = await store.ReadCursorAsync("notifications", default);

        for (var speed = 2; speed <= 4; speed++) await PatchSpeedAsync(id, speed);
        await MatcherPassedAsync();

        (await store.ReadCursorAsync("notifications", default)).Should().Be(cursor);
        (await store.ReadLastChangeSequenceAsync(default)).Should().BeGreaterThan(cursor);
        (await store.ReadChangesAsync(cursor, 100, default)).Select(c => c.EntityId).Should().Equal(id, id, id);
    }

    [Fact]
    public async Task A_subscription_created_in_an_idle_tenant_is_notified_of_the_changes_after_it_only()
    {
        var id = Api.NewId("Car");
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Car","expiresAt":"{{{Later}}}","speed":1}""", tenant: _tenant);
        await MatcherPassedAsync();
        await PatchSpeedAsync(id, 2);
        await PatchSpeedAsync(id, 3); // logged after the cursor, which stands

        await SubscribeAsync(_tenant, "Car", _receiver.Url);
        await PatchSpeedAsync(id, 4);

        // One subscription's notifications arrive in commit order: an earlier change would have come first.
        (await SpeedsUntilAsync(4)).Should().Equal(4);
    }

    [Fact]
    public async Task A_subscription_made_active_again_is_not_notified_of_the_changes_made_while_it_was_paused()
    {
        var id = Api.NewId("Car");
        var subscription = await SubscribeAsync(_tenant, "Car", _receiver.Url);
        await _client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Car","speed":1}""", tenant: _tenant);
        (await SpeedsUntilAsync(1)).Should().Equal(1);

        (await _client.Send(HttpMethod.Patch, $"/ngsi-ld/v1/subscriptions/{subscription}", """{"isActive":false}""", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);
        await PatchSpeedAsync(id, 2);
        await PatchSpeedAsync(id, 3);
        await MatcherPassedAsync();
        (await _client.Send(HttpMethod.Patch, $"/ngsi-ld/v1/subscriptions/{subscription}", """{"isActive":true}""", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);
        await PatchSpeedAsync(id, 4);

        (await SpeedsUntilAsync(4)).Should().Equal(1, 4);
    }
}

/// <summary>A broker whose matcher moves an idle tenant's cursor often.</summary>
public sealed class QuickSweepFixture() : BrokerFixtureBase(new Dictionary<string, string?>(SubscriptionFixture.FastNotifications)
{
    ["Kontext:Notifications:SweepInterval"] = "00:00:00.200",
});

/// <summary>An idle tenant's cursor still follows its log, without reading it: the log stays pruned behind it.</summary>
public sealed class IdleTenantCursorTests(QuickSweepFixture fixture) : IClassFixture<QuickSweepFixture>
{
    [Fact]
    public async Task The_cursor_of_a_tenant_that_no_subscription_follows_reaches_the_end_of_its_log()
    {
        var tenant = "idle-" + Guid.NewGuid().ToString("N")[..8];
        var id = Api.NewId("Car");
        var later = Validate.Format(DateTimeOffset.UtcNow.AddHours(1));
        await fixture.Client.CreateOkAsync($$$"""{"id":"{{{id}}}","type":"Car","expiresAt":"{{{later}}}","speed":1}""", tenant: tenant);
        for (var speed = 2; speed <= 4; speed++)
            await fixture.Client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", $$"""{"speed":{{speed}}}""", tenant: tenant);
        var store = (await fixture.Factory.Services.GetRequiredService<IEntityStorage>().GetTenantAsync(tenant, false, default))!;
        var end = await store.ReadLastChangeSequenceAsync(default);

        long cursor = 0;
        for (var attempt = 0; attempt < 150 && (cursor = await store.ReadCursorAsync("notifications", default)) < end; attempt++)
        {
            await Task.Delay(100);
            // a commit signals the tenant again: the matcher visits it after the sweep interval has passed
            await fixture.Client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"other":1}""", tenant: tenant);
        }

        end.Should().BeGreaterThan(0);
        cursor.Should().BeGreaterThanOrEqualTo(end);
    }
}
