using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>What one write did to one attribute instance; the store appends it to the history (D4).</summary>
public sealed record AttributeChange(string Attribute, string? DatasetId, AttributeChangeKind Kind, JsonObject? Instance)
{
    /// <summary>
    /// The removal of <paramref name="instance"/>. The history keeps its attribute type (and datasetId) so the temporal
    /// representation can show the deletion in the form of that type: a Relationship's null is an object, a
    /// LanguageProperty's a languageMap (clause 5.2.1).
    /// </summary>
    public static AttributeChange Deletion(string attribute, JsonObject instance)
    {
        var datasetId = Attr.DatasetId(instance);
        var marker = new JsonObject { ["type"] = Attr.Type(instance) };
        if (datasetId is not null) marker["datasetId"] = datasetId;
        return new AttributeChange(attribute, datasetId, AttributeChangeKind.Deleted, marker);
    }
}

public enum AttributeChangeKind { Created, Updated, Deleted }

/// <summary>The outcome of an append or update: which attributes were written and which were not, and why.</summary>
public sealed record UpdateResult(List<string> Updated, List<NotUpdatedDetail> NotUpdated)
{
    public UpdateResult() : this([], []) { }
    public bool IsComplete => NotUpdated.Count == 0;
}

public sealed record NotUpdatedDetail(string AttributeName, string Reason);
