using System.Text.Json.Nodes;
using Kontext.Ngsi.JsonLd;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Tests.Sqlite;

/// <summary>
/// The observed-time index of the history holds only instances with an observedAt (issue 12, write path): a new value
/// without one adds no entry there, and the reads by observedAt, by modifiedAt and of the whole history still see exactly
/// the instances they saw before, in a new file and in one migrated from the full index.
/// </summary>
public sealed class SqliteObservedIndexTests : IAsyncLifetime
{
    private const string Id = "urn:ngsi-ld:T:observed";
    private static readonly string No2 = ContextProcessor.Core.ExpandTerm("no2");
    private readonly SqliteTestDirectory _directory = new("observed-index");
    private IEntityStorage _storage = null!;
    private ITenantStore _store = null!;

    public async Task InitializeAsync() => await OpenAsync();

    public async Task DisposeAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await _directory.DeleteAsync();
    }

    private async Task OpenAsync()
    {
        _storage = _directory.Open();
        _store = (await _storage.GetTenantAsync(null, true, default))!;
    }

    private async Task ReopenAsync()
    {
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        await OpenAsync();
    }

    private SqliteConnection OpenFile()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "kontext.db")};Pooling=False");
        connection.Open();
        return connection;
    }

    private static Entity Parse(string json) => EntityParser.ParseEntity(JsonNode.Parse(json)!.AsObject(), ContextProcessor.Core, ParseMode.Full);

    /// <summary>The entity with no2 observed at 10:00, then new values: at 11:00, without observedAt, at 12:00, without.</summary>
    private async Task WriteHistoryAsync()
    {
        var entity = Parse($$$"""{"id":"{{{Id}}}","type":"T","no2":{"type":"Property","value":1,"observedAt":"2025-01-01T10:00:00Z"}}""");
        await _store.WriteAsync(Id, _ =>
        {
            var operations = new EntityOperations(DateTimeOffset.UtcNow);
            return EntityWrite<bool>.Upsert(operations.Create(entity), operations.Changes, true);
        }, default);
        string?[] observed = ["2025-01-01T11:00:00Z", null, "2025-01-01T12:00:00Z", null];
        for (var i = 0; i < observed.Length; i++)
        {
            var at = observed[i] is { } time ? $",\"observedAt\":\"{time}\"" : "";
            var fragment = Parse($$$"""{"id":"{{{Id}}}","type":"T","no2":{"type":"Property","value":{{{i + 2}}}{{{at}}}}}""");
            await _store.WriteAsync(Id, EntityWrites.UpdateAttributes(Id, fragment), default);
        }
    }

    private async Task<List<string>> ReadAsync(TemporalTimeProperty property, bool newest = false, int limit = 100)
    {
        var instances = await _store.History!.ReadInstancesAsync(
            new TemporalReadRequest([Id], null, property, null, true, null, limit, newest), default);
        return instances.Select(i => JsonNode.Parse(i.Record.InstanceJson!)!["value"]!.ToJsonString()).ToList();
    }

    private long ObservedIndexEntries()
    {
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM attribute_instances INDEXED BY ix_instances_by_observed WHERE observed_at IS NOT NULL";
        return (long)command.ExecuteScalar()!;
    }

    private string ObservedIndexSql()
    {
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sql FROM sqlite_schema WHERE name = 'ix_instances_by_observed'";
        return (string)command.ExecuteScalar()!;
    }

    private async Task AssertReadsAsync()
    {
        (await ReadAsync(TemporalTimeProperty.ObservedAt)).Should().Equal("1", "2", "4");
        (await ReadAsync(TemporalTimeProperty.ObservedAt, newest: true, limit: 2)).Should().Equal("2", "4");
        (await ReadAsync(TemporalTimeProperty.ModifiedAt)).Should().Equal("1", "2", "3", "4", "5");
        (await _store.ReadHistoryAsync(Id, No2, default)).Should().HaveCount(5);
    }

    [Fact]
    public async Task A_new_value_without_observedAt_adds_no_entry_to_the_observed_time_index()
    {
        await WriteHistoryAsync();

        ObservedIndexSql().Should().Contain("WHERE observed_at IS NOT NULL");
        ObservedIndexEntries().Should().Be(3, "three of the five instances have an observedAt");
        await AssertReadsAsync();
    }

    [Fact]
    public async Task A_file_with_the_full_observed_time_index_gets_the_partial_one_and_reads_the_same_instances()
    {
        await WriteHistoryAsync();
        var step = SqliteMigrations.Tenant.Single(s => s.Name.Contains("observedAt", StringComparison.Ordinal));
        await _storage.DisposeAsync();
        SqliteConnection.ClearAllPools();
        using (var connection = OpenFile())
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                DROP INDEX ix_instances_by_observed;
                CREATE INDEX ix_instances_by_observed ON attribute_instances(sk, observed_at);
                PRAGMA user_version = {step.Version - 1};
                """;
            command.ExecuteNonQuery();
        }
        ObservedIndexSql().Should().NotContain("WHERE");

        await ReopenAsync();

        ObservedIndexSql().Should().Contain("WHERE observed_at IS NOT NULL");
        ObservedIndexEntries().Should().Be(3);
        await AssertReadsAsync();
    }

    [Theory]
    [InlineData("SELECT s.seq FROM attribute_instances s WHERE s.sk = 1 AND s.observed_at IS NOT NULL ORDER BY s.observed_at DESC, s.seq DESC LIMIT 3")]
    [InlineData("SELECT count(*) FROM attribute_instances i WHERE i.sk = 1 AND i.observed_at IS NOT NULL AND i.kind <> 'Deleted' AND i.observed_at >= '2025' AND i.observed_at < '2026'")]
    [InlineData("SELECT x.sample_type FROM attribute_instances x WHERE x.sk = 1 AND x.observed_at = '2025-01-01T10:00:00.000Z' ORDER BY x.seq DESC LIMIT 1")]
    public async Task The_observed_time_reads_of_a_series_still_seek_the_partial_index(string sql)
    {
        await WriteHistoryAsync();
        using var connection = OpenFile();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(3));

        plan.Should().ContainSingle(line => line.Contains("ix_instances_by_observed") && line.Contains("sk=?"));
    }
}
