namespace MetaNotebooks.Cli.Reproductions;

/// <summary>
/// One experiment of `mn reproduce &lt;name&gt;`: trains, evaluates, writes papers/&lt;paper&gt;/results/*.json and regenerates
/// the paper's README. Found by reflection: add a class under Reproductions/ and it is listed.
/// </summary>
public interface IReproduction
{
    /// <summary>The name typed after `mn reproduce`, e.g. "maml-sine".</summary>
    string Name { get; }

    /// <summary>papers/&lt;paper-id&gt;.</summary>
    string PaperId { get; }

    /// <summary>One line for the list of experiments.</summary>
    string Summary { get; }

    /// <summary>This experiment's options, for the usage text.</summary>
    string OptionsHelp { get; }

    /// <summary>Runs with parsed options (unknown ones must be rejected with options.RejectUnknown()); returns the exit code.</summary>
    int Run(Options options, ReproductionContext context);
}

/// <summary>Where the run writes and how it was invoked (recorded in the result file).</summary>
public sealed record ReproductionContext(string RepositoryRoot, string Command, CancellationToken Cancel)
{
    public string PaperDirectory(string paperId) => Results.PaperReport.PaperDirectory(RepositoryRoot, paperId);

    /// <summary>What --restart does: deletes the run's checkpoint files that exist (a fresh clone has none, nor their folder).</summary>
    public static void DeleteCheckpoints(params IEnumerable<string> paths)
    {
        foreach (var path in paths)
            if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>The end of every run: regenerates the paper's README, prints published vs ours, says what was written.</summary>
    public void Publish(string paperId, Results.ResultFile result, string resultPath)
    {
        var paperDir = PaperDirectory(paperId);
        var readme = Path.Combine(paperDir, "README.md");
        Results.PaperReport.Write(paperDir);
        Console.WriteLine(Commands.ReproduceCommand.SideBySide(result, Results.PublishedPaper.Load(Path.Combine(paperDir, "published.json"))));
        Console.WriteLine($"Wrote {Path.GetRelativePath(RepositoryRoot, resultPath)} and {Path.GetRelativePath(RepositoryRoot, readme)}.");
    }
}
