using System.Text.Json.Nodes;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Query;
using Kontext.Ngsi.Subscriptions;
using Kontext.Ngsi.Temporal;

namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// A subscription to context source registrations (clauses 5.2.12, 5.11). It has the Subscription data type of entity
/// subscriptions, read by the same parser, and is matched against registrations: "entities" and "watchedAttributes"
/// against their information, q and csf against their members, geoQ against their location, scopeQ against their scope,
/// temporalQ against their observation or management interval.
/// </summary>
public sealed record RegistrationSubscription(Subscription Subscription, QExpr? Csf, TemporalQuery? Temporal)
{
    public string Id => Subscription.Id;

    public RegistrationFilter Filter { get; } = new(
        Entities: Subscription.Filter.Selectors?.Select(EntitySpec.From).ToList(),
        Attributes: Subscription.WatchedAttributes,
        Q: Subscription.Filter.Q,
        Csf: Csf,
        Geo: Subscription.Filter.Geo,
        ScopeQ: Subscription.Filter.ScopeQ,
        Temporal: Temporal);

    /// <summary>
    /// Why a change of a registration is notified (clause 5.11.7): it now matches (newlyMatching), it matched and still does
    /// (updated), or it matched and no longer does or is gone (noLongerMatching); null when it concerns this subscription not.
    /// </summary>
    public string? TriggerReason(Registration? before, Registration? after, DateTimeOffset now)
    {
        var matchedBefore = before is not null && Filter.Matches(before);
        var matchesNow = after is not null && !after.IsExpired(now) && Filter.Matches(after);
        return (matchedBefore, matchesNow) switch
        {
            (false, true) => RegistrationNotificationBuilder.NewlyMatching,
            (true, true) => RegistrationNotificationBuilder.Updated,
            (true, false) => RegistrationNotificationBuilder.NoLongerMatching,
            _ => null,
        };
    }
}

/// <summary>Reads a registration subscription: the entity subscription parser, plus csf and temporalQ, which only registrations have.</summary>
public static class RegistrationSubscriptionParser
{
    public static RegistrationSubscription Parse(JsonObject input, JsonLdContext context, DateTimeOffset now, bool checkExpiry = true)
    {
        var body = (JsonObject)input.DeepClone();
        var csfNode = body["csf"];
        var temporalNode = body["temporalQ"];
        body.Remove("csf");
        body.Remove("temporalQ");
        var subscription = SubscriptionParser.Parse(body, context, now, checkExpiry);

        QExpr? csf = null;
        if (csfNode is not null)
        {
            if (csfNode is not JsonValue v || !v.TryGetValue<string>(out var csfText)) throw Bad("'csf' must be a string");
            csf = QLanguage.Parse(csfText, context);
            subscription.Body["csf"] = csfText;
        }
        TemporalQuery? temporal = null;
        if (temporalNode is not null)
        {
            if (temporalNode is not JsonObject t) throw Bad("'temporalQ' must be an object (timerel, timeAt, endTimeAt, timeproperty)");
            temporal = TemporalQuery.Parse(Text(t, "timerel"), Text(t, "timeAt"), Text(t, "endTimeAt"), Text(t, "timeproperty"), null);
            if (temporal.TimeRel is null) throw Bad("'temporalQ' needs timerel and timeAt");
            subscription.Body["temporalQ"] = t.DeepClone();
        }
        return new RegistrationSubscription(subscription, csf, temporal);
    }

    private static string? Text(JsonObject body, string member) => body[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw Bad($"'temporalQ.{member}' must be a string"),
    };

    private static NgsiException Bad(string reason) => NgsiException.BadRequestData("Invalid subscription: " + reason);
}
