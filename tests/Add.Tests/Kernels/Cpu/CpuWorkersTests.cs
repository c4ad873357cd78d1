using Add.Kernels.Cpu;

namespace Add.Tests.Kernels.Cpu;

/// <summary>The CPU kernels' fork-join: every item once, slots in range, errors surfaced, concurrent callers served.</summary>
[Trait("Category", "Kernels")]
public sealed class CpuWorkersTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(37)]
    public void RunsEveryItemExactlyOnceOnASlotBelowThreads(int count)
    {
        for (int round = 0; round < 50; round++)     // back to back, as ops are: the worker is caught spinning and asleep
        {
            var hits = new int[count];
            int badSlot = 0;
            CpuWorkers.For(count, i =>
            {
                Interlocked.Increment(ref hits[i]);
                if (CpuWorkers.Slot < 0 || CpuWorkers.Slot >= CpuSimd.Threads)
                    Interlocked.Increment(ref badSlot);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            Assert.Equal(0, badSlot);
            if (round == 25)
                Thread.Sleep(5);                     // let the worker block, then wake it
        }
    }

    [Fact]
    public void AnItemsExceptionReachesTheCallerAfterTheOtherItems()
    {
        int ran = 0;
        var error = Assert.Throws<InvalidOperationException>(() => CpuWorkers.For(8, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 3)
                throw new InvalidOperationException("item 3");
        }));
        Assert.Equal("item 3", error.Message);
        Assert.Equal(8, ran);
        // The workers are still usable.
        int after = 0;
        CpuWorkers.For(4, _ => Interlocked.Increment(ref after));
        Assert.Equal(4, after);
    }

    /// <summary>The same when the call runs inline: here from inside an item of another call, as it does whenever the
    /// workers are busy (a test running alongside took them; this test's sibling above failed that way, 4 of 8).</summary>
    [Fact]
    public void AnItemsExceptionInlineAlsoComesAfterTheOtherItems()
    {
        int ran = 0;
        Exception? seen = null;
        CpuWorkers.For(2, outer =>
        {
            if (outer != 0) return;
            seen = Record.Exception(() => CpuWorkers.For(8, i =>
            {
                Interlocked.Increment(ref ran);
                if (i == 3)
                    throw new InvalidOperationException("item 3");
            }));
        });
        Assert.Equal("item 3", Assert.IsType<InvalidOperationException>(seen).Message);
        Assert.Equal(8, ran);
    }

    [Fact]
    public void ConcurrentAndNestedCallersAllFinish()
    {
        const int callers = 4, items = 16;
        var totals = new int[callers];
        Parallel.For(0, callers, c =>
        {
            for (int round = 0; round < 20; round++)
                CpuWorkers.For(items, i =>
                {
                    // A call from inside an item runs inline on that thread.
                    CpuWorkers.For(2, _ => Interlocked.Increment(ref totals[c]));
                });
        });
        Assert.All(totals, t => Assert.Equal(20 * items * 2, t));
    }
}
