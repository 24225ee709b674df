using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MetaNotebooks.Notebooks;

/// <summary>
/// Where a request's time goes, phase by phase, for finding what makes the kernel slow (not a benchmark: `mn bench kernel`
/// is). Off unless the environment variable MN_TRACE_PHASES is "1"; then every mark costs a timestamp and the kernel logs
/// one line per request ("execute_request 12.3 ms: parsed +0.1, shell +0.2, …", each + the time since the previous mark).
/// One request is traced at a time (the kernel handles shell requests one by one); marks from other threads land in it.
/// </summary>
public static class PhaseTrace
{
    public const string Variable = "MN_TRACE_PHASES";

    public static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) == "1";

    private static readonly List<(string Phase, long Ticks)> Marks = [];
    private static TimeSpan startCpu;

    /// <summary>Starts a new trace (dropping an unfinished one) at <paramref name="ticks"/> (a Stopwatch timestamp).</summary>
    public static void Start(long ticks)
    {
        if (!Enabled) return;
        lock (Marks)
        {
            Marks.Clear();
            Marks.Add(("start", ticks));
            startCpu = Environment.CpuUsage.TotalTime;
        }
    }

    public static void Mark(string phase)
    {
        if (!Enabled) return;
        var now = Stopwatch.GetTimestamp();
        lock (Marks) if (Marks.Count > 0) Marks.Add((phase, now));
    }

    /// <summary>The trace so far as one line, and a new start; null when tracing is off or nothing was started.</summary>
    public static string? Finish(string what)
    {
        if (!Enabled) return null;
        lock (Marks)
        {
            if (Marks.Count == 0) return null;
            // The process's CPU time too: on a loaded machine the wall time mostly measures waiting for a core.
            var cpu = (Environment.CpuUsage.TotalTime - startCpu).TotalMilliseconds;
            var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{what} {Ms(Marks[0].Ticks, Marks[^1].Ticks):F2} ms (cpu {cpu:F2} ms):");
            for (var i = 1; i < Marks.Count; i++) line.Append(CultureInfo.InvariantCulture, $" {Marks[i].Phase} +{Ms(Marks[i - 1].Ticks, Marks[i].Ticks):F2}");
            Marks.Clear();
            return line.ToString();
        }
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
