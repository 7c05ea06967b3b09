namespace Kontext.Ngsi.ContextSources;

/// <summary>
/// The operations a context source can offer (clause 4.20, the "operations" member of clause 5.2.9) and the operation
/// groups that name several at once. A registration without "operations" offers <see cref="FederationOps"/>.
/// </summary>
public static class RegistrationOperations
{
    public const string FederationOps = "federationOps";
    public const string UpdateOps = "updateOps";
    public const string RetrieveOps = "retrieveOps";
    public const string RedirectionOps = "redirectionOps";

    public const string CreateEntity = "createEntity";
    public const string UpdateEntity = "updateEntity";
    public const string AppendAttrs = "appendAttrs";
    public const string UpdateAttrs = "updateAttrs";
    public const string DeleteAttrs = "deleteAttrs";
    public const string DeleteEntity = "deleteEntity";
    public const string MergeEntity = "mergeEntity";
    public const string ReplaceEntity = "replaceEntity";
    public const string ReplaceAttrs = "replaceAttrs";
    public const string PurgeEntity = "purgeEntity";
    public const string CreateBatch = "createBatch";
    public const string UpsertBatch = "upsertBatch";
    public const string UpdateBatch = "updateBatch";
    public const string DeleteBatch = "deleteBatch";
    public const string MergeBatch = "mergeBatch";
    public const string RetrieveEntity = "retrieveEntity";
    public const string QueryEntity = "queryEntity";
    public const string QueryBatch = "queryBatch";
    public const string RetrieveTemporal = "retrieveTemporal";
    public const string QueryTemporal = "queryTemporal";
    public const string UpsertTemporal = "upsertTemporal";
    public const string AppendAttrsTemporal = "appendAttrsTemporal";
    public const string DeleteAttrsTemporal = "deleteAttrsTemporal";
    public const string UpdateAttrInstanceTemporal = "updateAttrInstanceTemporal";
    public const string DeleteAttrInstanceTemporal = "deleteAttrInstanceTemporal";
    public const string DeleteTemporal = "deleteTemporal";

    private static readonly string[] TypeDiscovery =
    [
        "retrieveEntityTypes", "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo",
    ];

    private static readonly string[] SubscriptionOps =
        ["createSubscription", "updateSubscription", "retrieveSubscription", "querySubscription", "deleteSubscription"];

    /// <summary>Each group and the operations it stands for.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> Groups = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal)
    {
        [FederationOps] = Set([RetrieveEntity, QueryEntity, QueryBatch, RetrieveTemporal, QueryTemporal, .. TypeDiscovery, .. SubscriptionOps]),
        [UpdateOps] = Set([UpdateEntity, UpdateAttrs, ReplaceEntity, ReplaceAttrs]),
        [RetrieveOps] = Set([RetrieveEntity, QueryEntity]),
        [RedirectionOps] = Set([
            CreateEntity, UpdateEntity, AppendAttrs, UpdateAttrs, DeleteAttrs, DeleteEntity, MergeEntity, ReplaceEntity, ReplaceAttrs, PurgeEntity,
            CreateBatch, UpsertBatch, UpdateBatch, DeleteBatch, MergeBatch,
            RetrieveEntity, QueryEntity, RetrieveTemporal, QueryTemporal, .. TypeDiscovery]),
    };

    /// <summary>Every single operation name.</summary>
    public static readonly IReadOnlySet<string> Names = Set([
        CreateEntity, UpdateEntity, AppendAttrs, UpdateAttrs, DeleteAttrs, DeleteEntity, MergeEntity, ReplaceEntity, ReplaceAttrs, PurgeEntity,
        CreateBatch, UpsertBatch, UpdateBatch, DeleteBatch, MergeBatch,
        UpsertTemporal, AppendAttrsTemporal, DeleteAttrsTemporal, UpdateAttrInstanceTemporal, DeleteAttrInstanceTemporal, DeleteTemporal,
        RetrieveEntity, QueryEntity, QueryBatch, RetrieveTemporal, QueryTemporal, .. TypeDiscovery, .. SubscriptionOps,
    ]);

    /// <summary>What an auxiliary registration may offer (clause 5.9.2: retrieval only).</summary>
    public static readonly IReadOnlySet<string> AuxiliaryAllowed = Set([RetrieveOps, RetrieveEntity, QueryEntity]);

    public static bool IsKnown(string name) => Names.Contains(name) || Groups.ContainsKey(name);

    /// <summary>The operations a registration offers when it names none.</summary>
    public static IReadOnlyList<string> Default(RegistrationMode mode) => mode == RegistrationMode.Auxiliary ? [RetrieveOps] : [FederationOps];

    /// <summary>True when <paramref name="offered"/> names <paramref name="operation"/> itself or a group holding it.</summary>
    public static bool Covers(IEnumerable<string> offered, string operation) =>
        offered.Any(o => o == operation || (Groups.TryGetValue(o, out var members) && members.Contains(operation)));

    private static HashSet<string> Set(IEnumerable<string> names) => new(names, StringComparer.Ordinal);
}
