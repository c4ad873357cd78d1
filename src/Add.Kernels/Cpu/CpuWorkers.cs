using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Add.Kernels.Cpu;

/// <summary>
/// The CPU kernels' fork-join: <c>For(count, body)</c> runs body(0 .. count−1) on the calling thread and on dedicated
/// worker threads, and returns when all are done. It replaces <c>Parallel.For</c> on the inference path because a
/// generation is a few hundred ops of 5-500 µs each: waking a thread-pool thread costs 5-20 µs per op, a third of a
/// small linear's time. Like OpenMP's active wait policy (libtorch's threads), a worker spins for
/// <see cref="SpinMicroseconds"/> after each job, so the next op finds it awake, and only then blocks.
/// <para>Items are claimed one at a time from a shared counter, caller included, so a worker that the OS has not
/// scheduled (another process spinning on the other core, as libtorch's OpenMP threads do for milliseconds after each
/// op) costs nothing: the caller takes its items. A call made while another job runs (parallel tests, two pipelines
/// on two threads, or from inside a body), or while several <see cref="Caller"/>s (concurrent generations) are open,
/// runs its items inline on its own thread. An exception in any item is
/// rethrown on the caller once every item has finished.</para>
/// <para><see cref="Slot"/> says which thread runs the current item (0 = the caller, 1 .. Threads−1 = the workers),
/// so an item can use that thread's share of a workspace.</para>
/// </summary>
public static class CpuWorkers
{
    /// <summary>How long an idle worker keeps spinning before it blocks (the gap between two ops is a few µs).</summary>
    public const int SpinMicroseconds = 200;

    private static int busy;            // 1 while a job uses the workers
    private static int callers;         // open Caller scopes: concurrent generations
    private static Worker[]? pool;

    [ThreadStatic]
    private static int t_slot;

    /// <summary>0 on the calling thread, 1 .. <see cref="CpuSimd.Threads"/>−1 on the workers: always below Threads.</summary>
    public static int Slot => t_slot;

    /// <summary>Runs body(i) for every i in [0, count), spread over the calling thread and the workers. An item that
    /// throws does not stop the others: every item runs, then the first exception reaches the caller, whether the items
    /// ran on the workers or inline (the workers busy with another caller's call, or several generations open).</summary>
    public static void For(int count, Action<int> body)
    {
        if (count <= 0)
            return;
        if (count == 1 || CpuSimd.Threads == 1 || Volatile.Read(ref callers) > 1 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            Exception? error = null;
            for (int i = 0; i < count; i++)
            {
                try { body(i); }
                catch (Exception e) { error ??= e; }
            }
            if (error is not null)
                ExceptionDispatchInfo.Throw(error);
            return;
        }
        try
        {
            var job = new Job(body, count);
            var workers = pool ??= Start();
            for (int w = 0; w < Math.Min(count - 1, workers.Length); w++)
                workers[w].Post(job);
            job.Claim();
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Done) < count)
                spin.SpinOnce(sleep1Threshold: -1);
            if (job.Error is not null)
                ExceptionDispatchInfo.Throw(job.Error);
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    /// <summary>Declares a caller (a generation) that may run at the same time as others, until disposed. While more
    /// than one is open, every <see cref="For"/> runs inline on its caller's thread: the callers already keep the cores
    /// busy, and a caller spinning for a worker that the OS has descheduled (to run another caller) would wait a
    /// whole time slice per op. Results do not change: no kernel's per-output order depends on how its items are split.</summary>
    public static CallerScope Caller()
    {
        Interlocked.Increment(ref callers);
        return new CallerScope();
    }

    /// <summary>An open <see cref="Caller"/> declaration.</summary>
    public readonly struct CallerScope : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref callers);
    }

    private static Worker[] Start()
    {
        var workers = new Worker[CpuSimd.Threads - 1];
        for (int i = 0; i < workers.Length; i++)
            workers[i] = new Worker(i + 1);
        return workers;
    }

    /// <summary>One call's items: claimed through <see cref="Next"/>, counted in <see cref="Done"/>. A new object per call,
    /// so a worker that wakes late finds its job's counter exhausted instead of claiming from the next job.</summary>
    private sealed class Job(Action<int> body, int count)
    {
        private int _next;
        public int Done;
        public Exception? Error;

        public void Claim()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                Interlocked.Increment(ref Done);
            }
        }
    }

    /// <summary>One dedicated thread: waits (spinning, then blocked) for a posted job and claims its items.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
        Justification = "A worker and its background thread live as long as the process; the event is never released early, so there is nothing to dispose.")]
    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false);
        private Job? _job;
        private int _posted;      // jobs posted so far
        private int _sleeping;

        public Worker(int slot)
        {
            var thread = new Thread(() => Loop(slot)) { IsBackground = true, Name = $"Add CPU worker {slot}" };
            thread.Start();
        }

        public void Post(Job job)
        {
            Volatile.Write(ref _job, job);
            Interlocked.Increment(ref _posted);                // full fence: the job is visible first
            if (Volatile.Read(ref _sleeping) != 0)
                _wake.Set();
        }

        private void Loop(int slot)
        {
            t_slot = slot;
            int seen = 0;
            long budget = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _posted) == seen)
                {
                    if (Stopwatch.GetTimestamp() - start < budget)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    Interlocked.Exchange(ref _sleeping, 1);    // full fence before re-reading _posted (pairs with Post)
                    if (Volatile.Read(ref _posted) == seen)
                        _wake.Wait();
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 0);
                    start = Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref _posted);
                Volatile.Read(ref _job)!.Claim();
            }
        }
    }
}
