using System.Diagnostics;

namespace MetaNotebooks.Training;

/// <summary>
/// A one-line progress bar on stderr: done/total, rate, ETA and a status (e.g. the loss). On a terminal it redraws in
/// place a few times a second; otherwise (CI, logs) it prints a line every 10%, and at least once a minute (a run cut
/// short by a time budget may never reach its next 10%). In a notebook (<see cref="NotebookDisplay"/> set by the notebook
/// engine) it is one output redrawn in place, as on a terminal.
/// </summary>
public sealed class ProgressBar
{
    private readonly string label;
    private readonly long total;
    private readonly long start;
    private readonly Func<TimeSpan> elapsed;
    private readonly TextWriter? log;
    private readonly bool interactive;
    private readonly Func<Action<string>>? openDisplay;
    private Action<string>? display;

    /// <summary>
    /// Set by a notebook front end (the kernel, the headless runner): opens an output that can be redrawn and returns
    /// the function that redraws it, so that a bar is one line updated in place instead of a line per redraw.
    /// </summary>
    public static Func<Action<string>>? NotebookDisplay { get; set; }
    private TimeSpan? lastDraw;
    private int lastDecile = -1;

    public ProgressBar(string label, long total, long start = 0) : this(label, total, start, log: null, elapsed: null) { }

    /// <summary>With a log: plain lines into it (as when stderr is redirected), timed by `elapsed` (tests give a fake clock).</summary>
    public ProgressBar(string label, long total, long start, TextWriter? log, Func<TimeSpan>? elapsed)
    {
        (this.label, this.total, this.start, this.log) = (label, Math.Max(1, total), start, log);
        openDisplay = log is null ? NotebookDisplay : null;
        interactive = openDisplay is not null || (log is null && !Console.IsErrorRedirected);
        var clock = Stopwatch.StartNew();
        this.elapsed = elapsed ?? (() => clock.Elapsed);
    }

    public void Report(long done, string status = "")
    {
        if (done >= total && !finishing) return; // Finish draws the last line once
        var now = elapsed();
        var decile = (int)(10 * done / total);
        var sinceLast = lastDraw is { } last ? now - last : TimeSpan.MaxValue;
        if (done < total && (interactive ? sinceLast < TimeSpan.FromMilliseconds(200) : decile == lastDecile && sinceLast < TimeSpan.FromMinutes(1))) return;
        lastDraw = now;
        lastDecile = decile;
        var rate = (done - start) / Math.Max(1e-9, now.TotalSeconds);
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
        var filled = (int)(24 * done / total);
        var line = $"{label} [{new string('#', filled)}{new string('.', 24 - filled)}] {done:N0}/{total:N0} {100.0 * done / total:0}% {rate:0.0} it/s ETA {eta:h\\:mm\\:ss} {status}";
        if (openDisplay is not null) (display ??= openDisplay())(line);
        else if (interactive) Console.Error.Write("\r" + line.PadRight(Math.Min(Console.BufferWidth > 0 ? Console.BufferWidth - 1 : 120, 160)));
        else (log ?? Console.Error).WriteLine(line);
    }

    private bool finishing;

    public void Finish(string status = "")
    {
        finishing = true;
        lastDraw = null;
        lastDecile = -1;
        Report(total, status);
        if (interactive && openDisplay is null) Console.Error.WriteLine();
    }
}
