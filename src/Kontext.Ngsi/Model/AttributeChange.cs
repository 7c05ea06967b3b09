using System.Text.Json.Nodes;

namespace Kontext.Ngsi.Model;

/// <summary>What one write did to one attribute instance; the store appends it to the history (D4).</summary>
public sealed record AttributeChange(string Attribute, string? DatasetId, AttributeChangeKind Kind, JsonObject? Instance);

public enum AttributeChangeKind { Created, Updated, Deleted }

/// <summary>The outcome of an append or update: which attributes were written and which were not, and why.</summary>
public sealed record UpdateResult(List<string> Updated, List<NotUpdatedDetail> NotUpdated)
{
    public UpdateResult() : this([], []) { }
    public bool IsComplete => NotUpdated.Count == 0;
}

public sealed record NotUpdatedDetail(string AttributeName, string Reason);
