using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>Notification behaviour (clauses 5.8, 5.3.1): triggers, formats, filters, changes, throttling, periodic, expiry, counters.</summary>
public sealed class NotificationTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>, IAsyncLifetime
{
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "notify-" + Guid.NewGuid().ToString("N")[..8];
    private NotificationReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await NotificationReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private async Task SubscribeAsync(string members, string notification = "", string accept = "application/json", string endpoint = "")
    {
        var body = $$$$"""
            {"type":"Subscription",{{{{members}}}},
             "notification":{ {{{{notification}}}} "endpoint":{"uri":"{{{{(endpoint.Length > 0 ? endpoint : _receiver.Url)}}}}","accept":"{{{{accept}}}}"{{{{(endpoint.Length > 0 ? "" : ",\"receiverInfo\":[{\"key\":\"X-Api-Key\",\"value\":\"k-123\"}]")}}}}}}}
            """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private Task CreateAsync(string json) => _client.CreateOkAsync(json, tenant: _tenant);

    private Task<HttpResponseMessage> PatchAsync(string id, string json) => _client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", json, tenant: _tenant);

    [Fact]
    public async Task Default_triggers_notify_creation_and_update_with_the_spec_body_and_headers()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:1","type":"Car","speed":10}""");
        await PatchAsync("urn:ngsi-ld:Car:1", """{"speed":20}""");
        var received = await _receiver.WaitForAsync(2);

        received.Should().HaveCount(2);
        var first = received[0];
        first.Body["type"]!.GetValue<string>().Should().Be("Notification");
        first.Body["id"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:Notification:");
        first.Body["subscriptionId"]!.GetValue<string>().Should().StartWith("urn:ngsi-ld:Subscription:");
        DateTimeOffset.Parse(first.Body["notifiedAt"]!.GetValue<string>()).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        first.Entity["speed"]!["value"]!.GetValue<int>().Should().Be(10);
        received[1].Entity["speed"]!["value"]!.GetValue<int>().Should().Be(20);
        first.Headers["X-Api-Key"].Should().Be("k-123");
        first.Headers["NGSILD-Tenant"].Should().Be(_tenant);
        first.Headers["Link"].Should().Contain("ngsi-ld-core-context");
        first.ContentType.Should().StartWith("application/json");
    }

    [Fact]
    public async Task Entity_triggers_notify_created_updated_and_deleted()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"notificationTrigger\":[\"entityCreated\",\"entityUpdated\",\"entityDeleted\"]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:e","type":"Car","speed":1}""");
        await PatchAsync("urn:ngsi-ld:Car:e", """{"speed":2}""");
        await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Car:e", tenant: _tenant);
        var received = await _receiver.WaitForAsync(3);

        received.Should().HaveCount(3);
        received[2].Entity["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Car:e");
        received[2].Entity["deletedAt"].Should().NotBeNull();
        received[2].Entity.ContainsKey("speed").Should().BeFalse();
    }

    [Fact]
    public async Task Attribute_triggers_fire_only_for_their_kind_of_change()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"notificationTrigger\":[\"attributeDeleted\"]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:a","type":"Car","speed":1,"color":"red"}""");
        await PatchAsync("urn:ngsi-ld:Car:a", """{"speed":2}""");

        await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Car:a/attrs/color", tenant: _tenant);
        var received = await _receiver.WaitForAsync(1);

        (await _receiver.SettleAsync()).Should().HaveCount(1);
        received[0].Entity["color"]!["value"]!.GetValue<string>().Should().Be("urn:ngsi-ld:null", "a deleted attribute is notified as NGSI-LD Null");
    }

    [Fact]
    public async Task Attribute_created_fires_on_append_of_a_new_attribute()
    {
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:c","type":"Car","speed":1}""");
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"notificationTrigger\":[\"attributeCreated\"]");

        await PatchAsync("urn:ngsi-ld:Car:c", """{"speed":2}""");
        await _client.Send(HttpMethod.Post, $"{Api.Entities}/urn:ngsi-ld:Car:c/attrs", """{"color":"red"}""", tenant: _tenant);

        var received = await _receiver.WaitForAsync(1);
        (await _receiver.SettleAsync()).Should().HaveCount(1);
        received[0].Entity["color"].Should().NotBeNull();
    }

    [Fact]
    public async Task WatchedAttributes_and_q_filter_notifications()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"watchedAttributes\":[\"speed\"],\"q\":\"speed>50\"");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:w","type":"Car","speed":10,"color":"red"}""");

        await PatchAsync("urn:ngsi-ld:Car:w", """{"color":"blue"}""");
        await PatchAsync("urn:ngsi-ld:Car:w", """{"speed":60}""");
        await PatchAsync("urn:ngsi-ld:Car:w", """{"speed":40}""");

        var received = await _receiver.WaitForAsync(1);
        (await _receiver.SettleAsync()).Should().HaveCount(1);
        received[0].Entity["speed"]!["value"]!.GetValue<int>().Should().Be(60);
    }

    [Fact]
    public async Task Entity_selectors_with_id_and_idPattern()
    {
        await SubscribeAsync("\"entities\":[{\"id\":\"urn:ngsi-ld:Car:one\",\"type\":\"Car\"},{\"idPattern\":\"^urn:ngsi-ld:Bike:\"}]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:one","type":"Car","speed":1}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:two","type":"Car","speed":1}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Bike:b","type":"Bike","speed":1}""");

        await _receiver.WaitForEntitiesAsync(2);
        await _receiver.SettleAsync();
        _receiver.NotifiedEntities.Select(e => e["id"]!.GetValue<string>()).Should().BeEquivalentTo("urn:ngsi-ld:Car:one", "urn:ngsi-ld:Bike:b");
    }

    [Fact]
    public async Task GeoQ_and_scopeQ_filter_notifications()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Sensor\"}],\"geoQ\":{\"georel\":\"near;maxDistance==1000\",\"geometry\":\"Point\",\"coordinates\":[-3.70,40.41]},\"scopeQ\":\"/Madrid/#\"");

        await CreateAsync("""{"id":"urn:ngsi-ld:Sensor:near","type":"Sensor","scope":"/Madrid/Centro","location":{"type":"Point","coordinates":[-3.701,40.411]}}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Sensor:far","type":"Sensor","scope":"/Madrid/Centro","location":{"type":"Point","coordinates":[-3.60,40.41]}}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Sensor:out","type":"Sensor","scope":"/Bilbao","location":{"type":"Point","coordinates":[-3.701,40.411]}}""");

        await _receiver.WaitForAsync(1);
        (await _receiver.SettleAsync()).Select(n => n.Entity["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Sensor:near");
    }

    [Theory]
    [InlineData("keyValues", "10")]
    [InlineData("concise", "10")]
    [InlineData("normalized", """{"type":"Property","value":10}""")]
    public async Task Notification_format_is_honoured(string format, string expectedSpeed)
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]", $"\"format\":\"{format}\",");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:f","type":"Car","speed":10}""");

        (await _receiver.WaitForAsync(1))[0].Entity["speed"]!.ToJsonString().Should().Be(expectedSpeed);
    }

    [Fact]
    public async Task Attributes_restrict_the_notified_attributes()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]", "\"attributes\":[\"speed\"],");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:p","type":"Car","speed":10,"color":"red"}""");

        var entity = (await _receiver.WaitForAsync(1))[0].Entity;
        entity.Select(p => p.Key).Should().BeEquivalentTo("id", "type", "speed");
    }

    [Fact]
    public async Task Ld_json_notifications_carry_the_context_in_the_body()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]", accept: "application/ld+json");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:ld","type":"Car","speed":10}""");

        var notification = (await _receiver.WaitForAsync(1))[0];
        notification.ContentType.Should().StartWith("application/ld+json");
        notification.Body["@context"].Should().NotBeNull();
        notification.Headers.ContainsKey("Link").Should().BeFalse();
    }

    [Fact]
    public async Task ShowChanges_adds_the_previous_value()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"notificationTrigger\":[\"attributeUpdated\"]", "\"showChanges\":true,");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:s","type":"Car","speed":10,"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:1"}}""");

        await PatchAsync("urn:ngsi-ld:Car:s", """{"speed":20,"owner":{"type":"Relationship","object":"urn:ngsi-ld:P:2"}}""");

        var entity = (await _receiver.WaitForAsync(1))[0].Entity;
        entity["speed"]!["value"]!.GetValue<int>().Should().Be(20);
        entity["speed"]!["previousValue"]!.GetValue<int>().Should().Be(10);
        entity["owner"]!["previousObject"]!.GetValue<string>().Should().Be("urn:ngsi-ld:P:1");
    }

    [Fact]
    public async Task Throttling_holds_under_concurrent_updates()
    {
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:t","type":"Car","speed":0}""");
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"throttling\":60");

        await Task.WhenAll(Enumerable.Range(1, 20).Select(i => PatchAsync("urn:ngsi-ld:Car:t", $$$$"""{"speed":{{{{i}}}}}""")));

        await _receiver.WaitForAsync(1);
        (await _receiver.SettleAsync()).Should().HaveCount(1);
    }

    [Fact]
    public async Task Periodic_subscription_notifies_every_interval()
    {
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:periodic","type":"Car","speed":5}""");
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}],\"timeInterval\":1");

        var received = await _receiver.WaitForAsync(2, TimeSpan.FromSeconds(10));

        received.Should().HaveCountGreaterThanOrEqualTo(2);
        received.Should().OnlyContain(n => n.Entity["id"]!.GetValue<string>() == "urn:ngsi-ld:Car:periodic");
    }

    [Fact]
    public async Task Expired_subscription_stops_notifying_and_reports_expired()
    {
        var expires = DateTimeOffset.UtcNow.AddSeconds(2).ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        await SubscribeAsync($"\"id\":\"urn:ngsi-ld:Subscription:exp\",\"entities\":[{{\"type\":\"Car\"}}],\"expiresAt\":\"{expires}\"");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:x1","type":"Car","speed":1}""");
        await _receiver.WaitForAsync(1);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:x2","type":"Car","speed":1}""");

        (await _receiver.SettleAsync()).Should().HaveCount(1);
        var subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:exp", tenant: _tenant)).JsonAsync();
        subscription["status"]!.GetValue<string>().Should().Be("expired");
    }

    [Fact]
    public async Task Paused_subscription_is_silent_until_resumed()
    {
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:pause\",\"entities\":[{\"type\":\"Car\"}],\"isActive\":false");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:p1","type":"Car","speed":1}""");
        (await _receiver.SettleAsync(TimeSpan.FromMilliseconds(800))).Should().BeEmpty();

        await _client.Send(HttpMethod.Patch, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:pause", """{"isActive":true}""", tenant: _tenant);
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:p2","type":"Car","speed":1}""");

        (await _receiver.WaitForAsync(1)).Select(n => n.Entity["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Car:p2");
    }

    [Fact]
    public async Task Status_counters_record_successes_and_failures()
    {
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:count\",\"entities\":[{\"type\":\"Car\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:k","type":"Car","speed":1}""");
        await _receiver.WaitForAsync(1);
        _receiver.FailWithStatus = 500;
        await PatchAsync("urn:ngsi-ld:Car:k", """{"speed":2}""");

        JsonObject subscription = new();
        for (var i = 0; i < 50; i++)
        {
            subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:count", tenant: _tenant)).JsonAsync();
            if ((subscription["notification"]!["timesFailed"]?.GetValue<int>() ?? 0) > 0) break;
            await Task.Delay(100);
        }

        var notification = subscription["notification"]!;
        notification["timesSent"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(2);
        notification["timesFailed"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(1);
        notification["lastSuccess"].Should().NotBeNull();
        notification["lastFailure"].Should().NotBeNull();
        notification["lastNotification"].Should().NotBeNull();
        notification["status"]!.GetValue<string>().Should().Be("failed");

        _receiver.FailWithStatus = 0; // the failed notification is retried and arrives
        (await _receiver.WaitForAsync(2)).Last().Entity["speed"]!["value"]!.GetValue<int>().Should().Be(2);
    }

    [Fact]
    public async Task A_notification_counts_in_timesSent_once_it_is_sent_before_the_receiver_answers()
    {
        var answer = new TaskCompletionSource();
        _receiver.HoldAnswer = answer.Task;
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:held\",\"entities\":[{\"type\":\"Car\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:held","type":"Car","speed":1}""");
        await _receiver.WaitForAsync(1);

        var subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:held", tenant: _tenant)).JsonAsync();
        answer.SetResult();

        subscription["notification"]!["timesSent"]!.GetValue<int>().Should().Be(1, "the notification went out, though its answer is still awaited");
        subscription["notification"]!.AsObject().ContainsKey("lastSuccess").Should().BeFalse("the receiver has not answered yet");
    }

    [Fact]
    public async Task Deleting_a_subscription_drops_its_notification_that_is_waiting_for_a_retry()
    {
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:dropped\",\"entities\":[{\"type\":\"Car\"}]");
        _receiver.FailWithStatus = 503;
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:dropped","type":"Car","speed":1}""");
        var failed = 0;
        for (var i = 0; i < 50 && failed == 0; i++)
        {
            await Task.Delay(100);
            var subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:dropped", tenant: _tenant)).JsonAsync();
            failed = subscription["notification"]!["timesFailed"]?.GetValue<int>() ?? 0;
        }
        failed.Should().BeGreaterThan(0, "the receiver refused the notification, so it is being retried");

        (await _client.Send(HttpMethod.Delete, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:dropped", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);
        await _receiver.SettleAsync(); // an attempt that renewed its lease just before the deletion may still arrive
        var attemptsAfterDeletion = _receiver.Attempts;
        await _receiver.SettleAsync(); // retries come every 100-400 ms: several would arrive in this time

        _receiver.Attempts.Should().Be(attemptsAfterDeletion, "a deleted subscription's notification waiting for a retry is dropped");
    }

    [Fact]
    public async Task A_slow_endpoint_does_not_delay_the_others()
    {
        await using var slow = await NotificationReceiver.StartAsync();
        slow.Delay = TimeSpan.FromSeconds(8);
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]", endpoint: slow.Url);
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Car:slow1","type":"Car","speed":1}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:slow2","type":"Car","speed":1}""");

        // The fast receiver gets both while the slow one is still holding its first request.
        (await _receiver.WaitForEntitiesAsync(2, TimeSpan.FromSeconds(5))).Should().HaveCount(2);
        slow.Received.Should().BeEmpty();
    }

    [Fact]
    public async Task One_write_fans_out_to_a_hundred_subscriptions()
    {
        for (var i = 0; i < 100; i++) await SubscribeAsync("\"entities\":[{\"type\":\"Bus\"}]");

        await CreateAsync("""{"id":"urn:ngsi-ld:Bus:fan","type":"Bus","speed":1}""");

        var received = await _receiver.WaitForAsync(100, TimeSpan.FromSeconds(60));
        received.Should().HaveCount(100);
        received.Select(n => n.Body["subscriptionId"]!.GetValue<string>()).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Notifications_of_one_subscription_arrive_in_write_order()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:o","type":"Car","speed":0}""");
        for (var i = 1; i <= 15; i++) await PatchAsync("urn:ngsi-ld:Car:o", $$$$"""{"speed":{{{{i}}}}}""");

        var received = await _receiver.WaitForAsync(16);

        received.Select(n => n.Entity["speed"]!["value"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 16));
    }

    [Fact]
    public async Task A_batch_create_notifies_every_created_entity_once_and_no_notification_carries_one_twice()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Van\"}]");
        var ids = Enumerable.Range(0, 30).Select(i => $"urn:ngsi-ld:Van:{i:D2}").ToList();
        var batch = "[" + string.Join(",", ids.Select(id => $$$"""{"id":"{{{id}}}","type":"Van","speed":1}""")) + "]";

        (await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/create", batch, tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.Created);

        await _receiver.WaitForEntitiesAsync(30);
        await _receiver.SettleAsync(TimeSpan.FromMilliseconds(500));
        _receiver.NotifiedEntities.Select(e => e["id"]!.GetValue<string>()).Should().BeEquivalentTo(ids, "clause 5.8.6: every subscribed entity that changed is notified");
        _receiver.Received.Should().OnlyContain(n => n.Data.Select(e => e!["id"]!.GetValue<string>()).Distinct().Count() == n.Data.Count);
    }

    [Fact]
    public async Task Interleaved_changes_of_two_entities_arrive_in_write_order_for_each()
    {
        await SubscribeAsync("\"entities\":[{\"type\":\"Car\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:i1","type":"Car","speed":0}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:i2","type":"Car","speed":0}""");
        for (var i = 1; i <= 10; i++)
        {
            await PatchAsync("urn:ngsi-ld:Car:i1", $$$$"""{"speed":{{{{i}}}}}""");
            await PatchAsync("urn:ngsi-ld:Car:i2", $$$$"""{"speed":{{{{i}}}}}""");
        }

        var entities = await _receiver.WaitForEntitiesAsync(22);

        foreach (var id in new[] { "urn:ngsi-ld:Car:i1", "urn:ngsi-ld:Car:i2" })
            entities.Where(e => e["id"]!.GetValue<string>() == id).Select(e => e["speed"]!["value"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 11));
    }

    [Fact]
    public async Task Changes_waiting_behind_an_unanswered_notification_arrive_in_order_and_timesSent_counts_the_notifications_sent()
    {
        var answer = new TaskCompletionSource();
        _receiver.HoldAnswer = answer.Task;
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:merge\",\"entities\":[{\"type\":\"Car\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:m0","type":"Car","speed":0}""");
        await _receiver.WaitForAsync(1);
        for (var i = 1; i <= 5; i++) await CreateAsync($$$"""{"id":"urn:ngsi-ld:Car:m{{{i}}}","type":"Car","speed":{{{i}}}}""");
        await Task.Delay(500); // matched while the first notification waits for its answer: they may go out together

        _receiver.HoldAnswer = null;
        answer.SetResult();
        var entities = await _receiver.WaitForEntitiesAsync(6);

        entities.Select(e => e["id"]!.GetValue<string>()).Should().Equal(Enumerable.Range(0, 6).Select(i => $"urn:ngsi-ld:Car:m{i}"));
        await _receiver.SettleAsync(TimeSpan.FromMilliseconds(500));
        var sent = 0;
        for (var i = 0; i < 50 && sent != _receiver.Received.Count; i++)
        {
            var subscription = await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:merge", tenant: _tenant)).JsonAsync();
            sent = subscription["notification"]!["timesSent"]!.GetValue<int>();
            await Task.Delay(100);
        }
        sent.Should().Be(_receiver.Received.Count, "clause 5.2.14: timesSent counts the notifications sent, however many changes each carried");
    }

    [Fact]
    public async Task A_retried_notification_counts_once_in_timesSent_and_timesFailed()
    {
        await SubscribeAsync("\"id\":\"urn:ngsi-ld:Subscription:retried\",\"entities\":[{\"type\":\"Car\"}]");
        _receiver.FailWithStatus = 500;
        await CreateAsync("""{"id":"urn:ngsi-ld:Car:retried","type":"Car","speed":1}""");
        for (var i = 0; i < 100 && _receiver.Attempts < 3; i++) await Task.Delay(100);
        _receiver.Attempts.Should().BeGreaterThanOrEqualTo(3, "the receiver refused the notification several times");
        _receiver.FailWithStatus = 0;
        await _receiver.WaitForAsync(1);

        JsonObject notification = new();
        for (var i = 0; i < 50 && !notification.ContainsKey("lastSuccess"); i++)
        {
            notification = (await (await _client.Send(HttpMethod.Get, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:retried", tenant: _tenant)).JsonAsync())["notification"]!.AsObject();
            await Task.Delay(100);
        }

        // Clause 5.2.14: timesSent is the number of notifications sent, timesFailed the number that failed; attempts are not counted.
        notification["timesSent"]!.GetValue<int>().Should().Be(1, "one notification was sent, however many attempts it took");
        notification["timesFailed"]!.GetValue<int>().Should().Be(1);
        notification["lastFailure"].Should().NotBeNull();
        notification["status"]!.GetValue<string>().Should().Be("ok", "the last attempt succeeded");
    }

    [Fact]
    public async Task Each_subscription_keeps_its_order_while_several_are_in_flight_to_one_endpoint()
    {
        for (var i = 0; i < 4; i++) await SubscribeAsync("\"entities\":[{\"type\":\"Truck\"}]");
        await CreateAsync("""{"id":"urn:ngsi-ld:Truck:o","type":"Truck","speed":0}""");
        for (var i = 1; i <= 30; i++) (await PatchAsync("urn:ngsi-ld:Truck:o", $$$$"""{"speed":{{{{i}}}}}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var received = await _receiver.WaitForAsync(4 * 31, TimeSpan.FromSeconds(60));

        var bySubscription = received.GroupBy(n => n.Body["subscriptionId"]!.GetValue<string>()).ToList();
        bySubscription.Should().HaveCount(4);
        foreach (var notifications in bySubscription)
            notifications.Select(n => n.Entity["speed"]!["value"]!.GetValue<int>()).Should().Equal(Enumerable.Range(0, 31), "a subscription's notifications arrive in write order");
    }
}
