namespace Add.Engine.Backends;

/// <summary>
/// Stack allocator for activations. Model code takes buffers in a fixed order and releases them in stack order
/// (<see cref="Mark"/> / <see cref="Release"/>); each slot keeps its buffer between calls, so once a request shape has run
/// the same sequence of takes is served from the slots already there: no allocation per step or per generation.
/// A slot grows (reallocates) only when a larger request needs it.
/// <para>Concurrency: the slots live in <see cref="Slots"/> sets. A generation binds its own set to its thread
/// (<see cref="Bind"/>, from the pipeline's pool), and every Take, Mark, Release and Reset on that thread goes to it, so
/// concurrent generations on one pipeline never share an activation. Without a binding (a single-threaded caller:
/// tests, validation) the arena's own default stack is used; that use is not thread-safe.</para>
/// </summary>
public sealed class Arena(Backend backend) : IDisposable
{
    /// <summary>The stack a thread has bound, and the binding it replaced (a generation started from a callback of another).</summary>
    private sealed record Binding(Arena Owner, Slots Slots, Binding? Outer);

    [ThreadStatic]
    private static Binding? t_binding;

    private readonly Slots _default = new(backend);
    private readonly List<Slots> _stacks = [];     // every set made by CreateSlots, for Capacity and Dispose

    /// <summary>One set of slots and its stack top: the activations of one generation at a time.</summary>
    public sealed class Slots
    {
        private readonly Backend _backend;
        private readonly List<DeviceBuffer> _slots = [];
        private int _top;

        internal Slots(Backend backend) => _backend = backend;

        /// <summary>Buffers created in this stack.</summary>
        public int Allocations { get; private set; }

        /// <summary>Floats held in this stack's slots.</summary>
        public long Capacity { get { lock (_slots) return _slots.Sum(s => s.Length); } }

        /// <summary>Floats held by each slot, bottom of the stack first (diagnostics: where an arena's capacity goes).</summary>
        public long[] SlotLengths { get { lock (_slots) return _slots.Select(s => s.Length).ToArray(); } }

        internal TensorView Take(long length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            lock (_slots)     // uncontended (one generation per stack): it only orders Capacity's reads from other threads
            {
                if (_top == _slots.Count)
                {
                    _slots.Add(_backend.Allocate(Math.Max(length, 1)));
                    Allocations++;
                }
                else if (_slots[_top].Length < length)
                {
                    _slots[_top].Dispose();
                    _slots[_top] = _backend.Allocate(length);
                    Allocations++;
                }
                return _slots[_top++].View.Slice(0, length);
            }
        }

        internal int Top => _top;

        internal void Release(int mark)
        {
            if (mark < 0 || mark > _top) throw new ArgumentOutOfRangeException(nameof(mark), mark, $"mark above the stack top {_top}");
            _top = mark;
        }

        internal void Dispose()
        {
            lock (_slots)
            {
                foreach (var s in _slots) s.Dispose();
                _slots.Clear();
                _top = 0;
            }
        }
    }

    /// <summary>The stack this thread's takes go to: its bound stack of this arena, else the default one.</summary>
    private Slots Current
    {
        get
        {
            for (var b = t_binding; b is not null; b = b.Outer)
                if (ReferenceEquals(b.Owner, this)) return b.Slots;
            return _default;
        }
    }

    /// <summary>A new stack of this arena (a pool entry of the pipeline), counted in <see cref="Capacity"/>.</summary>
    public Slots CreateSlots()
    {
        var s = new Slots(backend);
        lock (_stacks) _stacks.Add(s);
        return s;
    }

    /// <summary>Sends this thread's takes to <paramref name="stack"/> until the returned scope is disposed (on this thread).</summary>
    public IDisposable Bind(Slots stack)
    {
        var binding = new Binding(this, stack, t_binding);
        t_binding = binding;
        return new Unbind(binding);
    }

    private sealed class Unbind(Binding binding) : IDisposable
    {
        public void Dispose()
        {
            if (ReferenceEquals(t_binding, binding)) t_binding = binding.Outer;
        }
    }

    private IEnumerable<Slots> All()
    {
        lock (_stacks) return [_default, .. _stacks];
    }

    /// <summary>Buffers created since construction, over all stacks (a test asserts it stays flat after the first generation).</summary>
    public int Allocations => All().Sum(s => s.Allocations);

    /// <summary>Floats held by each slot of each stack (the default stack first), for diagnostics.</summary>
    public IReadOnlyList<long[]> SlotLengths => All().Select(s => s.SlotLengths).ToList();

    /// <summary>Floats held in all slots of all stacks.</summary>
    public long Capacity => All().Sum(s => s.Capacity);

    /// <summary>A view of <paramref name="length"/> floats, valid until the arena is released below this point.</summary>
    public TensorView Take(long length) => Current.Take(length);

    /// <summary>The current stack height, to <see cref="Release"/> back to.</summary>
    public int Mark() => Current.Top;

    /// <summary>Returns every view taken since <paramref name="mark"/>.</summary>
    public void Release(int mark) => Current.Release(mark);

    /// <summary>Releases everything (start of a new generation).</summary>
    public void Reset() => Current.Release(0);

    public void Dispose()
    {
        foreach (var s in All()) s.Dispose();
    }
}
