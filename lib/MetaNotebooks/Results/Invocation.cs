using System.Globalization;

namespace MetaNotebooks.Results;

/// <summary>
/// One invocation of the command that made a result, or part of it: a budget-stopped run resumed from its checkpoint is
/// made by several. What a reader needs to repeat or weigh it: the command, the code's commit, when it ran and for how
/// long, on how many threads, and how far it brought each model. Fields left null are unknown (records backfilled from
/// git history say so in <see cref="Note"/>; a run killed without a chance to record its end has no <see cref="Finished"/>).
/// </summary>
public sealed record Invocation
{
    public required string Command { get; init; }
    /// <summary>git describe of the code that ran ("+dirty" for uncommitted changes outside papers/); null when not recorded.</summary>
    public string? Commit { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Finished { get; init; }
    public double? WallSeconds { get; init; }
    public int? Threads { get; init; }
    /// <summary>Processes that ran it together (`mn launch --nproc N`); null: one.</summary>
    public int? WorldSize { get; init; }
    public string? Machine { get; init; }
    /// <summary>How far each model had got when the invocation ended: "iterations" → 2178, "1shot.iterations" → 9926 (see <see cref="ResultGuard.Progress"/>).</summary>
    public IReadOnlyDictionary<string, long>? Progress { get; init; }
    /// <summary>How it ended: <see cref="Outcomes"/>.</summary>
    public string? Outcome { get; init; }
    /// <summary>Where a backfilled record comes from, and what it leaves unknown.</summary>
    public string? Note { get; init; }

    /// <summary>The values of <see cref="Outcome"/>.</summary>
    public static class Outcomes
    {
        /// <summary>Written when the invocation starts: if it is still there later, the process was killed before it could record its end.</summary>
        public const string Running = "running";
        /// <summary>Ended with a result (published or kept in scratch).</summary>
        public const string Result = "result";
        /// <summary>Stopped (Ctrl-C, a signal, an error) before writing a result; its checkpoint carries the work forward.</summary>
        public const string Stopped = "stopped before a result";
    }

    /// <summary>The commit as a reader should see it: "unknown (run before commits were recorded)" when there is none.</summary>
    public static string CommitText(string? commit) => string.IsNullOrEmpty(commit) ? "unknown (run before commits were recorded)" : commit;

    /// <summary>"2,178 iterations" or "1shot 9,926, 5shot 4,000 iterations"; null when unknown.</summary>
    public string? ProgressText()
    {
        if (Progress is not { Count: > 0 } p) return null;
        var unit = p.Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]).Distinct().ToList();
        string Value(string key, long n) => string.Create(CultureInfo.InvariantCulture, $"{(key.Contains('.') ? key[..key.LastIndexOf('.')] + " " : "")}{n:N0}");
        return unit.Count == 1
            ? $"{string.Join(", ", p.Select(kv => Value(kv.Key, kv.Value)))} {unit[0]}"
            : string.Join(", ", p.Select(kv => Value(kv.Key, kv.Value) + " " + kv.Key[(kv.Key.LastIndexOf('.') + 1)..]));
    }

    /// <summary>One line: the command, commit, end, wall time, threads and progress (unknown parts said so).</summary>
    public string Describe()
    {
        var parts = new List<string> { $"`{Command}`", $"commit {CommitText(Commit)}" };
        if (Finished is { } f) parts.Add(string.Create(CultureInfo.InvariantCulture, $"finished {f.UtcDateTime:yyyy-MM-dd HH:mm} UTC"));
        else if (Outcome == Outcomes.Running) parts.Add("no record of its end (killed?)");
        parts.Add(WallSeconds is { } w ? $"wall time {Duration(w)}" : "wall time not recorded");
        if (Threads is { } t) parts.Add($"{t} thread(s)");
        if (ProgressText() is { } p) parts.Add($"reached {p}");
        if (Outcome == Outcomes.Stopped) parts.Add("stopped before writing a result");
        return string.Join(", ", parts) + (Note is null ? "" : $" ({Note})");
    }

    /// <summary>h:mm:ss, hours past 24 included.</summary>
    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");
    }
}
