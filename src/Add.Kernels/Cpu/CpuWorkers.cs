using System.Diagnostics;

namespace Add.Kernels.Cpu;

/// <summary>
/// The CPU kernels' fork-join: <c>For(workers, body)</c> runs body(0) on the calling thread and body(1 .. workers−1) on
/// dedicated threads, and returns when all are done. It replaces <c>Parallel.For</c> on the inference path because a
/// generation is a few hundred ops of 5-500 µs each: waking a thread-pool thread costs 5-20 µs per op, which was a
/// third of a small linear's time. Like OpenMP's active wait policy (libtorch's threads), a worker spins for
/// <see cref="SpinMicroseconds"/> after each job, so the next op finds it awake, and only then blocks on an event.
/// <para>One job at a time: a second thread that calls <see cref="For"/> while a job runs (parallel tests, two
/// pipelines) gets <c>Parallel.For</c> instead of waiting. An exception in any worker is rethrown on the caller
/// after all workers finish.</para>
/// </summary>
public static class CpuWorkers
{
    /// <summary>How long an idle worker keeps spinning before it blocks (the gap between two ops is a few µs).</summary>
    public const int SpinMicroseconds = 200;

    private static readonly object Gate = new();
    private static Worker[]? pool;

    /// <summary>Runs body(t) for t in [0, workers), t = 0 on this thread; workers is clamped to [1, <see cref="CpuSimd.Threads"/>].</summary>
    public static void For(int workers, Action<int> body)
    {
        workers = Math.Clamp(workers, 1, CpuSimd.Threads);
        if (workers == 1)
        {
            body(0);
            return;
        }
        if (!Monitor.TryEnter(Gate))
        {
            Parallel.For(0, workers, body);
            return;
        }
        try
        {
            var workersNow = pool ??= Start();
            for (int t = 1; t < workers; t++)
                workersNow[t - 1].Post(body, t);
            Exception? error = null;
            try { body(0); }
            catch (Exception e) { error = e; }
            for (int t = 1; t < workers; t++)
                error ??= workersNow[t - 1].Join();
            if (error is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    private static Worker[] Start()
    {
        var workers = new Worker[CpuSimd.Threads - 1];
        for (int i = 0; i < workers.Length; i++)
            workers[i] = new Worker(i + 1);
        return workers;
    }

    /// <summary>One dedicated thread: waits (spinning, then blocked) for a posted job, runs it, signals done.</summary>
    private sealed class Worker
    {
        private readonly ManualResetEventSlim wake = new(false);
        private Action<int>? job;
        private int index;
        private Exception? error;
        private volatile int posted;     // jobs posted so far
        private volatile int finished;   // jobs finished so far
        private int sleeping;

        public Worker(int id)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Add CPU worker {id}" };
            thread.Start();
        }

        public void Post(Action<int> body, int t)
        {
            job = body;
            index = t;
            error = null;
            Interlocked.Increment(ref posted);                 // full fence: job and index are visible first
            if (Volatile.Read(ref sleeping) != 0)
                wake.Set();
        }

        /// <summary>Waits for the posted job; returns its exception, if any.</summary>
        public Exception? Join()
        {
            var spin = new SpinWait();
            while (finished != posted)
                spin.SpinOnce(sleep1Threshold: -1);
            return error;
        }

        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                long budget = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
                while (posted == seen)
                {
                    if (Stopwatch.GetTimestamp() - start < budget)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    Interlocked.Exchange(ref sleeping, 1);     // full fence before re-reading posted (pairs with Post)
                    if (posted == seen)
                        wake.Wait();
                    wake.Reset();
                    Interlocked.Exchange(ref sleeping, 0);
                    start = Stopwatch.GetTimestamp();
                }
                seen = posted;
                try { job!(index); }
                catch (Exception e) { error = e; }
                job = null;
                finished = seen;
            }
        }
    }
}
