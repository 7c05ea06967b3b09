using System.Globalization;
using System.Reflection;

namespace Kontext.Bench;

/// <summary>Command-line options; every phase is bounded in count, the whole run in time.</summary>
internal sealed record BenchOptions
{
    public int Entities { get; init; } = 100_000;
    public int BatchSize { get; init; } = 1_000;
    public int UpsertClients { get; init; } = 2;
    public int GetRequests { get; init; } = 20_000;
    public int GetClients { get; init; } = 4;
    public int QueryRequests { get; init; } = 200;
    public int GeoRequests { get; init; } = 200;
    public int DirectConcurrentGroups { get; init; } = 2;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(20);
    public string? BrokerDll { get; init; }
    public string? Output { get; init; }
    public bool Keep { get; init; }
    public bool SkipDirect { get; init; }

    /// <summary>Phase groups to run: entities (the 100k load/query part), notifications, temporal; empty = all.</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>();
    public int NotifyUpdates { get; init; } = 1_000;
    public int FanoutSubscriptions { get; init; } = 100;
    public int FanoutWrites { get; init; } = 100;
    public int Sensors { get; init; } = 100;
    public int TemporalClients { get; init; } = 2;
    public int TemporalRequests { get; init; } = 50;
    public int DeliveryEntities { get; init; } = 10_000;
    public int DeliverySubscriptions { get; init; } = 5;
    public int MixedSeconds { get; init; } = 30;
    public int MixedClients { get; init; } = 8;
    public int SideRounds { get; init; } = 3;
    public int SideSeconds { get; init; } = 4;
    public int SideClients { get; init; } = 16;
    /// <summary>After the load, new readings of every entity through batch upsert and batch update (writes of existing entities).</summary>
    public bool SideRewrite { get; init; }
    /// <summary>The load (and rewrites) only, none of the interleaved works.</summary>
    public bool SideLoadOnly { get; init; }
    /// <summary>
    /// Another Kontext build in the bare app's place: both builds loaded alike and measured in the same interleaved
    /// slices, so a before/after comparison sees one machine weather (single runs on a shared machine drift by more
    /// than a 10 % change).
    /// </summary>
    public string? SideAgainst { get; init; }
    /// <summary>Names a side-by-side run (e.g. before/after), so its section does not replace another's.</summary>
    public string? Label { get; init; }

    public static readonly string[] Groups = ["entities", "notifications", "temporal", "side", "federation", "delivery"];

    // The side-by-side and federation groups run only when asked for: each starts its own processes and takes minutes.
    public bool Runs(string group) => Only.Count == 0 ? group is not ("side" or "federation" or "delivery") : Only.Contains(group);

    public static string Metadata(string key) =>
        typeof(BenchOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value ?? "";

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture) is var v && v > 0 ? v : throw new ArgumentException($"{args[i]} must be positive");
            options = args[i] switch
            {
                "--entities" => options with { Entities = Int() },
                "--batch-size" => options with { BatchSize = Int() },
                "--upsert-clients" => options with { UpsertClients = Int() },
                "--get-requests" => options with { GetRequests = Int() },
                "--get-clients" => options with { GetClients = Int() },
                "--query-requests" => options with { QueryRequests = Int() },
                "--geo-requests" => options with { GeoRequests = Int() },
                "--timeout-minutes" => options with { Timeout = TimeSpan.FromMinutes(Int()) },
                "--broker" => options with { BrokerDll = Path.GetFullPath(Next()) },
                "--out" => options with { Output = Path.GetFullPath(Next()) },
                "--keep" => options with { Keep = true },
                "--skip-direct" => options with { SkipDirect = true },
                "--only" => options with { Only = ParseGroups(Next()) },
                "--notify-updates" => options with { NotifyUpdates = Int() },
                "--fanout-subscriptions" => options with { FanoutSubscriptions = Int() },
                "--fanout-writes" => options with { FanoutWrites = Int() },
                "--sensors" => options with { Sensors = Int() },
                "--temporal-clients" => options with { TemporalClients = Int() },
                "--temporal-requests" => options with { TemporalRequests = Int() },
                "--delivery-entities" => options with { DeliveryEntities = Int() },
                "--delivery-subscriptions" => options with { DeliverySubscriptions = Int() },
                "--mixed-seconds" => options with { MixedSeconds = Int() },
                "--mixed-clients" => options with { MixedClients = Int() },
                "--side-rounds" => options with { SideRounds = Int() },
                "--side-seconds" => options with { SideSeconds = Int() },
                "--side-clients" => options with { SideClients = Int() },
                "--side-rewrite" => options with { SideRewrite = true },
                "--side-load-only" => options with { SideLoadOnly = true },
                "--side-against" => options with { SideAgainst = Path.GetFullPath(Next()) },
                "--label" => options with { Label = Next() },
                "-h" or "--help" => throw new HelpRequested(),
                var other => throw new ArgumentException($"Unknown option {other}"),
            };
        }
        if (options.BatchSize > 1000) throw new ArgumentException("--batch-size is capped by the broker's MaxBatchSize (1000)");
        return options;
    }

    private static HashSet<string> ParseGroups(string value)
    {
        var groups = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(g => g.ToLowerInvariant()).ToHashSet();
        foreach (var group in groups)
            if (!Groups.Contains(group)) throw new ArgumentException($"--only: unknown group '{group}' (one or more of {string.Join(", ", Groups)}, comma-separated)");
        return groups;
    }

    public const string Usage = """
        Kontext.Bench — load benchmark of the broker (HTTP, separate process) against the embedded store (in-process).
          dotnet run -c Release --project bench/Kontext.Bench -- [options]
            --entities N          entities to seed (default 100000)
            --batch-size N        entities per upsert batch (default 1000, at most 1000)
            --upsert-clients N    concurrent upsert clients (default 2)
            --get-requests N      GET /entities/{id} requests (default 20000), over --get-clients (default 4)
            --query-requests N    type+q queries (default 200);  --geo-requests N  near queries (default 200)
            --timeout-minutes N   hard bound of the whole run (default 20)
            --broker PATH         Kontext.Broker.dll to start (default: the Release build next to this project)
            --out PATH            results file (default bench/RESULTS.md)
            --skip-direct         no in-process baseline;  --keep  keep the temp directory
            --only G[,G]          run only these phase groups: entities, notifications, temporal, side, federation (default: the first three);
                                  each group replaces only its own section of the results file
          notifications (issue 4):
            --notify-updates N    sequential PATCHes for the notification latency (default 1000)
            --fanout-subscriptions N / --fanout-writes N   fan-out: subscriptions on one type × entity creates (default 100 × 100)
          temporal (issue 5):
            --sensors N           sensors with one year of 15-minute readings each (default 100 = 3.5 M instances)
            --temporal-clients N  concurrent seeding clients (default 2)
            --temporal-requests N measured requests per temporal query (default 50)
          side (issue 12; not in the default run): Kontext and bench/Kontext.Bench.Baseline at once, interleaved
            --side-rounds N / --side-seconds N   rounds per work and seconds per app per round (default 3 × 4)
            --side-clients N      concurrent clients for GET and PATCH (default 16)
            --side-rewrite        after the load, new readings of every entity through batch upsert, then batch update
            --side-load-only      the load (and --side-rewrite) only, not the interleaved works
            --side-against DLL    another Kontext build instead of the bare app (before/after in the same slices)
            --label TEXT          names the run (before/after): its section replaces only a section of the same label
          delivery (issue 12 item 4; not in the default run): drain of a full outbox, mixed-load backlog
            --delivery-entities N / --delivery-subscriptions N   creates per drain (default 10000) × subscriptions (default 5)
            --mixed-seconds N / --mixed-clients N   mixed load duration (default 30) and PATCH clients (default 8)
            --label TEXT          names the run (before/after)
          federation (issue 13; not in the default run): a region broker over two municipal brokers
            --query-requests N    rounds per work (at least 50)
        """;
}

internal sealed class HelpRequested : Exception;
