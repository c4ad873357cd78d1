namespace Add.Engine.Backends;

/// <summary>
/// Stack allocator for activations. Model code takes buffers in a fixed order and releases them in stack order
/// (<see cref="Mark"/> / <see cref="Release"/>). Each stack is one block of device memory holding the views at
/// consecutive offsets (each rounded up to 64 bytes), so activations that are never live together share memory: the UNet's
/// and the VAE decoder's take the same offsets in turn, and the block is as large as the highest the stack ever stood,
/// not the sum of every position's largest view (SD-Turbo at 512²: 0.94 GB instead of 1.66). A take beyond the block gets
/// a buffer of its own, freed when it is released (so a first generation holds only what is live); when the stack is
/// released to the bottom (<see cref="Reset"/>, the end of a generation) a block of the high-water size replaces a
/// smaller one, so once a request shape has run, the same sequence of takes is served from the block: no allocation per
/// step or per generation. With a <c>headroom</c> (the pipeline passes <see cref="Backend.ArenaHeadroom"/>: 1/8 on the CPU) that
/// block is that much larger than the high water, so a slightly higher request (a larger batch: SD-Turbo's batch 4 stands
/// 36 MB above batch 1 in the UNet and 11 MB in the decoder) is still served from it instead of putting a buffer of its own
/// (268 MB for the decoder's last take) on top of the block.
/// <para>Concurrency: the stacks live in <see cref="Slots"/> sets. A generation binds its own set to its thread
/// (<see cref="Bind"/>, from the pipeline's pool), and every Take, Mark, Release and Reset on that thread goes to it, so
/// concurrent generations on one pipeline never share an activation. Without a binding (a single-threaded caller:
/// tests, validation) the arena's own default stack is used; that use is not thread-safe.</para>
/// </summary>
/// <param name="backend">where the blocks live</param>
/// <param name="headroom">how much larger than the high water a block is made, as a fraction of it (0: exactly the high water)</param>
public sealed class Arena(Backend backend, double headroom = 0) : IDisposable
{
    /// <summary>The stack a thread has bound, and the binding it replaced (a generation started from a callback of another).</summary>
    private sealed record Binding(Arena Owner, Slots Slots, Binding? Outer);

    [ThreadStatic]
    private static Binding? t_binding;

    private readonly Backend _backend = backend;
    private readonly double _headroom = headroom >= 0 && headroom <= 1 ? headroom
        : throw new ArgumentOutOfRangeException(nameof(headroom), headroom, "an arena's headroom is a fraction of its high water, from 0 to 1");
    private readonly Slots _default = new(backend, headroom);
    private readonly List<Slots> _stacks = [];     // every set made by CreateSlots, for Capacity and Dispose

    /// <summary>One stack: a block and its top, the activations of one generation at a time.</summary>
    public sealed class Slots
    {
        private const int Align = 16;                       // floats: views start 64 bytes apart at least
        /// <summary>The largest block (2^30 floats, 4 GB; a host buffer's span holds at most Array.MaxLength floats); in a
        /// higher stack the takes beyond the block get buffers of their own every time.</summary>
        internal const long MaxBlockFloats = 1L << 30;

        private readonly Backend _backend;
        private readonly double _headroom;
        private DeviceBuffer? _block;                        // the stack's floats [0, _block.Length)
        private readonly List<long> _starts = [];            // per stack position: where its view starts
        private readonly List<DeviceBuffer?> _own = [];      // per stack position: its own buffer, when it lay beyond the block
        private long _used, _highWater;                      // floats up to the top; the most ever
        private int _top;

        internal Slots(Backend backend, double headroom) => (_backend, _headroom) = (backend, headroom);

        /// <summary>Buffers created in this stack.</summary>
        public int Allocations { get; private set; }

        /// <summary>Floats held in this stack: its block and the buffers of takes beyond it.</summary>
        public long Capacity { get { lock (_own) return (_block?.Length ?? 0) + _own.Sum(o => o?.Length ?? 0); } }

        /// <summary>Floats of the block, then of each position's own buffer (diagnostics: where an arena's capacity goes).</summary>
        public long[] SlotLengths { get { lock (_own) return [_block?.Length ?? 0, .. _own.Where(o => o is not null).Select(o => o!.Length)]; } }

        internal TensorView Take(long length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length);
            lock (_own)     // uncontended (one generation per stack): it only orders Capacity's reads from other threads
            {
                long start = _used, end = start + length;
                if (_top == _starts.Count) { _starts.Add(start); _own.Add(null); }
                else _starts[_top] = start;
                TensorView view;
                if (_block is not null && end <= _block.Length)
                    view = _block.View.Slice(start, length);
                else
                {
                    // Position _top's own buffer, if it had one, was freed when it was released.
                    var own = _own[_top] = _backend.Allocate(Math.Max(length, 1));
                    Allocations++;
                    view = own.View.Slice(0, length);
                }
                _top++;
                _used = (end + Align - 1) / Align * Align;
                _highWater = Math.Max(_highWater, _used);
                return view;
            }
        }

        internal int Top => _top;

        /// <summary>The block's floats above the top, when <paramref name="length"/> of them are free: scratch for the one
        /// op running now (no take happens inside an op), so its workspace costs no memory of its own.</summary>
        internal TensorView? Spare(long length)
        {
            lock (_own)
                return _block is not null && _used + length <= _block.Length ? _block.View.Slice(_used, length) : null;
        }

        internal void Release(int mark)
        {
            if (mark < 0 || mark > _top) throw new ArgumentOutOfRangeException(nameof(mark), mark, $"mark above the stack top {_top}");
            lock (_own)
            {
                _top = mark;
                _used = mark < _starts.Count ? _starts[mark] : _used;
                for (int i = mark; i < _own.Count; i++)     // a take beyond the block frees its buffer as it is released
                {
                    _own[i]?.Dispose();
                    _own[i] = null;
                }
                if (mark == 0) Consolidate();
            }
        }

        /// <summary>At the bottom of the stack (every own buffer already freed by the release): one block of the
        /// high-water size (plus the headroom) replaces one the high water did not fit in.</summary>
        private void Consolidate()
        {
            if (Math.Min(_highWater, MaxBlockFloats) <= (_block?.Length ?? 0)) return;
            long want = Math.Min((_highWater + (long)(_highWater * _headroom) + Align - 1) / Align * Align, MaxBlockFloats);
            _block?.Dispose();
            _block = null;
            _block = _backend.Allocate(want);
            Allocations++;
        }

        private void FreeOwn()
        {
            for (int i = 0; i < _own.Count; i++)
            {
                _own[i]?.Dispose();
                _own[i] = null;
            }
        }

        internal void Dispose()
        {
            lock (_own)
            {
                _block?.Dispose();
                _block = null;
                FreeOwn();
                _starts.Clear();
                _own.Clear();
                _top = 0;
                _used = 0;
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
        var s = new Slots(_backend, _headroom);
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

    /// <summary>Scratch for the op <paramref name="backend"/> is running on this thread: the free floats above the top of the
    /// stack this thread has bound to an arena of that backend (a generation's), or null (no binding, or too little room).
    /// A generation's block is sized by its highest point (the VAE decoder's, at 512²), so the UNet's large conv
    /// workspaces (Winograd's, up to 0.13 GB) fit above its top and add nothing to the process's peak.</summary>
    internal static TensorView? BoundSpare(Backend backend, long length)
    {
        for (var b = t_binding; b is not null; b = b.Outer)
            if (ReferenceEquals(b.Owner._backend, backend))
                return b.Slots.Spare(length);
        return null;
    }

    private IEnumerable<Slots> All()
    {
        lock (_stacks) return [_default, .. _stacks];
    }

    /// <summary>Buffers created since construction, over all stacks (a test asserts it stays flat after the first generation).</summary>
    public int Allocations => All().Sum(s => s.Allocations);

    /// <summary>Per stack (the default one first): the floats of its block, then of each take beyond it, for diagnostics.</summary>
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
