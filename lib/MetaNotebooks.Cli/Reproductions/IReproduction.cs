using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>
/// One experiment of `mn reproduce &lt;name&gt;`: trains, evaluates, writes papers/&lt;paper&gt;/results/*.json and regenerates
/// the paper's README. Found by reflection: add a class under Reproductions/ and it is listed.
/// </summary>
/// <remarks>
/// The standard path, which every reproduction follows so that no command destroys a committed result:
/// <list type="number">
/// <item>read and validate every option (<see cref="Options"/> rejects NaN, infinities and out-of-range numbers; call
/// the config's Validate), then load and check the data: nothing is written or deleted before;</item>
/// <item>build the experiment on <see cref="ReproductionContext.PaperDirectory"/> (a scratch copy of the paper's folder,
/// where results/ is written first) with its checkpoints in <see cref="ReproductionContext.CheckpointDirectory"/>
/// (papers/&lt;paper&gt;/checkpoints, so that the same command resumes a committed checkpoint);</item>
/// <item>right before training, <see cref="ReproductionContext.Restart"/> with the experiment's checkpoint files;</item>
/// <item>at the end, <see cref="ReproductionContext.Publish"/>: it lists this invocation after the earlier ones of the
/// run (kept beside the checkpoints, see <see cref="InvocationHistory"/>) in the result, moves the result and its model files into
/// papers/&lt;paper&gt;/results and regenerates the README only when the run is at least as complete as the committed
/// result (<see cref="ResultGuard"/>) or the user passed --force; otherwise they stay in .local/scratch and it says why.</item>
/// </list>
/// </remarks>
public interface IReproduction
{
    /// <summary>The name typed after `mn reproduce`, e.g. "maml-sine".</summary>
    string Name { get; }

    /// <summary>papers/&lt;paper-id&gt;.</summary>
    string PaperId { get; }

    /// <summary>
    /// Whether it trains data-parallel when `mn launch` starts it on several ranks (each rank a share of every meta-batch).
    /// Others refuse to run under the launcher rather than train N independent copies.
    /// </summary>
    bool SupportsDataParallel => false;

    /// <summary>One line for the list of experiments.</summary>
    string Summary { get; }

    /// <summary>This experiment's options, for the usage text.</summary>
    string OptionsHelp { get; }

    /// <summary>Runs with parsed options (unknown ones must be rejected with options.RejectUnknown()); returns the exit code.</summary>
    int Run(Options options, ReproductionContext context);
}

/// <summary>
/// Where the run writes, how it was invoked (recorded in the result file), and the rule that decides whether its result
/// replaces the committed one: see <see cref="IReproduction"/>'s remarks and <see cref="ResultGuard"/>.
/// </summary>
public sealed record ReproductionContext(string RepositoryRoot, string Command, CancellationToken Cancel)
{
    /// <summary>--force: publish even a run less complete than the committed one, and let --restart delete committed checkpoints.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// The process group when `mn launch` started this process as one of several ranks (null alone). Only rank 0 writes:
    /// the other ranks' Restart, Publish and RecordStop do nothing.
    /// </summary>
    public Training.DataParallel? Parallel { get; init; }

    private bool Writes => Parallel?.IsWriter ?? true;

    /// <summary>When the run started: the files of results/ written since then are this run's.</summary>
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;

    // The invocation history of the experiment being run (set by Restart, consumed by Publish or RecordStop): where it is
    // kept, the invocations before this one, and whether this one has been recorded with its end.
    private string? historyPath;
    private List<Invocation>? earlier;
    private bool resumed;
    private DateTime? lastPublishedUtc;

    /// <summary>papers/&lt;paper-id&gt;: the committed results, README and checkpoints.</summary>
    public string PublishedDirectory(string paperId) => PaperReport.PaperDirectory(RepositoryRoot, paperId);

    /// <summary>
    /// The paper folder an experiment writes into: .local/scratch/&lt;paper-id&gt; (ignored by git), a copy of the paper's
    /// folder where the run's results/ are written first; <see cref="Publish"/> moves them into papers/ when the rule allows.
    /// </summary>
    public string PaperDirectory(string paperId)
    {
        var scratch = Path.Combine(RepositoryRoot, ".local", "scratch", paperId);
        // With the paper's published.json, so that whatever reads the folder as a paper's (its README, the side-by-side
        // table) works there as in papers/.
        var published = Path.Combine(PublishedDirectory(paperId), "published.json");
        if (Writes && File.Exists(published)) AtomicFile.WriteAllText(Path.Combine(scratch, "published.json"), File.ReadAllText(published));
        return scratch;
    }

    /// <summary>
    /// Where the experiment keeps its checkpoints: papers/&lt;paper-id&gt;/checkpoints, so that the same command resumes a
    /// committed one (resuming only moves it forward). A --restart without --force uses the scratch folder's instead:
    /// starting over must not delete a committed checkpoint, whose run took hours; with --force it does.
    /// </summary>
    public string CheckpointDirectory(string paperId, bool restart) =>
        Path.Combine(restart && !Force ? PaperDirectory(paperId) : PublishedDirectory(paperId), "checkpoints");

    /// <summary>
    /// What --restart does, called after every option and the data have been checked, right before training: deletes the
    /// run's checkpoint files that exist (a fresh clone has none, nor their folder). They are in scratch unless --force
    /// (see <see cref="CheckpointDirectory"/>).
    /// </summary>
    /// <remarks>
    /// It also starts this invocation's record: the history beside the checkpoints (<see cref="InvocationHistory"/>) gets an
    /// entry "running" after the invocations before it (none after --restart or without a checkpoint to resume), which
    /// <see cref="Publish"/> or <see cref="RecordStop"/> completes; an entry still "running" later was killed.
    /// </remarks>
    public void Restart(bool restart, params IEnumerable<string> checkpointPaths)
    {
        if (!Writes) return;
        var paths = checkpointPaths.ToList();
        if (paths.Count > 0)
        {
            historyPath = InvocationHistory.PathFor(paths);
            resumed = !restart && paths.Any(File.Exists);
            earlier = resumed ? InvocationHistory.Load(historyPath).ToList() : [];
        }
        if (restart)
        {
            if (!Force)
                Console.Error.WriteLine("--restart: starting afresh with this run's checkpoints in .local/scratch; committed checkpoints in papers/ are kept " +
                                        "(add --force to delete them and start over there).");
            DeleteCheckpoints(paths);
        }
        if (historyPath is not null) InvocationHistory.Save(historyPath, [.. earlier!, ThisInvocation(Invocation.Outcomes.Running, null)]);
    }

    /// <summary>This invocation as recorded: when it started, how it ended, and (from its result) how far it got.</summary>
    private Invocation ThisInvocation(string outcome, ResultFile? result)
    {
        var running = outcome == Invocation.Outcomes.Running;
        var started = lastPublishedUtc ?? StartedUtc;
        return new Invocation
        {
            Command = Command,
            Commit = result is null ? ResultFile.CodeCommit : result.Commit,
            Started = new DateTimeOffset(started, TimeSpan.Zero),
            Finished = running ? null : result?.Finished ?? DateTimeOffset.UtcNow,
            WallSeconds = running ? null : result?.WallSeconds ?? Math.Round((DateTime.UtcNow - started).TotalSeconds, 1),
            Threads = result?.Threads ?? Torch.torch.get_num_threads(),
            WorldSize = result?.WorldSize ?? (Parallel is { WorldSize: > 1 } p ? p.WorldSize : null),
            Machine = result?.Machine ?? ResultFile.DescribeMachine(),
            Progress = result is null ? null : ResultGuard.Progress(result),
            Outcome = outcome,
        };
    }

    /// <summary>
    /// The invocations that made `result`, this one last: those recorded beside the checkpoint this run resumed, or, where
    /// none were recorded (a checkpoint from before histories were kept), those of the committed result this run extends.
    /// </summary>
    private IReadOnlyList<Invocation> HistoryOf(ResultFile result, string publishedPath)
    {
        var before = earlier ?? [];
        if (before.Count == 0 && resumed && ResultFile.TryLoadQuietly(publishedPath) is { } committed && ResultGuard.WhyNotReplace(committed, result) is null)
            before = committed.History().ToList();
        return [.. before, ThisInvocation(Invocation.Outcomes.Result, result)];
    }

    /// <summary>
    /// Completes this invocation's record when it ends without a result (Ctrl-C, a signal, an error after training began):
    /// the next invocation, resuming the checkpoint, lists it. Does nothing once <see cref="Publish"/> has recorded it.
    /// </summary>
    public void RecordStop()
    {
        if (!Writes) return;
        if (historyPath is null || earlier is null) return;
        InvocationHistory.Save(historyPath, [.. earlier, ThisInvocation(Invocation.Outcomes.Stopped, null)]);
        (historyPath, earlier) = (null, null);
    }

    /// <summary>Deletes the checkpoint files that exist (a fresh clone has none, nor their folder).</summary>
    public static void DeleteCheckpoints(params IEnumerable<string> paths)
    {
        foreach (var path in paths)
            if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>
    /// The end of every run. When the result is at least as complete as the one committed under the same name (or there
    /// is none, or --force), moves it and the model files this run wrote beside it (same name stem) into
    /// papers/&lt;paper&gt;/results, regenerates the paper's README and returns true; otherwise leaves them in the scratch
    /// folder with a README of their own, says why, and returns false. Prints published vs ours either way.
    /// </summary>
    public bool Publish(string paperId, ResultFile result, string resultPath)
    {
        if (!Writes) return false;
        var paperDir = PublishedDirectory(paperId);
        var publishedPath = Path.Combine(paperDir, "results", Path.GetFileName(resultPath));
        // Every invocation that made the result goes into it, and beside the checkpoint for the next one to continue.
        var history = HistoryOf(result, publishedPath);
        result = result with { Invocations = history };
        result.Save(resultPath);
        if (historyPath is not null) InvocationHistory.Save(historyPath, history);
        (historyPath, earlier, lastPublishedUtc) = (null, null, DateTime.UtcNow);
        var paper = PublishedPaper.Load(Path.Combine(paperDir, "published.json"));
        Console.WriteLine(Commands.ReproduceCommand.SideBySide(result, paper));
        var samePlace = Path.GetFullPath(resultPath) == Path.GetFullPath(publishedPath);
        var why = samePlace || Force ? null : WhyNotPublish(publishedPath, result);
        if (why is null)
        {
            if (samePlace) Console.Error.WriteLine($"warning: this reproduction wrote {Path.GetRelativePath(RepositoryRoot, resultPath)} straight into papers/, " +
                                                   "past the rule that protects committed results; build its experiment on context.PaperDirectory.");
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(publishedPath)!);
                foreach (var file in RunFiles(resultPath).Append(resultPath))   // the result last: a reader never sees it before its models
                    File.Move(file, Path.Combine(paperDir, "results", Path.GetFileName(file)), overwrite: true);
            }
            var readme = Path.Combine(paperDir, "README.md");
            PaperReport.Write(paperDir);
            Console.WriteLine($"Wrote {Path.GetRelativePath(RepositoryRoot, publishedPath)} and {Path.GetRelativePath(RepositoryRoot, readme)}.");
            return true;
        }
        var scratch = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(resultPath)))!;
        AtomicFile.WriteAllText(Path.Combine(scratch, "published.json"), File.ReadAllText(Path.Combine(paperDir, "published.json")));
        PaperReport.Write(scratch);
        Console.WriteLine($"Not published: {why}. papers/{paperId} is unchanged; this run's result, models and README are in " +
                          $"{Path.GetRelativePath(RepositoryRoot, scratch)}/. Pass --force to replace the committed result with it.");
        return false;
    }

    private static string? WhyNotPublish(string publishedPath, ResultFile result)
    {
        if (!File.Exists(publishedPath)) return null;
        ResultFile committed;
        try { committed = ResultFile.Load(publishedPath); }
        catch (InvalidDataException) { return null; }   // a damaged file protects nothing: replacing it is the repair
        return ResultGuard.WhyNotReplace(committed, result);
    }

    /// <summary>Some file systems keep coarse modification times (FAT: 2 s): a file written in the run's first moments still counts as its own.</summary>
    private static readonly TimeSpan TimestampSlack = TimeSpan.FromSeconds(2);

    /// <summary>The model files beside the result that this run wrote: "maml-sine.json" → "maml-sine-maml.model.mntd", ….</summary>
    private IEnumerable<string> RunFiles(string resultPath)
    {
        var stem = Path.GetFileNameWithoutExtension(resultPath);
        return Directory.GetFiles(Path.GetDirectoryName(resultPath)!)
            .Where(f => Path.GetFileName(f) is var name && name != Path.GetFileName(resultPath) && !name.Contains(".tmp-") &&
                        (name.StartsWith(stem + ".", StringComparison.Ordinal) || name.StartsWith(stem + "-", StringComparison.Ordinal)) &&
                        File.GetLastWriteTimeUtc(f) >= StartedUtc - TimestampSlack)
            .ToList();
    }
}
