using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MetaNotebooks.Cli.Bench;

/// <summary>
/// What a time means. Wall: elapsed time (what a user waits; the default). Cpu: CPU time of the whole process (all its
/// threads), on our side and, through a clock swap, the peer's: far less sensitive to other processes on a busy
/// machine, but with several threads it measures total work (spinning OpenMP workers included), not latency.
/// </summary>
public enum BenchClock { Wall, Cpu }

/// <summary>
/// In-process timing: warm-up (long enough for tiered JIT to reach its optimised code), then samples of a fixed
/// number of iterations each; every sample's mean time per iteration is kept, and the report uses their median and
/// MAD (robust to a stray GC or a neighbour's burst on a shared 2-core machine).
/// </summary>
public static partial class Harness
{
    /// <summary>The clock of the current run (set by the runner from --clock before each RunOurs).</summary>
    public static BenchClock Clock { get; set; } = BenchClock.Wall;

    /// <summary>How long and how often to time.</summary>
    /// <param name="WarmupIterations">At least this many warm-up iterations…</param>
    /// <param name="WarmupTime">…and at least this long (tier-1 JIT needs ~100 ms of calls plus background compile).</param>
    /// <param name="Samples">Number of timed samples.</param>
    /// <param name="SampleTime">Target duration of a sample: iterations per sample are calibrated to reach it.</param>
    /// <param name="IterationsPerSample">Fixed iterations per sample (0: calibrate from SampleTime).</param>
    public sealed record Plan(int WarmupIterations, TimeSpan WarmupTime, int Samples, TimeSpan SampleTime, long IterationsPerSample = 0);

    /// <summary>Per-call plans for microsecond work: ~0.5 s warm-up, 15 samples of 50 ms (quick: 0.1 s, 3 × 10 ms).</summary>
    public static Plan Micro(BenchSettings s) => s.Quick
        ? new Plan(100, TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(10))
        : new Plan(10_000, TimeSpan.FromMilliseconds(500), 15, TimeSpan.FromMilliseconds(50));

    /// <summary>Plans for long iterations (an episode): like a peer script, a few warm-up iterations then one iteration per sample.</summary>
    public static Plan Macro(int warmup, int samples) => new(warmup, TimeSpan.Zero, samples, TimeSpan.Zero, 1);

    /// <summary>Times `iteration` and returns seconds per iteration, one value per sample.</summary>
    public static Measurement Run(Action iteration, Plan plan, string? note = null)
    {
        var clock = Stopwatch.StartNew();
        long warm = 0;
        while (warm < plan.WarmupIterations || clock.Elapsed < plan.WarmupTime)
        {
            iteration();
            warm++;
        }

        var perSample = plan.IterationsPerSample > 0 ? plan.IterationsPerSample : Calibrate(iteration, plan.SampleTime);
        // Start every measurement from a clean heap, so one benchmark's garbage is not collected in another's samples.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        var samples = new double[plan.Samples];
        for (var s = 0; s < samples.Length; s++)
        {
            var start = Now();
            for (long i = 0; i < perSample; i++) iteration();
            samples[s] = (Now() - start) / perSample;
        }
        return new Measurement(samples, perSample, note);
    }

    /// <summary>Iterations whose run takes about `target` (at least 1).</summary>
    private static long Calibrate(Action iteration, TimeSpan target)
    {
        long n = 1;
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            for (long i = 0; i < n; i++) iteration();
            var t = Stopwatch.GetElapsedTime(start);
            if (t >= target / 4 || n >= 1L << 30)
                return Math.Max(1, (long)Math.Ceiling(n * target.TotalSeconds / Math.Max(t.TotalSeconds, 1e-9)));
            n *= 4;
        }
    }

    /// <summary>Seconds on the current clock (an arbitrary origin).</summary>
    public static double Now() => Clock == BenchClock.Cpu ? ProcessCpuSeconds() : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>CPU time of this process, all threads (clock_gettime CLOCK_PROCESS_CPUTIME_ID, nanosecond resolution).</summary>
    public static double ProcessCpuSeconds()
    {
        if (ClockGetTime(2, out var ts) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec ts);
}
