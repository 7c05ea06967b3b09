using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kontext.Ngsi.Model;
using Kontext.Ngsi.Storage;
using Kontext.Ngsi.Temporal;
using Microsoft.Data.Sqlite;

namespace Kontext.Storage.Sqlite;

/// <summary>One tenant's database file: a single group-committing writer, pooled readers.</summary>
internal sealed partial class SqliteTenantStore : ITenantStore, IAsyncDisposable, ITemporalStore, IStoredEntityReader
{
    private readonly SqliteReaders _readers;
    private readonly SqliteWriter _writer;
    private readonly SqliteOpenTenants? _openTenants;
    private long _lastUsed = Environment.TickCount64;

    /// <param name="maxReaders">Reader connections open at once (<see cref="SqliteStorageLimits.DefaultReadersPerTenant"/> when not given).</param>
    /// <param name="readerBudget">The process-wide bound on reader connections shared with the other tenants (none: unbounded).</param>
    /// <param name="writerCaches">The process-wide bound on the writers' page caches (none: unbounded).</param>
    public SqliteTenantStore(string? name, string path, Action<string?>? committed = null, SqliteOpenTenants? openTenants = null, int? maxReaders = null,
        SqliteReaderBudget? readerBudget = null, SqliteWriterCaches? writerCaches = null)
    {
        Name = name;
        _openTenants = openTenants;
        // No connection to the file is pooled by Microsoft.Data.Sqlite: closing one must release its files (CloseFiles), not
        // park them in that pool. The store keeps its readers itself (functions registered, statements prepared, capped).
        var connectionString = SqliteDatabase.ConnectionString(path, pooled: false);
        using (var setup = new SqliteConnection(connectionString))
        {
            setup.Open();
            SqliteDatabase.Execute(setup, SqliteSchema.Pragmas);
            SqliteMigrations.Apply(setup, SqliteMigrations.Tenant);
        }
        _readers = new SqliteReaders(connectionString, maxReaders ?? SqliteStorageLimits.DefaultReadersPerTenant, readerBudget);
        _writer = new SqliteWriter(connectionString, committed is null ? null : () => committed(name), () => _openTenants?.Using(this), writerCaches);
        Touch(); // counted once complete: the bound may close this store's files from another thread right away
    }

    /// <summary>Whether the open-tenant bound counts this store as open now (changed only under its lock).</summary>
    internal bool CountedOpen
    {
        get => _countedOpen;
        set => _countedOpen = value;
    }

    private volatile bool _countedOpen;

    /// <summary>When this store last used its files (Environment.TickCount64).</summary>
    internal long LastUsed => Interlocked.Read(ref _lastUsed);

    private void Touch()
    {
        Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
        _openTenants?.Using(this);
    }

    /// <summary>Every write goes through here: the store counts as in use, then the job joins the writer's queue.</summary>
    private Task<T> Enqueue<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken, string? stagingFor = null)
    {
        Touch();
        return _writer.Enqueue(work, cancellationToken, stagingFor);
    }

    /// <summary>Releases the files this store holds open: the writer closes after its queued work, idle pooled readers now.</summary>
    internal void CloseFiles()
    {
        _writer.RequestClose();
        _readers.Close();
    }

    public string? Name { get; }

    /// <summary>The reader pool, for tests of its cap.</summary>
    internal SqliteReaders Readers => _readers;

    /// <summary>The writer, for tests of its connection's settings.</summary>
    internal SqliteWriter Writer => _writer;

    public Task<Entity?> GetEntityAsync(string id, CancellationToken cancellationToken) =>
        ReadDocumentAsync(id, static doc => SqliteEntityForm.Decode(doc), cancellationToken);

    public Task<StoredEntity?> GetStoredEntityAsync(string id, CancellationToken cancellationToken) =>
        ReadDocumentAsync(id, SqliteEntityForm.Read, cancellationToken);

    private async Task<T?> ReadDocumentAsync<T>(string id, Func<byte[], T> read, CancellationToken cancellationToken) where T : class
    {
        await using var reader = await RentReaderAsync(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        // Microsoft.Data.Sqlite runs every command synchronously (its async methods wrap the result in a task): one
        // primary-key row is read without those tasks.
        using var rows = reader.Command("SELECT doc FROM entities WHERE id = $id", ("$id", id)).ExecuteReader();
        // The document's UTF-8 bytes as SQLite holds them: no .NET string to encode back to UTF-8 for the parser.
        return rows.Read() ? read(rows.GetFieldValue<byte[]>(0)) : null;
    }

    public Task<T> WriteAsync<T>(string entityId, Func<Entity?, EntityWrite<T>> decide, CancellationToken cancellationToken) =>
        StorageMetrics.TimeWrite("sqlite", () => Enqueue(connection => ApplyWrite(connection, entityId, decide, staged: true), cancellationToken, stagingFor: entityId));

    /// <summary>
    /// A batch's writes as a few jobs of the writer (chunks of <see cref="ManyChunk"/>) instead of a job and a task each;
    /// each write still runs in its own savepoint, in list order (see <see cref="SqliteWriter.EnqueueMany{T}"/>).
    /// </summary>
    public async Task<WriteOutcome<T>[]> WriteManyAsync<T>(IReadOnlyList<(string EntityId, Func<Entity?, EntityWrite<T>> Decide)> writes, CancellationToken cancellationToken)
    {
        Touch();
        var chunks = new List<Task<WriteOutcome<T>[]>>((writes.Count + ManyChunk - 1) / ManyChunk);
        for (var first = 0; first < writes.Count; first += ManyChunk)
        {
            var jobs = new (string, Func<SqliteConnection, T>)[Math.Min(ManyChunk, writes.Count - first)];
            for (var i = 0; i < jobs.Length; i++)
            {
                var (entityId, decide) = writes[first + i];
                jobs[i] = (entityId, connection => ApplyWrite(connection, entityId, decide, staged: true));
            }
            // Chunks are queued in order, so writes naming the same entity in different chunks still run in list order.
            chunks.Add(StorageMetrics.TimeWrite("sqlite", () => _writer.EnqueueMany(jobs, cancellationToken)));
        }
        var outcomes = new WriteOutcome<T>[writes.Count];
        var at = 0;
        foreach (var chunk in chunks)
        {
            var done = await chunk;
            done.CopyTo(outcomes, at);
            at += done.Length;
        }
        return outcomes;
    }

    /// <summary>
    /// Writes per job of a batch: small enough that a group stays near the writer's bound (<c>SqliteWriter.MaxGroup</c>,
    /// counted in writes; a group takes jobs until it reaches it, so up to three chunks), large enough that the queue
    /// and task cost per write vanishes.
    /// </summary>
    private const int ManyChunk = 250;

    /// <param name="staged">
    /// Whether the job stages its rows (a new or updated entity with its index rows, history, change record) in the group's
    /// <see cref="SqliteGroupRows"/>, written set-based before the group commits; false when the job reads what it wrote.
    /// </param>
    private static T ApplyWrite<T>(SqliteConnection connection, string entityId, Func<Entity?, EntityWrite<T>> decide, bool staged = false)
    {
        var rows = staged ? SqliteDatabase.State(connection).GroupRows : null;
        // Asked before the read, by a write that turns out to change nothing too: the answer decides whether the stored
        // bytes are kept for the change record, and they can be kept only while the row is read (decide may then change
        // the decoded entity in place). After the first write it is a field read (cached per writer connection).
        var subscribed = HasSubscriptions(connection);
        // The stored document is decoded from its UTF-8 bytes; they are kept (for a change record) only when it may be logged.
        // The decoded instances keep their stored members, which the encode reuses for the instances the write left alone.
        // The history key read with the row spares the staged instances a look-up of the entity's history.
        var (ek, current, decoded, beforeUtf8) = SqliteGroupRows.ReadEntity(connection, entityId, (key, doc) =>
        {
            var (entity, instances) = SqliteEntityForm.DecodeForWrite(doc);
            return (key, entity, instances, subscribed || SqliteEntityForm.NamesExpiresAt(doc) ? doc.ToArray() : null);
        }, out var historyKey);
        // Captured before decide, which may change current in place; the fingerprints are read after it, of what it changed.
        var captured = SqliteIndexRows.CaptureInstances(current);
        var scopesBefore = current?.Scopes?.ToList();

        var write = decide(current);
        var at = DateTimeOffset.UtcNow;
        switch (write.Kind)
        {
            case EntityWriteKind.None:
                return write.Result;
            case EntityWriteKind.Delete:
                if (SqliteDatabase.Cached(connection, "DELETE FROM entities WHERE id = $id RETURNING ek", ("$id", entityId)).ExecuteScalar() is long deleted)
                    SqliteIndexRows.Delete(connection, deleted);
                SqliteIndexRows.UpdateStatistics(connection, captured?.KindsOnly(), null);
                if (subscribed || beforeUtf8 is not null) AppendChange(connection, rows, entityId, "delete", at, BeforeDoc(), null);
                // The history keeps a deletion marker for every attribute the entity had (temporal deletedAt).
                if (current is not null && write.DeletionMarkers)
                {
                    foreach (var marker in ScopeHistory.DeletionMarkers(current, at)) AppendInstance(connection, rows, entityId, historyKey, marker, at);
                }
                return write.Result;
        }

        var after = write.After ?? throw new InvalidOperationException("An upsert needs the entity's new state");
        // Only a decision that replaced what it changed leaves a decoded instance as stored (else it may have edited it).
        var stagesRows = rows is not null && after.Id == entityId;
        // A staged history row stores its instance's members from where the encode wrote them in the document.
        var encoded = stagesRows ? t_encoded ??= new EncodedInstances() : null;
        var afterDoc = SqliteEntityForm.EncodeUtf8(after, write.ReplacesInstances ? decoded : null, encoded);
        SqliteIndexRows.IndexedState? indexedBefore = null, indexedAfter = null;
        if (captured is not null && write.ReplacesInstances)
            (indexedBefore, indexedAfter) = SqliteIndexRows.CaptureAround(captured, after, unchangedUnread: stagesRows);
        else if (captured is not null)
        {
            // The decision may have edited the instances captured before: the fingerprints before are read from the
            // stored document again (this write has not changed it yet).
            indexedBefore = SqliteIndexRows.Capture(SqliteGroupRows.ReadEntity(connection, entityId, static (_, doc) => SqliteEntityForm.Decode(doc)));
        }
        if (stagesRows)
        {
            indexedAfter ??= SqliteIndexRows.Capture(after)!;
            if (indexedBefore is null) rows!.Add(SqliteIndexRows.NewEntityRows(connection, after, afterDoc, indexedAfter));
            else rows!.Add(SqliteIndexRows.UpdatedEntityRows(connection, ek, indexedBefore, after, afterDoc, indexedAfter));
        }
        else indexedAfter = UpsertNow(connection, after, afterDoc, indexedBefore);
        SqliteIndexRows.UpdateStatistics(connection, indexedBefore, indexedAfter);
        foreach (var change in ScopeHistory.Complete(scopesBefore, after, write.Changes))
            AppendInstance(connection, rows, after.Id, after.Id == entityId ? historyKey : null, change, after.ModifiedAt, (afterDoc, encoded));
        encoded?.Clear(); // holds no instance past its write
        if (subscribed || beforeUtf8 is not null || SqliteEntityForm.NamesExpiresAt(afterDoc))
            AppendChange(connection, rows, after.Id, current is null ? "create" : "update", at, BeforeDoc(), Encoding.UTF8.GetString(afterDoc));
        return write.Result;

        string? BeforeDoc() => beforeUtf8 is null ? null : Encoding.UTF8.GetString(beforeUtf8);
    }

    /// <summary>The entity's row and its index rows, written now.</summary>
    private static SqliteIndexRows.IndexedState UpsertNow(SqliteConnection connection, Entity after, byte[] afterDoc, SqliteIndexRows.IndexedState? indexedBefore)
    {
        var ek = (long)SqliteDatabase.Cached(connection, """
                   INSERT INTO entities(id, doc, created_at, modified_at) VALUES($id, $doc, $created, $modified)
                   ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, modified_at = excluded.modified_at
                   RETURNING ek
                   """,
                   ("$id", after.Id), ("$doc", Encoding.UTF8.GetString(afterDoc)), ("$created", Validate.Format(after.CreatedAt)), ("$modified", Validate.Format(after.ModifiedAt)))
            .ExecuteScalar()!;
        return SqliteIndexRows.Update(connection, ek, indexedBefore, after);
    }

    /// <summary>
    /// Whether a write's change record has a reader (see <see cref="ITenantStore.ReadChangesAsync"/>): the notification
    /// matcher while the tenant has a subscription (this), and the expiry reaper for a transient entity (one naming
    /// expiresAt before or after, <see cref="SqliteEntityForm.NamesExpiresAt(string)"/>). Without either, the record and
    /// the matcher's round over it are pure cost. The answer is kept per writer connection and forgotten by every
    /// subscription write (<see cref="SubscriptionsChanged"/>): it is asked inside the write's own transaction, so a
    /// subscription committed before a write is always seen by it.
    /// </summary>
    private static bool HasSubscriptions(SqliteConnection connection)
    {
        var state = SqliteDatabase.State(connection);
        state.HasSubscriptions ??= SqliteDatabase.Cached(connection, "SELECT EXISTS (SELECT 1 FROM subscriptions)").ExecuteScalar() is 1L;
        return state.HasSubscriptions.Value;
    }

    /// <summary>Called by every subscription write, on the writer: the next entity write asks again.</summary>
    private static void SubscriptionsChanged(SqliteConnection connection) => SqliteDatabase.State(connection).HasSubscriptions = null;

    [ThreadStatic] private static EncodedInstances? t_encoded;

    /// <param name="rows">The group's staged rows, where the instance goes when given; else it is inserted now.</param>
    /// <param name="historyKey">The entity's history key as its row held it when the write read it; null: not known.</param>
    /// <param name="document">The entity's stored document and where its encode wrote each instance, when the write stages it.</param>
    private static void AppendInstance(SqliteConnection connection, SqliteGroupRows? rows, string entityId, long? historyKey, AttributeChange change, DateTimeOffset modifiedAt,
        (byte[] Utf8, EncodedInstances? Instances) document = default)
    {
        var observed = ObservedAt(change.Instance);
        var modified = FormatModified(modifiedAt);
        if (rows is not null)
        {
            rows.Add(new SqliteGroupRows.Instance(entityId, historyKey, SqliteNameSchema.Id(connection, change.Attribute), change.DatasetId, SqliteInstanceForm.NewId(),
                change.Kind.ToString(), observed, modified, StagedDocument(change.Instance, document, observed, modified),
                SqliteTemporalSchema.SampleValues(change.Kind == AttributeChangeKind.Deleted ? null : change.Instance)));
            return;
        }
        var stored = SqliteInstanceForm.OfInstance(change.Instance, observed, modified);
        var insert = SqliteDatabase.Cached(connection, """
            INSERT INTO attribute_instances(sk, dataset_id, instance_id, kind, observed_at, modified_at, doc, trimmed, sample_type, sample_num, sample_str, sample_key)
            VALUES($sk, $dataset, $instance, $kind, $observed, $modified, $doc, $trimmed, $t, $n, $s, $k)
            """,
            [("$sk", SqliteHistorySchema.SeriesKey(connection, entityId, change.Attribute)), ("$dataset", change.DatasetId),
            ("$instance", SqliteInstanceForm.NewId()),
            ("$kind", change.Kind.ToString()),
            ("$observed", observed),
            ("$modified", modified),
            ("$doc", stored.Text), ("$trimmed", stored.Trimmed),
            .. SqliteTemporalSchema.SampleParameters(change.Kind == AttributeChangeKind.Deleted ? null : change.Instance)]);
        insert.ExecuteNonQuery();
    }

    /// <summary>
    /// A staged history row's document (<see cref="SqliteGroupRows.Instance"/>): the instance's members where the entity's
    /// encode wrote them (<see cref="SqliteInstanceForm.OfMembers"/>), else the instance written out on its own. Either way
    /// what <see cref="SqliteInstanceForm.OfWhole"/> of its <c>ToJsonString</c> stores.
    /// </summary>
    private static StoredDocument StagedDocument(JsonObject? instance, (byte[] Utf8, EncodedInstances? Instances) document, string? observed, string modified)
    {
        if (instance is null) return default;
        var staged = document.Instances?.Find(instance) is var (start, end, created, modifiedAt)
            ? SqliteInstanceForm.OfMembers(document.Utf8, start, end, created, modifiedAt, observed, modified)
            : null;
        staged ??= SqliteInstanceForm.OfInstance(instance, observed, modified);
#if DEBUG
        // Every test runs the debug build: the row must store what the instance's own text, trimmed, gives.
        var expected = SqliteInstanceForm.OfWhole(Encoding.UTF8.GetBytes(instance.ToJsonString()), observed, modified);
        if (staged.Value.Text != expected.Text || staged.Value.Trimmed != expected.Trimmed)
            throw new InvalidOperationException($"A staged history document differs from its instance's: {staged} for {expected} ({expected.Trimmed})");
#endif
        return staged.Value;
    }

    /// <summary>
    /// An instance's observedAt as stored (the broker's one format), or null. An entity's instances mostly share one, so the
    /// last text read and its stored form are kept: the others are neither parsed again nor formatted.
    /// </summary>
    private static string? ObservedAt(JsonObject? instance)
    {
        if (instance?["observedAt"] is not { } node) return null;
        var last = t_observed;
        // Compared where the request's text is (a string of it is made only when it is not the last one).
        if (last is not null && node is JsonValue value && value.TryGetValue<JsonElement>(out var element)
            && element.ValueKind == JsonValueKind.String && element.ValueEquals(last.Value.Text))
            return last.Value.Stored;
        var text = node.GetValue<string>();
        if (last is not null && text == last.Value.Text) return last.Value.Stored;
        var observed = Validate.TryParseDateTime(text, out var time) ? Validate.Format(time) : null;
        t_observed = (text, observed);
        return observed;
    }

    [ThreadStatic] private static (string Text, string? Stored)? t_observed;

    /// <summary>An instance's modifiedAt as stored: an entity's instances share it, so the last one formatted is kept.</summary>
    private static string FormatModified(DateTimeOffset modifiedAt)
    {
        if (t_modified is { } last && last.At == modifiedAt && last.At.Offset == modifiedAt.Offset) return last.Text;
        var text = Validate.Format(modifiedAt);
        t_modified = (modifiedAt, text);
        return text;
    }

    [ThreadStatic] private static (DateTimeOffset At, string Text)? t_modified;

    private static void AppendChange(SqliteConnection connection, SqliteGroupRows? rows, string entityId, string operation, DateTimeOffset at, string? beforeDoc, string? afterDoc)
    {
        if (rows is not null)
        {
            rows.Add(new SqliteGroupRows.Change(entityId, operation, Validate.Format(at), beforeDoc, afterDoc));
            return;
        }
        var insert = SqliteDatabase.Cached(connection,
            "INSERT INTO change_log(entity_id, operation, at, before_doc, after_doc) VALUES($id, $op, $at, $before, $after)",
            ("$id", entityId), ("$op", operation), ("$at", Validate.Format(at)), ("$before", beforeDoc), ("$after", afterDoc));
        insert.ExecuteNonQuery();
    }

    public async Task<IReadOnlyList<AttributeInstanceRecord>> ReadHistoryAsync(string entityId, string? attribute, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var command = SqliteDatabase.Command(pooled.Connection, $"""
            SELECT h.id, n.iri, {InstanceColumns}
            FROM history_entities h JOIN temporal_series s ON s.hk = h.hk JOIN names n ON n.nid = s.attr JOIN attribute_instances i ON i.sk = s.sk
            WHERE h.id = $id AND ($attr IS NULL OR n.iri = $attr) ORDER BY i.seq
            """, ("$id", entityId), ("$attr", attribute));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<AttributeInstanceRecord>();
        while (await reader.ReadAsync(cancellationToken)) records.Add(ReadInstance(reader));
        return records;
    }

    /// <summary>The columns <see cref="ReadInstance"/> reads after the entity id and attribute (alias i).</summary>
    private const string InstanceColumns = "i.dataset_id, i.instance_id, i.kind, i.observed_at, i.modified_at, i.doc, i.trimmed";

    /// <summary>An instance row (entity id, attribute IRI, then <see cref="InstanceColumns"/>) in the form the API knows.</summary>
    private static AttributeInstanceRecord ReadInstance(SqliteDataReader reader)
    {
        var observed = reader.IsDBNull(5) ? null : reader.GetString(5);
        var modified = reader.GetString(6);
        return new AttributeInstanceRecord(
            reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), SqliteInstanceForm.Text(reader.GetValue(3)),
            Enum.Parse<AttributeChangeKind>(reader.GetString(4)),
            observed is null ? null : ParseTime(observed), ParseTime(modified),
            SqliteInstanceForm.Restore(reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetInt32(8), observed, modified));
    }

    public async Task<IReadOnlyList<ChangeRecord>> ReadChangesAsync(long afterSequence, int max, CancellationToken cancellationToken)
    {
        await using var pooled = await RentReaderAsync(cancellationToken);
        await using var reader = await pooled.Command(
            "SELECT seq, entity_id, operation, at, before_doc, after_doc FROM change_log WHERE seq > $after ORDER BY seq LIMIT $max",
            ("$after", afterSequence), ("$max", max)).ExecuteReaderAsync(cancellationToken);
        var records = new List<ChangeRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new ChangeRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), ParseTime(reader.GetString(3)),
                SqliteEntityForm.Json(reader.IsDBNull(4) ? null : reader.GetString(4)), SqliteEntityForm.Json(reader.IsDBNull(5) ? null : reader.GetString(5))));
        }
        return records;
    }

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// A pooled reader, for every read of the tenant's file: its prepared statements serve the hot reads (entity look-ups
    /// and queries); the others run one-off commands on its connection. All count against the pool's cap.
    /// </summary>
    private Task<SqliteReader> RentReaderAsync(CancellationToken cancellationToken)
    {
        Touch();
        return _readers.RentAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _readers.Dispose();
        return _writer.DisposeAsync();
    }
}
