namespace Kontext.Ngsi.JsonLd;

/// <summary>
/// A least-recently-used cache capped by entry count and by total weight (bytes, as estimated by the caller). An entry
/// heavier than the whole budget is not kept. Thread-safe; one lock, because entries are few and operations short.
/// </summary>
public sealed class BoundedCache<TValue>(int maxEntries, long maxWeight)
{
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _order = new(); // most recently used first
    private readonly Lock _lock = new();
    private long _weight;

    private sealed record Entry(string Key, TValue Value, long Weight);

    public int Count { get { lock (_lock) return _entries.Count; } }

    public long Weight { get { lock (_lock) return _weight; } }

    public bool TryGet(string key, out TValue value)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }
        value = default!;
        return false;
    }

    public void Set(string key, TValue value, long weight)
    {
        lock (_lock)
        {
            if (_entries.Remove(key, out var old)) Drop(old);
            if (weight > maxWeight || maxEntries <= 0) return;
            while (_order.Count > 0 && (_entries.Count >= maxEntries || _weight + weight > maxWeight))
            {
                var last = _order.Last!;
                _entries.Remove(last.Value.Key);
                Drop(last);
            }
            _entries[key] = _order.AddFirst(new Entry(key, value, weight));
            _weight += weight;
        }
    }

    public void Remove(string key)
    {
        lock (_lock)
            if (_entries.Remove(key, out var node)) Drop(node);
    }

    public void Clear()
    {
        lock (_lock)
        {
            _entries.Clear();
            _order.Clear();
            _weight = 0;
        }
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _weight -= node.Value.Weight;
    }
}
