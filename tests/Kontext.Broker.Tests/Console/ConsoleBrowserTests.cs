using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Kontext.Broker.Tests.WebConsole;

/// <summary>
/// The console (/console) driven in headless Chromium against a seeded broker: each screen does what an operator needs,
/// with the broker's own answers on screen. One browser for the class; screenshots go to console-screenshots/ in the
/// test output directory.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleFixture fx) : IClassFixture<ConsoleFixture>
{
    private ConsoleBrowser Browser => fx.Browser;

    private void ShowEntities(string? q)
    {
        Browser.Open("#/entities");
        Browser.Until(d => d.FindElements(By.CssSelector("#entity-type option")).Count > 1, "the types of the tenant");
        Browser.Choose("#entity-type", ConsoleFixture.SensorType);
        Browser.Fill("#entity-q", q ?? "");
        Browser.Element("#entity-search").Click();
    }

    [BrowserFact]
    public void Entity_list_filters_with_q_and_pages_through_the_type()
    {
        ShowEntities(null);
        Browser.Until(d => d.FindElement(By.Id("entity-count")).Text == $"1–20 of {ConsoleFixture.Sensors}", "the first page of all sensors");
        Browser.Screenshot("entities");
        Browser.Element("#entity-results .pager button:last-child").Click();
        Browser.Until(d => d.FindElement(By.Id("entity-count")).Text == $"21–{ConsoleFixture.Sensors} of {ConsoleFixture.Sensors}", "the second page");

        ShowEntities("status==\"fault\"");
        Browser.Until(d => d.FindElement(By.Id("entity-count")).Text == $"1–{ConsoleFixture.FaultySensors} of {ConsoleFixture.FaultySensors}", "the faulty sensors");
        var ids = Browser.Driver.FindElements(By.CssSelector("#entity-results tbody tr td:first-child")).Select(e => e.Text).ToList();
        ids.Should().Equal(ConsoleFixture.SensorId(6), ConsoleFixture.SensorId(12), ConsoleFixture.SensorId(18), ConsoleFixture.SensorId(24));
        Browser.Element("#q-error").Text.Should().BeEmpty();
    }

    [BrowserFact]
    public async Task Invalid_q_shows_the_brokers_error_next_to_the_input()
    {
        const string q = "level>>0.3";
        var answer = await (await fx.Client.Send(HttpMethod.Get, $"/ngsi-ld/v1/entities?type={ConsoleFixture.SensorType}&q={Uri.EscapeDataString(q)}", tenant: ConsoleFixture.Tenant)).JsonAsync();
        ShowEntities(q);
        var error = Browser.Until(d => d.FindElement(By.Id("q-error")).Text is { Length: > 0 } t ? t : null, "the broker's error");
        error.Should().Contain(answer["detail"]!.GetValue<string>()).And.Contain("position");
        Browser.Element("#entity-q").GetAttribute("aria-invalid").Should().Be("true");
        Browser.Screenshot("entities-invalid-q");
    }

    [BrowserFact]
    public void Entity_detail_shows_units_observedAt_and_relationships_as_links()
    {
        Browser.Open("#/entity/" + Uri.EscapeDataString(ConsoleFixture.SensorId(3)));
        var table = Browser.Element("#entity-attributes");
        var level = table.FindElements(By.CssSelector("tbody tr")).Single(r => r.FindElement(By.TagName("th")).Text == "level");
        level.Text.Should().Contain("MTR").And.Contain("0.23");
        level.FindElements(By.TagName("td"))[3].Text.Should().NotBeEmpty("observedAt is shown");
        var link = table.FindElement(By.LinkText("urn:ngsi-ld:Device:gauge-003"));
        link.GetAttribute("href").Should().EndWith("#/entity/" + Uri.EscapeDataString("urn:ngsi-ld:Device:gauge-003"));
        Browser.Screenshot("entity-detail");
    }

    [BrowserFact]
    public void Map_shows_the_seeded_features_and_a_drawn_box_runs_a_geo_query()
    {
        Browser.Open("#/map");
        Browser.Until(d => d.FindElements(By.CssSelector("#map-type option")).Count > 1, "the types of the tenant");
        Browser.Choose("#map-type", ConsoleFixture.SensorType);
        Browser.Element("#map-load").Click();
        Browser.Until(d => d.FindElements(By.CssSelector("#map-svg .feature")).Count == ConsoleFixture.Sensors, "every sensor on the map");
        Browser.Element("#map-count").Text.Should().Be($"{ConsoleFixture.Sensors} features");
        Browser.Screenshot("map");

        // Drag a box around the western half of the grid (the features' own screen positions bound it).
        var west = Browser.Driver.FindElements(By.CssSelector("#map-svg .feature"))
            .Where(f => string.CompareOrdinal(f.GetAttribute("data-id"), ConsoleFixture.SensorId(12)) <= 0).Select(f => f.Location).ToList();
        Browser.Element("#map-draw").Click();
        var (x0, y0, x1, y1) = (west.Min(p => p.X) - 10, west.Min(p => p.Y) - 10, west.Max(p => p.X) + 25, west.Max(p => p.Y) + 25);
        new OpenQA.Selenium.Interactions.Actions(Browser.Driver)
            .MoveToLocation(x0, y0).ClickAndHold().MoveToLocation((x0 + x1) / 2, (y0 + y1) / 2).MoveToLocation(x1, y1).Release().Perform();
        Browser.Until(d => d.FindElements(By.CssSelector("#map-svg .feature")).Count == 12, "the sensors inside the box");
        Browser.Element("#map-bbox").GetAttribute("value")!.Split(',').Should().HaveCount(4);
        Browser.Screenshot("map-box");
    }

    [BrowserFact]
    public void History_chart_draws_the_seeded_points_of_several_entities()
    {
        Browser.Open("#/history");
        Browser.Until(d => d.FindElements(By.CssSelector("#history-type option")).Count > 1, "the types of the tenant");
        Browser.Choose("#history-type", ConsoleFixture.SensorType);
        Browser.Fill("#history-attr", "level");
        Browser.Fill("#history-ids", string.Join(",", ConsoleFixture.HistorySensors));
        // A window of a few days around the seeded hours, whatever the browser's time zone.
        Browser.SetValue("#history-from", "2025-12-31T00:00");
        Browser.SetValue("#history-to", "2026-01-02T23:00");
        Browser.Choose("#history-mode", "raw");
        Browser.Element("#history-load").Click();
        Browser.Until(d => d.FindElements(By.CssSelector("#history-chart circle.point")).Count == 2 * ConsoleFixture.PointsPerSensor, "every seeded point");
        Browser.Driver.FindElements(By.CssSelector("#history-chart g.series")).Select(g => g.GetAttribute("data-id"))
            .Should().BeEquivalentTo(ConsoleFixture.HistorySensors);
        Browser.Screenshot("history");

        // Hourly averages for the same window: one point per hour with a reading.
        Browser.Choose("#history-mode", "PT1H");
        Browser.Element("#history-load").Click();
        Browser.Until(d => d.FindElement(By.CssSelector("ul.legend")).Text.Contains("averages"), "the aggregated chart");
    }

    [BrowserFact]
    public async Task Subscription_shows_its_status_and_can_be_paused()
    {
        Browser.Open("#/subscriptions");
        var row = Browser.Element($"#subscriptions-table tr[data-id='{ConsoleFixture.SubscriptionId}']");
        row.Text.Should().Contain("Stormwater levels to the control room").And.Contain("active");
        Browser.Screenshot("subscriptions");
        row.FindElement(By.CssSelector("button.toggle")).Click();
        Browser.Until(d => d.FindElement(By.CssSelector($"#subscriptions-table tr[data-id='{ConsoleFixture.SubscriptionId}'] button.toggle")).Text == "Resume", "the paused subscription");
        Browser.Element("#subscriptions-message").Text.Should().Contain("paused");

        var stored = JsonNode.Parse(await (await fx.Client.Send(HttpMethod.Get, $"/ngsi-ld/v1/subscriptions/{ConsoleFixture.SubscriptionId}", tenant: ConsoleFixture.Tenant)).Content.ReadAsStringAsync())!;
        stored["isActive"]!.GetValue<bool>().Should().BeFalse();
        stored["status"]!.GetValue<string>().Should().Be("paused");
    }

    [BrowserFact]
    public async Task Dead_letter_is_replayed_after_its_type_is_no_longer_enforced()
    {
        Browser.Open("#/adapters");
        var row = Browser.Element($"#dead-letters tr[data-id='{fx.DeadLetterId}']");
        row.Text.Should().Contain("validation").And.Contain("pending");
        // The operator relaxes the type's validation in the console, then replays.
        Browser.Choose("#mode-WasteContainer", "off");
        Browser.Until(d => d.FindElement(By.Id("adapters-message")).Text == "WasteContainer: off", "the mode change");
        Browser.Screenshot("adapters");
        Browser.Element($"#dead-letters button.replay[data-id='{fx.DeadLetterId}']").Click();
        Browser.Until(d => d.FindElement(By.Id("adapters-message")).Text.Contains("stored"), "the replay's outcome");
        Browser.Until(d => d.FindElement(By.CssSelector($"#dead-letters tr[data-id='{fx.DeadLetterId}'] td.status")).Text == "replayed", "the replayed status");

        var letter = JsonNode.Parse(await (await fx.Client.Send(HttpMethod.Get, $"/adapters/deadletters/{fx.DeadLetterId}", tenant: ConsoleFixture.Tenant)).Content.ReadAsStringAsync())!;
        letter["status"]!.GetValue<string>().Should().Be("replayed");
    }

    [BrowserFact]
    public void Health_shows_readiness_version_and_counts_per_type()
    {
        Browser.Open("#/health");
        var counts = Browser.Element("#type-counts");
        Browser.Until(d => counts.Text.Contains($"{ConsoleFixture.SensorType} {ConsoleFixture.Sensors}"), "the count of sensors");
        Browser.Element("main").Text.Should().Contain("ready").And.Contain("sqlite").And.Contain("1.9.1");
        Browser.Screenshot("health");
    }

    [BrowserFact]
    public void Screens_are_reached_by_keyboard_and_every_control_has_a_label()
    {
        Browser.Open("#/entities");
        Browser.Element("#entity-type");
        var unlabeled = Browser.Driver.ExecuteScript("""
            return [...document.querySelectorAll('input, select, button')].filter(e => e.offsetParent !== null)
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
              .map(e => e.outerHTML);
            """) as IReadOnlyCollection<object>;
        unlabeled.Should().BeEmpty();
        // From the skip link, Tab walks the navigation; Enter on "Map" opens the map screen with focus on its heading.
        var active = Browser.Driver.SwitchTo().ActiveElement();
        for (var i = 0; i < 10 && active.Text != "Map"; i++)
        {
            active.SendKeys(Keys.Tab);
            active = Browser.Driver.SwitchTo().ActiveElement();
        }
        active.Text.Should().Be("Map");
        active.SendKeys(Keys.Enter);
        Browser.Until(d => d.SwitchTo().ActiveElement().TagName == "h1" && d.SwitchTo().ActiveElement().Text == "Map", "focus on the map's heading");
    }

    [BrowserFact]
    public void Console_acts_with_its_users_own_credential_only()
    {
        try
        {
            // Signed out, the broker's 401 reaches the screen: the console has no access of its own.
            Browser.Open("#/entities");
            Browser.Element("#signin-open").Click();
            Browser.Element("#signout").Click();
            Browser.Until(d => d.FindElement(By.TagName("h1")).Text == "Sign-in needed", "the sign-in prompt");
            Browser.Element("main .error").Text.Should().Contain("Unauthorized");

            // A read-only key reads, and its Pause is refused by the broker, whose answer is shown.
            fx.SignInAs(ConsoleFixture.ViewerKey);
            Browser.Open("#/subscriptions");
            Browser.Element($"#subscriptions-table tr[data-id='{ConsoleFixture.SubscriptionId}'] button.toggle").Click();
            Browser.Until(d => d.FindElement(By.Id("subscriptions-message")).Text.Contains("Forbidden"), "the broker's 403");
        }
        finally
        {
            fx.SignInAs(ConsoleFixture.OperatorKey);
        }
    }
}
