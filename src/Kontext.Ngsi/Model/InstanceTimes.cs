namespace Kontext.Ngsi.Model;

/// <summary>
/// The times an attribute instance's time code names, where a stored form keeps an instance's trailing createdAt and
/// modifiedAt as a code (the SQLite store's compact form): 0 is the entity's createdAt and 1 its modifiedAt, formatted as
/// the core stamps attributes (<see cref="Validate.Format"/>), 2 on the times the document lists, in its order. Both
/// readers of a stored document ask it: the decode to an <see cref="Entity"/> and the <see cref="StoredEntity"/> view.
/// </summary>
public sealed class InstanceTimes(DateTimeOffset createdAt, DateTimeOffset modifiedAt, IReadOnlyList<string>? listed)
{
    /// <summary>The code of the first listed time: the codes before it name the entity's own times.</summary>
    private const int FirstListed = 2;

    // Formatted when first named, once: most instances of an entity carry one of these two.
    private string? _createdAt, _modifiedAt;

    public string this[int code] => code switch
    {
        0 => _createdAt ??= Validate.Format(createdAt),
        1 => _modifiedAt ??= Validate.Format(modifiedAt),
        _ => listed![code - FirstListed],
    };
}
