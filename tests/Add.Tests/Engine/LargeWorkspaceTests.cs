using Add.Engine.Backends;
using Add.Kernels;
using Add.Kernels.Cpu;
using Add.Tests.Kernels;

namespace Add.Tests.Engine;

/// <summary>The CPU backend's workspaces over <see cref="CpuBackend.LargeWorkspaceFloats"/> (Winograd convs on many
/// channels, blocked attention's packed K, V on many heads): taken from the free part of a bound arena block, else from a
/// buffer freed after the op; never kept as the backend's scratch. Either way the op gives the kernel's bytes and leaves
/// the arena's live views alone.</summary>
public sealed class LargeWorkspaceTests
{
    private static readonly Conv2dShape Shape = new(1, 256, 32, 32, 256, 3, 3, 1, 1, hasBias: true);

    [Fact]
    public void ALargeConvWorkspaceComesFromTheArenaOrATransientBuffer()
    {
        var s = Shape;
        Assert.True(Conv2dCpu.WorkspaceFloats(s) > CpuBackend.LargeWorkspaceFloats);
        var random = new Random(21);
        var x = Numerics.Uniform(random, 256 * 32 * 32);
        var w = Numerics.Uniform(random, 256 * s.ReductionLength);
        var b = Numerics.Uniform(random, 256);
        int outLength = 256 * 32 * 32;
        var expected = new float[outLength];
        Conv2dCpu.Forward(x, w, b, [], expected, s, new float[Conv2dCpu.WorkspaceFloats(s)], packed: PackedWeight.ForConv(w, 256, s.ReductionLength));

        using var backend = new CpuBackend();
        var xv = backend.Constant(x);
        var wv = backend.GemmWeight(w, 256, s.ReductionLength, conv: true);
        var bv = backend.Constant(b);

        // Unbound: a transient buffer.
        using (var y = backend.Allocate(outLength))
        {
            backend.Conv2d(xv.View, wv.View, bv.View, default, y.View, s);
            var got = new float[outLength];
            backend.Download(y.View, got);
            Assert.Equal(expected, got);
        }

        // Bound to a stack whose block has room above its top: the spare floats, below which a live view keeps its values.
        using var arena = new Arena(backend);
        var stack = arena.CreateSlots();
        using (arena.Bind(stack))
        {
            arena.Take(outLength + 2 * Conv2dCpu.WorkspaceFloats(s));
            arena.Reset();                                       // the block is now that high
            int allocations = arena.Allocations;
            var live = arena.Take(outLength);
            var pattern = Enumerable.Range(0, outLength).Select(i => (float)i).ToArray();
            backend.Upload(pattern, live);
            var y = arena.Take(outLength);
            backend.Conv2d(xv.View, wv.View, bv.View, default, y, s);
            var got = new float[outLength];
            backend.Download(y, got);
            Assert.Equal(expected, got);
            var after = new float[outLength];
            backend.Download(live, after);
            Assert.Equal(pattern, after);
            Assert.Equal(allocations, arena.Allocations);
            // The conv's scratch was the block above y (fresh blocks are zeros): the transformed weights are there now.
            var above = new float[CpuBackend.LargeWorkspaceFloats];
            backend.Download(arena.Take(above.Length), above);
            Assert.Contains(above, v => v != 0f);
            arena.Reset();
        }
        Assert.Equal(0, backend.WorkspaceGrowths);             // neither way grew the kept scratch
    }

    [Fact]
    public void BlockedAttentionPacksKAndVInTheArenaOrATransientBuffer()
    {
        const int heads = 10, length = 1024, dim = 64, floats = heads * length * dim;
        Assert.True(AttentionCpu.WorkspaceFloats(1, heads, length, length, dim) > CpuBackend.LargeWorkspaceFloats);
        var random = new Random(22);
        var (q, k, v) = (Numerics.Uniform(random, floats), Numerics.Uniform(random, floats), Numerics.Uniform(random, floats));
        var expected = new float[floats];
        AttentionCpu.Forward(q, k, v, expected, 1, heads, length, length, dim);   // K, V packed in a pooled array
        var strides = AttentionStrides.HeadsMajor(heads, length, dim);

        using var backend = new CpuBackend();
        var (qv, kv, vv) = (backend.Constant(q), backend.Constant(k), backend.Constant(v));
        float[] Run(TensorView o)
        {
            backend.Attention(qv.View, kv.View, vv.View, o, 1, heads, length, length, dim, strides, strides, strides, strides, causal: false);
            var got = new float[floats];
            backend.Download(o, got);
            return got;
        }
        using (var o = backend.Allocate(floats))
            Assert.Equal(expected, Run(o.View));                // unbound: a transient buffer

        using var arena = new Arena(backend);
        using (arena.Bind(arena.CreateSlots()))
        {
            arena.Take(floats + AttentionCpu.WorkspaceFloats(1, heads, length, length, dim));
            arena.Reset();
            int allocations = arena.Allocations;
            var o = arena.Take(floats);
            Assert.Equal(expected, Run(o));
            Assert.Equal(allocations, arena.Allocations);
            var above = new float[CpuBackend.LargeWorkspaceFloats];
            backend.Download(arena.Take(above.Length), above);
            Assert.Contains(above, x => x != 0f);              // the packed K was written above o
            arena.Reset();
        }
        Assert.Equal(0, backend.WorkspaceGrowths);
    }
}
