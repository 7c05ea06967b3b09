using System.Text.Json.Nodes;
using Kontext.Broker.Http;
using Kontext.Ngsi.ContextSources;
using Kontext.Ngsi.Errors;
using Kontext.Ngsi.Formats;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;

namespace Kontext.Broker.ContextSources;

/// <summary>A stored registration read back: the model and the stored record (status, times).</summary>
internal sealed record LoadedRegistration(Registration Registration, StoredRegistration Stored);

/// <summary>The tenant's federation facet, ids from the URL, and stored registrations read back.</summary>
internal static class RegistrationStores
{
    /// <summary>The tenant's store and its registration facet; a backend without one answers 501 (NotImplemented).</summary>
    public static async Task<(ITenantStore Store, IRegistrationStore Registrations)> ForAsync(NgsiRequest request, bool forWrite)
    {
        var store = await request.TenantStoreAsync(forWrite);
        return store.Registrations is { } registrations
            ? (store, registrations)
            : throw new NgsiException(NgsiError.OperationNotSupported("This storage backend keeps no context source registrations"));
    }

    /// <summary>An id from the URL; one that is not a URI is 400 BadRequestData.</summary>
    public static string Id(string raw, string what)
    {
        var id = Uri.UnescapeDataString(raw);
        if (!Validate.IsUri(id)) throw NgsiException.BadRequestData($"The {what} id '{id}' is not a URI");
        return id;
    }

    public static string Document(Registration registration) => registration.Document.ToJsonString();

    /// <summary>A stored registration as the model. Stored documents were checked when written; expiry is not judged here.</summary>
    public static Registration Read(StoredRegistration stored) =>
        RegistrationParser.Read(StoredJson.Parse(stored.Document)!.AsObject(), DateTimeOffset.UtcNow, checkExpiry: false);

    /// <summary>
    /// The tenant's registrations that have not expired. Expired ones vanish lazily: they are deleted here, through
    /// <paramref name="changes"/>, so their subscribers hear that they no longer match.
    /// </summary>
    public static async Task<IReadOnlyList<LoadedRegistration>> LiveAsync(IRegistrationStore store, string? tenant, RegistrationChanges changes, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var live = new List<LoadedRegistration>();
        foreach (var stored in await store.ListRegistrationsAsync(cancellationToken))
        {
            var registration = Read(stored);
            if (registration.IsExpired(now)) await changes.RemoveExpiredAsync(store, tenant, stored.Id, cancellationToken);
            else live.Add(new LoadedRegistration(registration, stored));
        }
        return live;
    }

    /// <summary>One registration that has not expired, or null; an expired one is deleted (see <see cref="LiveAsync"/>).</summary>
    public static async Task<LoadedRegistration?> FindAsync(IRegistrationStore store, string? tenant, string id, RegistrationChanges changes, CancellationToken cancellationToken)
    {
        var stored = await store.GetRegistrationAsync(id, cancellationToken);
        if (stored is null) return null;
        var registration = Read(stored);
        if (!registration.IsExpired(DateTimeOffset.UtcNow)) return new LoadedRegistration(registration, stored);
        await changes.RemoveExpiredAsync(store, tenant, id, cancellationToken);
        return null;
    }

    /// <summary>The registration as the request's reader sees it (with createdAt/modifiedAt when asked for sysAttrs).</summary>
    public static JsonObject Render(LoadedRegistration loaded, NgsiRequest request, bool sysAttrs) =>
        RegistrationRenderer.Render(loaded.Registration, request.Context, loaded.Stored.Status,
            sysAttrs ? loaded.Stored.CreatedAt : null, sysAttrs ? loaded.Stored.ModifiedAt : null);
}
