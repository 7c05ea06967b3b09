using Kontext.Ngsi.Storage;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The registration list every entity request asks for is kept between registration writes (issue 12): whatever a
/// write changes (a new registration, a forwarded request's status, a removal) is in the next list.
/// </summary>
public sealed class SqliteRegistrationListTests : IAsyncLifetime
{
    private readonly SqliteTestDirectory _directory = new("registration-list");
    private IEntityStorage _storage = null!;
    private IRegistrationStore _registrations = null!;

    public async Task InitializeAsync()
    {
        _storage = _directory.Open();
        _registrations = (await _storage.GetTenantAsync(null, true, default))!.Registrations!;
    }

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    private Task PutAsync(string id, string? document) =>
        _registrations.WriteRegistrationAsync(id, _ => new RegistrationWrite<bool>(true, document, []), default);

    [Fact]
    public async Task The_listed_registrations_follow_every_registration_write()
    {
        (await _registrations.ListRegistrationsAsync(default)).Should().BeEmpty();
        (await _registrations.ListRegistrationsAsync(default)).Should().BeEmpty("asked twice without a write in between");

        await PutAsync("urn:ngsi-ld:ContextSourceRegistration:1", """{"id":"urn:ngsi-ld:ContextSourceRegistration:1"}""");
        (await _registrations.ListRegistrationsAsync(default)).Select(r => r.Id).Should().Equal("urn:ngsi-ld:ContextSourceRegistration:1");

        await _registrations.RecordForwardingAsync("urn:ngsi-ld:ContextSourceRegistration:1", succeeded: false, DateTimeOffset.UtcNow, default);
        (await _registrations.ListRegistrationsAsync(default)).Single().Status.TimesFailed.Should().Be(1);

        await PutAsync("urn:ngsi-ld:ContextSourceRegistration:1", null);
        (await _registrations.ListRegistrationsAsync(default)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_registration_written_by_a_caller_that_stopped_waiting_is_listed_once_committed()
    {
        (await _registrations.ListRegistrationsAsync(default)).Should().BeEmpty();
        using var gaveUp = new CancellationTokenSource();
        gaveUp.Cancel();
        var write = _registrations.WriteRegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:2",
            _ => new RegistrationWrite<bool>(true, """{"id":"urn:ngsi-ld:ContextSourceRegistration:2"}""", []), gaveUp.Token);
        await write.Invoking(w => w).Should().ThrowAsync<OperationCanceledException>();

        // The write still commits; a later registration write queues behind it, so once that one is done both are listed.
        await PutAsync("urn:ngsi-ld:ContextSourceRegistration:3", """{"id":"urn:ngsi-ld:ContextSourceRegistration:3"}""");
        (await _registrations.ListRegistrationsAsync(default)).Select(r => r.Id)
            .Should().Equal("urn:ngsi-ld:ContextSourceRegistration:2", "urn:ngsi-ld:ContextSourceRegistration:3");
    }
}
