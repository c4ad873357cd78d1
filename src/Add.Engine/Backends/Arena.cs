namespace Add.Engine.Backends;

/// <summary>
/// Stack allocator for activations. Model code takes buffers in a fixed order and releases them in stack order
/// (<see cref="Mark"/> / <see cref="Release"/>); each slot keeps its buffer between calls, so once a request shape has run
/// the same sequence of takes is served from the slots already there: no allocation per step or per generation.
/// A slot grows (reallocates) only when a larger request needs it.
/// </summary>
public sealed class Arena(Backend backend) : IDisposable
{
    private readonly List<DeviceBuffer> _slots = [];
    private int _top;

    /// <summary>Buffers created since construction (a test asserts it stays flat after the first generation).</summary>
    public int Allocations { get; private set; }

    /// <summary>Floats held in all slots.</summary>
    public long Capacity => _slots.Sum(s => s.Length);

    /// <summary>A view of <paramref name="length"/> floats, valid until the arena is released below this point.</summary>
    public TensorView Take(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (_top == _slots.Count)
        {
            _slots.Add(backend.Allocate(Math.Max(length, 1)));
            Allocations++;
        }
        else if (_slots[_top].Length < length)
        {
            _slots[_top].Dispose();
            _slots[_top] = backend.Allocate(length);
            Allocations++;
        }
        return _slots[_top++].View.Slice(0, length);
    }

    /// <summary>The current stack height, to <see cref="Release"/> back to.</summary>
    public int Mark() => _top;

    /// <summary>Returns every view taken since <paramref name="mark"/>.</summary>
    public void Release(int mark)
    {
        if (mark < 0 || mark > _top) throw new ArgumentOutOfRangeException(nameof(mark), mark, $"mark above the stack top {_top}");
        _top = mark;
    }

    /// <summary>Releases everything (start of a new generation).</summary>
    public void Reset() => _top = 0;

    public void Dispose()
    {
        foreach (var s in _slots) s.Dispose();
        _slots.Clear();
        _top = 0;
    }
}
