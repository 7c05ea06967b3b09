using Kontext.Ngsi.Model;
using Kontext.Ngsi.Query;

namespace Kontext.Ngsi.Storage;

/// <summary>
/// A page request over an entity query. <see cref="AnyOfAttributes"/> (the attrs parameter) keeps only entities
/// that have at least one of these attributes. Results come in a stable order (creation order), so consecutive
/// offsets never repeat or skip an entity that was not deleted in between.
/// </summary>
public sealed record EntityPageRequest(EntityQuery Query, int Offset, int Limit, bool Count, IReadOnlySet<string>? AnyOfAttributes = null);

/// <summary>One page of matching entities; <see cref="TotalCount"/> is set when the request asked for a count.</summary>
public sealed record EntityPage(IReadOnlyList<Entity> Entities, long? TotalCount);

/// <summary>The same page as views over the stored documents (<see cref="IStoredEntityReader.QueryStoredAsync"/>).</summary>
public sealed record StoredEntityPage(IReadOnlyList<StoredEntity> Entities, long? TotalCount);

/// <summary>How many entities of a type have an attribute, and which attribute types (Property, ...) it takes there.</summary>
public sealed record TypeAttributeStatistic(string Type, string Attribute, IReadOnlySet<string> AttributeKinds, long EntityCount);

/// <summary>How many entities there are of a type.</summary>
public sealed record TypeStatistic(string Type, long EntityCount);
