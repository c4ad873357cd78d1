using Add.Engine.Backends;

namespace Add.Tests.Engine;

/// <summary>The activation arena: one block per stack, views that are live together never overlap, views that never are
/// share memory, and a repeated sequence of takes allocates nothing.</summary>
public sealed class ArenaTests
{
    /// <summary>A UNet-like sequence (many small nested takes) then a decoder-like one (a few large takes), each released
    /// back to the request's bottom view, as a generation does.</summary>
    private static void Generation(Arena a, int scale)
    {
        a.Reset();
        var latent = a.Take(1000);
        for (int step = 0; step < 2; step++)
        {
            int unet = a.Mark();
            for (int i = 0; i < 20; i++) a.Take(100 * scale + i);
            a.Release(unet);
        }
        int decoder = a.Mark();
        a.Take(3000 * scale); a.Take(3000 * scale); a.Take(1500 * scale);
        a.Release(decoder);
        Assert.Equal(1000, latent.Length);
        a.Reset();
    }

    [Fact]
    public void NeverLiveTogetherShareTheBlockAndARepeatAllocatesNothing()
    {
        using var a = new Arena(new CpuBackend());
        Generation(a, scale: 1);
        // Unet's stack: 1000 + Σ(100 + i) rounded to 16 floats; the decoder's: 1008 + 3008 + 3008 + 1504 = 8528. The block
        // holds the higher one, not the sum (positional slots held 1000 + Σ max(100 + i, decoder's take at i) = 10,387).
        long unetHigh = 1008 + Enumerable.Range(0, 20).Sum(i => (100 + i + 15) / 16 * 16);
        Assert.True(unetHigh < 8528);
        Assert.Equal(8528, a.Capacity);
        int allocations = a.Allocations;
        Generation(a, scale: 1);
        Generation(a, scale: 1);
        Assert.Equal(allocations, a.Allocations);
        Assert.Equal(8528, a.Capacity);
        // A larger request: takes beyond the block get buffers of their own, then one block of the new high water.
        Generation(a, scale: 2);
        Assert.Equal(1008 + 6000 + 6000 + 3008, a.Capacity);
        int grown = a.Allocations;
        Generation(a, scale: 2);
        Generation(a, scale: 1);
        Assert.Equal(grown, a.Allocations);
    }

    [Fact]
    public void ViewsLiveTogetherDoNotOverlapAndReleasedOnesAreReused()
    {
        var backend = new CpuBackend();
        using var a = new Arena(backend);
        Generation(a, scale: 1);     // the block exists from here on
        a.Reset();
        var views = new[] { a.Take(37), a.Take(1), a.Take(0), a.Take(500), a.Take(17) };
        for (int i = 0; i < views.Length; i++)
            backend.Upload(Enumerable.Repeat((float)i, (int)views[i].Length).ToArray(), views[i]);
        for (int i = 0; i < views.Length; i++)
        {
            var back = new float[views[i].Length];
            backend.Download(views[i], back);
            Assert.All(back, v => Assert.Equal(i, v));      // no later take wrote over an earlier live one
        }
        a.Release(3);
        var again = a.Take(500);
        Assert.Equal((views[3].Buffer, views[3].Offset), (again.Buffer, again.Offset));   // the same memory at the same depth
        a.Reset();
    }

    [Fact]
    public void ReleasingAboveTheTopIsRefused()
    {
        using var a = new Arena(new CpuBackend());
        a.Take(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Release(2));
    }

    /// <summary>With headroom the block is that much above the high water, so a request standing a little higher (a
    /// larger batch) is served from it: no buffer of its own on top, no new block.</summary>
    [Fact]
    public void HeadroomServesASlightlyHigherRequestFromTheBlock()
    {
        using var exact = new Arena(new CpuBackend());
        using var roomy = new Arena(new CpuBackend(), headroom: 0.125);
        Generation(exact, scale: 1);
        Generation(roomy, scale: 1);
        Assert.Equal(8528, exact.Capacity);
        Assert.Equal((8528 + 1066 + 15) / 16 * 16, roomy.Capacity);     // 8528 + ⌊8528/8⌋, rounded to 16 floats
        int exactAllocations = exact.Allocations, roomyAllocations = roomy.Allocations;
        void Higher(Arena a)
        {
            a.Reset();
            a.Take(1000);
            a.Take(500);                                 // the decoder's takes start 512 floats higher
            a.Take(3000); a.Take(3000); a.Take(1500);   // 9040 in all: above the high water, inside the headroom
            a.Reset();
        }
        Higher(exact);
        Higher(roomy);
        Assert.True(exact.Allocations > exactAllocations);     // a take past the exact block got its own buffer, then a new block
        Assert.Equal(roomyAllocations, roomy.Allocations);
        Assert.Equal((8528 + 1066 + 15) / 16 * 16, roomy.Capacity);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Arena(new CpuBackend(), headroom: -0.5));
    }
}
