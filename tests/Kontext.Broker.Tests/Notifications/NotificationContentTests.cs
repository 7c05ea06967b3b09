using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Broker.Tests.Subscriptions;

namespace Kontext.Broker.Tests.Notifications;

/// <summary>
/// What a notification carries (clauses 5.2.1, 5.2.12, 5.2.14, 5.3.1): deleted attributes and entities as NGSI-LD
/// Null with deletedAt, previous values with showChanges, sysAttrs, pick and omit, datasetId, and its @context.
/// </summary>
public sealed class NotificationContentTests(SubscriptionFixture fixture) : IClassFixture<SubscriptionFixture>, IAsyncLifetime
{
    private const string Null = "urn:ngsi-ld:null";
    private readonly HttpClient _client = fixture.Client;
    private readonly string _tenant = "content-" + Guid.NewGuid().ToString("N")[..8];
    private NotificationReceiver _receiver = null!;
    private ContextServer _contexts = null!;

    public async Task InitializeAsync()
    {
        _receiver = await NotificationReceiver.StartAsync();
        _contexts = await ContextServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _contexts.DisposeAsync();
    }

    private async Task<string> SubscribeAsync(string members, string notification = "", string accept = "application/json", string? link = null,
        string contentType = "application/json")
    {
        var body = $$$$"""
            {"type":"Subscription","entities":[{"type":"Building"}]{{{{members}}}},
             "notification":{ {{{{notification}}}} "endpoint":{"uri":"{{{{_receiver.Url}}}}","accept":"{{{{accept}}}}"}}}
            """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, contentType, link, tenant: _tenant);
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    private Task CreateAsync(string json) => _client.CreateOkAsync(json, tenant: _tenant);

    private async Task DeleteAttributeAsync(string id, string attribute, string query = "") =>
        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/{id}/attrs/{attribute}{query}", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

    private async Task<JsonObject> OnlyEntityAsync()
    {
        var received = await _receiver.WaitForAsync(1);
        received.Should().NotBeEmpty("a notification was due");
        return received[0].Entity;
    }

    private const string Building = """
        {"id":"urn:ngsi-ld:Building:b","type":"Building",
         "name":{"type":"Property","value":"Eiffel Tower"},
         "locatedAt":{"type":"Relationship","object":"urn:ngsi-ld:City:Paris"},
         "street":{"type":"LanguageProperty","languageMap":{"fr":"Grand Place","nl":"Grote Markt"}},
         "category":{"type":"VocabProperty","vocab":"monument"},
         "config":{"type":"JsonProperty","json":{"floors":3}},
         "location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[2.29,48.85]}}}
        """;

    [Theory]
    [InlineData("name", "value", "\"urn:ngsi-ld:null\"")]
    [InlineData("locatedAt", "object", "\"urn:ngsi-ld:null\"")]
    [InlineData("street", "languageMap", """{"@none":"urn:ngsi-ld:null"}""")]
    [InlineData("category", "vocab", "\"urn:ngsi-ld:null\"")]
    [InlineData("config", "json", "\"urn:ngsi-ld:null\"")]
    [InlineData("location", "value", "\"urn:ngsi-ld:null\"")]
    public async Task A_deleted_attribute_is_notified_as_NGSI_LD_Null_beside_the_rest_of_the_entity(string attribute, string member, string nullPayload)
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"attributeDeleted\"]");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:b", attribute);

        var entity = await OnlyEntityAsync();
        entity[attribute]![member]!.ToJsonString().Should().Be(nullPayload);
        entity[attribute]!.AsObject().ContainsKey("deletedAt").Should().BeFalse("deletedAt is a system attribute, shown with sysAttrs");
        entity.Select(p => p.Key).Should().Contain(["name", "locatedAt", "street", "category", "config", "location"]);
    }

    [Fact]
    public async Task A_deleted_attribute_in_keyValues_is_the_NGSI_LD_Null_value()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"watchedAttributes\":[\"name\"],\"notificationTrigger\":[\"attributeDeleted\"]", "\"format\":\"keyValues\",");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:b", "name");

        (await OnlyEntityAsync())["name"]!.GetValue<string>().Should().Be(Null);
    }

    [Fact]
    public async Task With_sysAttrs_a_deleted_attribute_carries_deletedAt()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"attributeDeleted\"]", "\"sysAttrs\":true,");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:b", "name");

        var name = (await OnlyEntityAsync())["name"]!;
        name["value"]!.GetValue<string>().Should().Be(Null);
        name["createdAt"].Should().NotBeNull();
        DateTimeOffset.Parse(name["deletedAt"]!.GetValue<string>()).Should().BeOnOrAfter(DateTimeOffset.Parse(name["createdAt"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("name", "previousValue", "\"Eiffel Tower\"")]
    [InlineData("locatedAt", "previousObject", "\"urn:ngsi-ld:City:Paris\"")]
    [InlineData("street", "previousLanguageMap", """{"fr":"Grand Place","nl":"Grote Markt"}""")]
    [InlineData("category", "previousVocab", "\"monument\"")]
    [InlineData("config", "previousJson", """{"floors":3}""")]
    public async Task ShowChanges_gives_a_deleted_attribute_its_previous_payload(string attribute, string member, string previous)
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"attributeDeleted\"]", "\"showChanges\":true,");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:b", attribute);

        (await OnlyEntityAsync())[attribute]![member]!.ToJsonString().Should().Be(previous);
    }

    [Fact]
    public async Task ShowChanges_compacts_the_previous_vocab_like_the_vocab()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"attributeUpdated\"]", "\"showChanges\":true,");

        (await _client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Building:b/attrs", """{"category":{"type":"VocabProperty","vocab":"museum"}}""", tenant: _tenant))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);

        var category = (await OnlyEntityAsync())["category"]!;
        category["vocab"]!.GetValue<string>().Should().Be("museum");
        category["previousVocab"]!.GetValue<string>().Should().Be("monument");
    }

    private const string MultiName = """
        {"id":"urn:ngsi-ld:Building:m","type":"Building","name":[
          {"type":"Property","value":"Eiffel Tower"},
          {"type":"Property","value":"Tour Eiffel","datasetId":"urn:ngsi-ld:Dataset:fr"},
          {"type":"Property","value":"Eiffelturm","datasetId":"urn:ngsi-ld:Dataset:de"}]}
        """;

    [Fact]
    public async Task Deleting_one_dataset_instance_notifies_it_as_NGSI_LD_Null_beside_the_others()
    {
        await CreateAsync(MultiName);
        await SubscribeAsync(",\"watchedAttributes\":[\"name\"],\"notificationTrigger\":[\"attributeDeleted\"]");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:m", "name", "?datasetId=urn:ngsi-ld:Dataset:fr");

        var instances = (await OnlyEntityAsync())["name"]!.AsArray().Select(i => i!.AsObject()).ToList();
        instances.Should().HaveCount(3);
        instances.Single(i => i["datasetId"]?.GetValue<string>() == "urn:ngsi-ld:Dataset:fr")["value"]!.GetValue<string>().Should().Be(Null);
        instances.Single(i => i["datasetId"] is null)["value"]!.GetValue<string>().Should().Be("Eiffel Tower");
    }

    [Fact]
    public async Task Deleting_every_instance_notifies_the_attribute_as_one_NGSI_LD_Null()
    {
        await CreateAsync(MultiName);
        await SubscribeAsync(",\"watchedAttributes\":[\"name\"],\"notificationTrigger\":[\"attributeDeleted\"]");

        await DeleteAttributeAsync("urn:ngsi-ld:Building:m", "name", "?deleteAll=true");

        var name = (await OnlyEntityAsync())["name"]!.AsObject();
        name["value"]!.GetValue<string>().Should().Be(Null);
        name.ContainsKey("datasetId").Should().BeFalse();
    }

    [Fact]
    public async Task An_entity_deletion_is_its_id_type_and_deletedAt_with_sysAttrs_its_timestamps_too()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"entityDeleted\"]", "\"format\":\"keyValues\",\"sysAttrs\":true,");

        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Building:b", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var entity = await OnlyEntityAsync();
        entity.Select(p => p.Key).Should().BeEquivalentTo("id", "type", "createdAt", "modifiedAt", "deletedAt");
    }

    [Fact]
    public async Task An_entity_deletion_with_showChanges_shows_every_attribute_as_NGSI_LD_Null_with_its_previous_payload()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"notificationTrigger\":[\"entityDeleted\"]", "\"showChanges\":true,");

        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Building:b", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var entity = await OnlyEntityAsync();
        entity["deletedAt"].Should().NotBeNull();
        entity["name"]!["value"]!.GetValue<string>().Should().Be(Null);
        entity["name"]!["previousValue"]!.GetValue<string>().Should().Be("Eiffel Tower");
        entity["locatedAt"]!["previousObject"]!.GetValue<string>().Should().Be("urn:ngsi-ld:City:Paris");
        entity["street"]!["languageMap"]!.ToJsonString().Should().Be("""{"@none":"urn:ngsi-ld:null"}""");
        entity["category"]!["previousVocab"]!.GetValue<string>().Should().Be("monument");
    }

    [Fact]
    public async Task An_entity_deletion_fires_attributeDeleted_for_the_watched_attributes_only()
    {
        await CreateAsync(Building);
        await SubscribeAsync(",\"watchedAttributes\":[\"name\"],\"notificationTrigger\":[\"attributeDeleted\"]", "\"sysAttrs\":true,");

        (await _client.Send(HttpMethod.Delete, $"{Api.Entities}/urn:ngsi-ld:Building:b", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        var entity = await OnlyEntityAsync();
        entity.Select(p => p.Key).Should().BeEquivalentTo("id", "type", "createdAt", "modifiedAt", "deletedAt", "name");
        entity["name"]!["value"]!.GetValue<string>().Should().Be(Null);
        entity["name"]!["deletedAt"]!.GetValue<string>().Should().Be(entity["deletedAt"]!.GetValue<string>());
    }

    [Fact]
    public async Task SysAttrs_in_a_keyValues_notification_give_the_entity_its_timestamps()
    {
        await SubscribeAsync("", "\"format\":\"keyValues\",\"sysAttrs\":true,");

        await CreateAsync("""{"id":"urn:ngsi-ld:Building:t","type":"Building","name":"x"}""");

        var entity = await OnlyEntityAsync();
        entity["createdAt"].Should().NotBeNull();
        entity["modifiedAt"].Should().NotBeNull();
        entity["name"]!.GetValue<string>().Should().Be("x");
    }

    [Theory]
    [InlineData("\"pick\":[\"id\",\"name\"],", new[] { "id", "name" })]
    [InlineData("\"omit\":[\"type\",\"name\"],", new[] { "id", "locatedAt", "street", "category", "config", "location" })]
    public async Task Pick_and_omit_select_the_notified_members(string selection, string[] members)
    {
        await SubscribeAsync("", selection);

        await CreateAsync(Building);

        (await OnlyEntityAsync()).Select(p => p.Key).Should().BeEquivalentTo(members);
    }

    [Fact]
    public async Task A_datasetId_selection_decides_which_instances_trigger_and_show()
    {
        await CreateAsync(MultiName);
        await SubscribeAsync(",\"datasetId\":[\"urn:ngsi-ld:Dataset:fr\"]");

        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Building:m/attrs/name", """{"value":"Eiffel"}""", tenant: _tenant);
        await _client.Send(HttpMethod.Patch, $"{Api.Entities}/urn:ngsi-ld:Building:m/attrs/name",
            """{"value":"La Tour Eiffel","datasetId":"urn:ngsi-ld:Dataset:fr"}""", tenant: _tenant);

        await _receiver.WaitForAsync(1);
        var received = await _receiver.SettleAsync();
        received.Should().HaveCount(1, "the change of the default instance is outside the selection");
        var name = received[0].Entity["name"]!.AsObject();
        name["value"]!.GetValue<string>().Should().Be("La Tour Eiffel");
        name["datasetId"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Dataset:fr");
    }

    [Fact]
    public async Task A_JSON_LD_notification_names_its_context_in_each_entity()
    {
        await SubscribeAsync("", accept: "application/ld+json");

        await CreateAsync("""{"id":"urn:ngsi-ld:Building:ld","type":"Building","name":"x"}""");

        var notification = (await _receiver.WaitForAsync(1))[0];
        notification.Entity["@context"].Should().NotBeNull();
        notification.Headers.ContainsKey("Link").Should().BeFalse();
    }

    [Fact]
    public async Task A_JSON_notification_links_the_context_url_the_subscription_was_written_with()
    {
        var url = _contexts.Serve("/building.jsonld", """{"@context":{"Building":"https://example.org/ns#Building"}}""");
        await SubscribeAsync($",\"@context\":[\"{url}\"]", contentType: "application/ld+json");

        await _client.CreateOkAsync("""{"id":"urn:ngsi-ld:Building:link","type":"Building","name":"x"}""", link: Api.Link(url), tenant: _tenant);

        var notification = (await _receiver.WaitForAsync(1))[0];
        notification.Headers["Link"].Should().StartWith($"<{url}>;");
        notification.Entity.ContainsKey("@context").Should().BeFalse();
        notification.Entity["type"]!.GetValue<string>().Should().Be("Building");
    }

    [Fact]
    public async Task A_percent_encoded_q_in_the_subscription_is_read_as_in_a_URL()
    {
        await SubscribeAsync(",\"q\":\"name==\\\"Eiffel%20Tower\\\"\"");

        await CreateAsync("""{"id":"urn:ngsi-ld:Building:q1","type":"Building","name":"Eiffel Tower"}""");
        await CreateAsync("""{"id":"urn:ngsi-ld:Building:q2","type":"Building","name":"Eiffel%20Tower"}""");

        await _receiver.WaitForAsync(1);
        (await _receiver.SettleAsync()).Select(n => n.Entity["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Building:q1");
    }

    [Fact]
    public async Task A_resumed_subscription_written_with_a_context_notifies_again()
    {
        var url = _contexts.Serve("/resume.jsonld", """{"@context":{"Building":"https://example.org/ns#Building"}}""");
        var location = await SubscribeAsync(",\"isActive\":false", link: Api.Link(url));
        (await _client.Send(HttpMethod.Patch, location, """{"isActive":true}""", tenant: _tenant)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await CreateAsync("""{"id":"urn:ngsi-ld:Building:r","type":"https://example.org/ns#Building","name":"x"}""");

        (await OnlyEntityAsync())["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:Building:r");
    }

    [Fact]
    public async Task A_notification_waiting_for_its_retry_does_not_hold_up_another_subscription_to_the_same_endpoint()
    {
        var failing = await SubscribeAsync(",\"watchedAttributes\":[\"alarm\"]");
        await SubscribeAsync(",\"watchedAttributes\":[\"name\"]");
        var failingId = failing[(failing.LastIndexOf('/') + 1)..];
        _receiver.RefuseWhen = n => n["subscriptionId"]!.GetValue<string>() == failingId;

        await CreateAsync("""{"id":"urn:ngsi-ld:Building:h1","type":"Building","alarm":true}""");
        await Task.Delay(500); // the first subscription's notification is refused and waits for its retry
        await CreateAsync("""{"id":"urn:ngsi-ld:Building:h2","type":"Building","name":"x"}""");

        var received = await _receiver.WaitForAsync(1, TimeSpan.FromSeconds(5));
        received.Select(n => n.Entity["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Building:h2");
    }

    private const string Paris = """{"id":"urn:ngsi-ld:City:Paris","type":"City","name":{"type":"Property","value":"Paris"},"population":{"type":"Property","value":2100000}}""";

    [Fact]
    public async Task A_flat_join_notifies_the_linked_entity_after_the_notified_one()
    {
        await CreateAsync(Paris);
        await SubscribeAsync("", "\"join\":\"flat\",");

        await CreateAsync(Building);

        var received = await _receiver.WaitForAsync(1);
        received.Should().NotBeEmpty("a notification was due");
        var data = received[0].Data.Select(e => e!.AsObject()).ToList();
        data.Select(e => e["id"]!.GetValue<string>()).Should().Equal("urn:ngsi-ld:Building:b", "urn:ngsi-ld:City:Paris");
        data[1]["name"]!["value"]!.GetValue<string>().Should().Be("Paris");
        data[0]["locatedAt"]!["object"]!.GetValue<string>().Should().Be("urn:ngsi-ld:City:Paris", "flat keeps the relationship as it is");
    }

    [Fact]
    public async Task An_inline_join_puts_the_linked_entity_in_the_relationship_with_the_notified_attributes()
    {
        await CreateAsync(Paris);
        await SubscribeAsync("", "\"join\":\"inline\",\"joinLevel\":1,\"attributes\":[\"locatedAt\"],");

        await CreateAsync(Building);

        var entity = await OnlyEntityAsync();
        entity.ContainsKey("name").Should().BeFalse("the notification's attributes still apply to the notified entity");
        var linked = entity["locatedAt"]!["entity"]!.AsObject();
        linked["id"]!.GetValue<string>().Should().Be("urn:ngsi-ld:City:Paris");
        linked["population"]!["value"]!.GetValue<int>().Should().Be(2100000);
    }

    [Theory]
    [InlineData("\"join\":\"sideways\",")]
    [InlineData("\"join\":\"flat\",\"joinLevel\":0,")]
    public async Task An_invalid_join_in_a_subscription_is_400(string notification)
    {
        var body = $$$$"""
            {"type":"Subscription","entities":[{"type":"Building"}],
             "notification":{ {{{{notification}}}} "endpoint":{"uri":"{{{{_receiver.Url}}}}","accept":"application/json"}}}
            """;
        var response = await _client.Send(HttpMethod.Post, "/ngsi-ld/v1/subscriptions", body, tenant: _tenant);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "BadRequestData");
    }
}
