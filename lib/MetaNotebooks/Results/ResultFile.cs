using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MetaNotebooks.Results;

/// <summary>One number of a paper's table that we reproduced: which table, row and column, and how it was measured.</summary>
public sealed record ResultCell(string Table, string Method, string Column, double Mean, double Ci95, int Count, string Budget);

/// <summary>
/// What one reproduction run wrote: the command, configuration, seed, iterations, wall time and threads, the cells
/// of the paper's tables it fills, and experiment-specific details (curves, per-task values). Stored as JSON under
/// papers/&lt;paper-id&gt;/results/, atomically. Command, commit, wall time and threads at the top are those of the
/// invocation that wrote the file; <see cref="Invocations"/> lists every invocation that made the result (a run resumed
/// from its checkpoint), and <see cref="History"/> reads a file without that list as one invocation.
/// </summary>
public sealed record ResultFile
{
    public required string Experiment { get; init; }
    public required string Paper { get; init; }
    public required string Command { get; init; }
    /// <summary>The git commit of the code that ran (with "+dirty" when it had uncommitted changes).</summary>
    public string? Commit { get; init; } = CodeCommit;
    public required DateTimeOffset Finished { get; init; }
    public required double WallSeconds { get; init; }
    public required int Threads { get; init; }
    /// <summary>Processes that trained it together (`mn launch --nproc N`), each with <see cref="Threads"/> threads; null: one.</summary>
    public int? WorldSize { get; init; }
    public required string Machine { get; init; }
    public required long Seed { get; init; }
    public required JsonObject Config { get; init; }
    public required IReadOnlyList<ResultCell> Cells { get; init; }
    public JsonObject? Details { get; init; }
    /// <summary>Every invocation that made this result, oldest first (the last is the one at the top); null in files written before this was recorded.</summary>
    public IReadOnlyList<Invocation>? Invocations { get; init; }

    /// <summary>The invocations that made this result: <see cref="Invocations"/>, or, in an older file, the one its top-level fields describe.</summary>
    public IReadOnlyList<Invocation> History() => Invocations is { Count: > 0 } list ? list : [LastInvocation()];

    /// <summary>The invocation that wrote this file, from its top-level fields.</summary>
    public Invocation LastInvocation() => new()
    {
        Command = Command, Commit = Commit, Started = Finished - TimeSpan.FromSeconds(WallSeconds), Finished = Finished, WallSeconds = WallSeconds,
        Threads = Threads, WorldSize = WorldSize, Machine = Machine, Progress = ResultGuard.Progress(this), Outcome = Invocation.Outcomes.Result,
    };

    /// <summary>
    /// What a chapter prints under a result: for one invocation, its command, commit (or "unknown"), threads, wall time and
    /// machine; for several, how many and their total wall time, then one line per invocation.
    /// </summary>
    public string Provenance()
    {
        var history = History();
        if (history.Count == 1)
            return $"`{history[0].Command}` — commit {Invocation.CommitText(history[0].Commit)}, {Threads} thread(s), " +
                   $"wall time {Invocation.Duration(WallSeconds)} on {Machine}";
        var known = history.Where(i => i.WallSeconds is not null).ToList();
        var total = $"{Invocation.Duration(known.Sum(i => i.WallSeconds!.Value))} of wall time" +
                    (known.Count < history.Count ? $" in the {known.Count} that recorded it" : " in all");
        return $"made in {history.Count} invocations ({total}) on {Machine}:\n" +
               string.Join("\n", history.Select((i, k) => $"  {k + 1}. {i.Describe()}"));
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    public static ResultFile Load(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            var file = JsonSerializer.Deserialize<ResultFile>(text, Json)
                       ?? throw new InvalidDataException($"{path}: empty result file");
            // Commit's initializer describes the code running now; a file that recorded none (run outside a git
            // checkout) must not borrow it.
            return JsonNode.Parse(text) is JsonObject o && !o.ContainsKey("commit") ? file with { Commit = null } : file;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid result file ({e.Message}); re-run the command recorded in it or delete it.", e);
        }
    }

    /// <summary>The result at path, or null when there is none (a reproduction not yet run); a damaged file still throws.</summary>
    public static ResultFile? TryLoad(string path) => File.Exists(path) ? Load(path) : null;

    /// <summary>The result at path, or null when there is none or it is damaged (for reading what it can tell, never for deciding what to keep).</summary>
    public static ResultFile? TryLoadQuietly(string path)
    {
        try { return TryLoad(path); }
        catch (InvalidDataException) { return null; }
    }

    private static readonly Lazy<string?> codeCommit = new(() => DescribeCommit(AppContext.BaseDirectory));

    /// <summary>
    /// The commit of the code this process runs, described once, at its first use: a run that touches it before it
    /// trains records the clean commit, not the "+dirty" its own rewritten model files would make of it at the end.
    /// </summary>
    public static string? CodeCommit => codeCommit.Value;

    /// <summary>
    /// git describe, with "+dirty" only for uncommitted changes outside papers/: results, models and checkpoints that
    /// earlier runs wrote into a checkout are outputs, not code, and would otherwise mark every later run of a chain.
    /// </summary>
    public static string? DescribeCommit(string directory)
    {
        var commit = Git(directory, "describe --always --abbrev=12");
        if (string.IsNullOrEmpty(commit)) return null;
        var changes = Git(directory, "status --porcelain --untracked-files=no -- :(top) :(top,exclude)papers");
        return changes is { Length: > 0 } ? commit + "+dirty" : commit;
    }

    private static string? Git(string directory, string arguments)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("git", arguments)
            { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
            using var p = System.Diagnostics.Process.Start(psi);
            if (p == null) return null;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>"N threads on &lt;CPU model&gt;": what a reader needs to compare wall times.</summary>
    public static string DescribeMachine()
    {
        var cpu = "unknown CPU";
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
            if (line != null) cpu = line.Split(':', 2)[1].Trim();
        }
        catch (IOException) { }
        return $"{Environment.ProcessorCount} cores, {cpu}";
    }
}
