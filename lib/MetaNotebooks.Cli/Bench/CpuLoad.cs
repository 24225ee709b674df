using System.Diagnostics;
using System.Globalization;

namespace MetaNotebooks.Cli.Bench;

/// <summary>
/// How much of the machine other processes used while we measured: from /proc/stat (all CPUs) minus this process and
/// its reaped children (/proc/self/stat utime+stime+cutime+cstime, so a peer script run by us counts as ours). On a
/// shared 2-core machine this is the number that says whether a time can be trusted.
/// </summary>
public static class CpuLoad
{
    public readonly record struct Snapshot(long Busy, long Total, long Own, DateTime At);

    /// <summary>Null where /proc is not readable.</summary>
    public static Snapshot? Take()
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long F(int i) => i < cpu.Length ? long.Parse(cpu[i], CultureInfo.InvariantCulture) : 0;
            // cpu user nice system idle iowait irq softirq steal …
            var busy = F(1) + F(2) + F(3) + F(6) + F(7) + F(8);
            var total = busy + F(4) + F(5);
            var self = File.ReadAllText("/proc/self/stat");
            var fields = self[(self.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17 → indices 11..14
            var own = Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
            return new Snapshot(busy, total, own, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Share (0–1) of all CPU time between the snapshots used by other processes; NaN when unknown.</summary>
    public static double OthersShare(Snapshot? from, Snapshot? to)
    {
        if (from is not { } a || to is not { } b) return double.NaN;
        var total = b.Total - a.Total;
        if (total <= 0) return double.NaN;
        var others = (b.Busy - a.Busy) - (b.Own - a.Own);
        return Math.Clamp((double)others / total, 0, 1);
    }

    /// <summary>Others' share over the next `window`, with this process idle.</summary>
    public static double Sample(TimeSpan window)
    {
        var a = Take();
        Thread.Sleep(window);
        return OthersShare(a, Take());
    }

    /// <summary>
    /// Waits until other processes use less than `threshold` of the machine over one second, or until `limit` has
    /// passed. Returns the last share seen.
    /// </summary>
    public static double WaitForIdle(TimeSpan limit, double threshold, TextWriter progress)
    {
        var clock = Stopwatch.StartNew();
        var share = Sample(TimeSpan.FromSeconds(1));
        var said = false;
        while (!(share < threshold) && clock.Elapsed < limit && !double.IsNaN(share))
        {
            if (!said) progress.WriteLine($"[bench] waiting for the machine to quieten (other processes use {share:P0} of it; up to {limit.TotalSeconds:0} s)");
            said = true;
            share = Sample(TimeSpan.FromSeconds(1));
        }
        if (said) progress.WriteLine($"[bench] {(share < threshold ? "quiet" : "still busy")} after {clock.Elapsed.TotalSeconds:0} s (others {share:P0})");
        return share;
    }
}
