using System.Net;
using System.Text.Json.Nodes;
using Kontext.Broker.Tests.Infrastructure;
using Kontext.Cli;
using Kontext.Storage.Sqlite;

namespace Kontext.Broker.Tests.Cli;

/// <summary>kontext backup while the broker runs, kontext restore while it is stopped.</summary>
public sealed class BackupRestoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kontext-backup-").FullName;

    private string Dir(string name) => Path.Combine(_root, name);

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Backup_of_a_running_broker_restores_entities_history_tenants_and_contexts()
    {
        var id = Api.NewId();
        var backup = Dir("backup");
        await using (var broker = new BrokerFactory(Dir("data")))
        {
            var client = broker.CreateClient();
            await client.CreateOkAsync($$"""{"id":"{{id}}","type":"Thing","n":{"type":"Property","value":1,"observedAt":"2026-01-01T00:00:00Z"} }""", tenant: "city");
            (await client.Send(HttpMethod.Patch, $"{Api.Entities}/{id}/attrs", """{"n":{"type":"Property","value":2,"observedAt":"2026-01-01T00:01:00Z"}}""", tenant: "city"))
                .StatusCode.Should().Be(HttpStatusCode.NoContent);
            await client.CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""");

            // While the broker runs (and holds its data directory lock).
            var (code, output) = await CliFixture.RunWithAsync(null, "backup", backup, "--data", Dir("data"));
            code.Should().Be(CliContext.Ok, output);
            await client.CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""", tenant: "after-backup");
        }
        SqliteBackup.ReadManifest(backup).Files.Select(f => f.File).Should().Contain(["system.db", "kontext.db", "tenant-city.db"]);

        var restored = await CliFixture.RunWithAsync(null, "restore", backup, "--data", Dir("restored"));
        restored.Code.Should().Be(CliContext.Ok, restored.Output);
        await using (var broker = new BrokerFactory(Dir("restored")))
        {
            var client = broker.CreateClient();
            (await client.GetEntityAsync(id, tenant: "city"))["n"]!["value"]!.GetValue<int>().Should().Be(2);
            var history = await (await client.Send(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{id}", tenant: "city")).JsonAsync();
            history["n"]!.AsArray().Should().HaveCount(2);
            (await client.Send(HttpMethod.Get, Api.Entities + "?type=Thing")).StatusCode.Should().Be(HttpStatusCode.OK);
            (await client.Send(HttpMethod.Get, Api.Entities + "?type=Thing", tenant: "after-backup")).StatusCode.Should().Be(HttpStatusCode.NotFound,
                "a tenant created after the backup is not in it");
        }
    }

    [Fact]
    public async Task Restore_refuses_while_a_broker_runs_on_the_data_directory()
    {
        await using (var broker = new BrokerFactory(Dir("data")))
        {
            await broker.CreateClient().CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""");
            (await CliFixture.RunWithAsync(null, "backup", Dir("backup"), "--data", Dir("data"))).Code.Should().Be(CliContext.Ok);
            var (code, output) = await CliFixture.RunWithAsync(null, "restore", Dir("backup"), "--data", Dir("data"), "--replace");
            code.Should().Be(CliContext.Failed);
            output.Should().Contain("stop it");
        }
        // Stopped: the restore goes through and sets the replaced files aside.
        await LockReleasedAsync(Dir("data"));
        var (restored, text) = await CliFixture.RunWithAsync(null, "restore", Dir("backup"), "--data", Dir("data"), "--replace");
        restored.Should().Be(CliContext.Ok, text);
        Directory.EnumerateDirectories(Dir("data"), "pre-restore-*").Should().ContainSingle();
    }

    [Fact]
    public async Task Restore_into_a_directory_with_databases_needs_replace()
    {
        await using (var broker = new BrokerFactory(Dir("data")))
        {
            await broker.CreateClient().CreateOkAsync($$"""{"id":"{{Api.NewId()}}","type":"Thing"}""");
            (await CliFixture.RunWithAsync(null, "backup", Dir("backup"), "--data", Dir("data"))).Code.Should().Be(CliContext.Ok);
        }
        await LockReleasedAsync(Dir("data"));
        var (code, output) = await CliFixture.RunWithAsync(null, "restore", Dir("backup"), "--data", Dir("data"));
        code.Should().Be(CliContext.Failed);
        output.Should().Contain("--replace");
    }

    [Fact]
    public async Task Backup_refuses_a_directory_that_is_not_a_data_directory_or_a_target_that_is_not_empty()
    {
        Directory.CreateDirectory(Dir("empty"));
        (await CliFixture.RunWithAsync(null, "backup", Dir("b1"), "--data", Dir("empty"))).Output.Should().Contain("not a Kontext data directory");
        Directory.CreateDirectory(Dir("full"));
        File.WriteAllText(Path.Combine(Dir("full"), "x"), "x");
        await using (var broker = new BrokerFactory(Dir("data"))) broker.CreateClient();
        (await CliFixture.RunWithAsync(null, "backup", Dir("full"), "--data", Dir("data"))).Output.Should().Contain("not empty");
    }

    /// <summary>
    /// An in-process broker releases kontext.lock when its host is disposed, which can trail the factory's disposal under
    /// load; a broker process releases it when it exits. Waits for that (not for a time) before the stopped-broker case.
    /// </summary>
    private static async Task LockReleasedAsync(string dataDirectory)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var probe = Kontext.Storage.Sqlite.SqliteBackup.TryLock(dataDirectory);
            if (probe is not null) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("kontext.lock was still held 10 s after the broker stopped");
    }
}
