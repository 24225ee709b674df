using MetaNotebooks.Cli.Reproductions;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;
using MetaNotebooks.Training;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Commands;

/// <summary>`mn reproduce [experiment] [options]`: trains, evaluates, writes papers/&lt;paper&gt;/results and README.</summary>
public sealed class ReproduceCommand : ICommand
{
    public string Name => "reproduce";
    public string Summary => "reproduce a paper's experiment (default: maml-sine) and write papers/<paper>/results";

    /// <summary>Every experiment, found by reflection.</summary>
    public static readonly IReadOnlyDictionary<string, IReproduction> Experiments = typeof(IReproduction).Assembly.GetTypes()
        .Where(t => typeof(IReproduction).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
        .Select(t => (IReproduction)Activator.CreateInstance(t)!)
        .ToDictionary(r => r.Name);

    public const string DefaultExperiment = MamlSine.ExperimentName;

    private static string Usage() =>
        "usage: mn reproduce [experiment] [--threads N] [--restart] [--force] [experiment options]\n" +
        $"  --threads N   libtorch threads, 1 to {MaxThreads} (default 1)\n" +
        "  --restart     start over; without --force, in .local/scratch, keeping the committed checkpoints in papers/\n" +
        "  --force       replace the committed result even with a less complete run (other settings, fewer iterations)\n" +
        "A run replaces papers/<paper>/results only when it is at least as complete as the committed result (same settings,\n" +
        "at least as many iterations); otherwise its result goes to .local/scratch/<paper> and the run says why.\n" +
        "Ctrl-C, SIGTERM and SIGHUP stop cleanly and keep a checkpoint; the same command resumes.\n\nexperiments:\n" +
        string.Join("\n", Experiments.Values.OrderBy(e => e.Name).Select(e => $"  {e.Name,-16} {e.Summary}\n{e.OptionsHelp.TrimEnd()}"));

    public int Run(string[] args)
    {
        var options = new Options(args);
        if (options.Flag("help")) { Console.WriteLine(Usage()); return 0; }
        var name = options.Positional.Count switch
        {
            0 => DefaultExperiment,
            1 => options.Positional[0],
            _ => throw new UsageException($"one experiment at a time, got {string.Join(" ", options.Positional)}\n{Usage()}"),
        };
        if (!Experiments.TryGetValue(name, out var experiment))
            throw new UsageException($"unknown experiment '{name}'. Known: {string.Join(", ", Experiments.Keys.Order())}.\n{Usage()}");
        var threads = options.Int("threads", 1, 1, MaxThreads);
        var force = options.Flag("force");
        torch.set_num_threads(threads);
        _ = ResultFile.CodeCommit; // described now, before the run rewrites tracked result files
        var command = "./mn reproduce" + (args.Length > 0 ? " " + string.Join(" ", args) : "");
        // One of several ranks when `mn launch` started this process (torchrun's environment); alone otherwise.
        if (Training.DataParallel.LaunchedWorldSize() > 1 && !experiment.SupportsDataParallel)
            throw new UsageException($"{name} does not train data-parallel yet: run it without `mn launch` (data-parallel: " +
                                     string.Join(", ", Experiments.Values.Where(e => e.SupportsDataParallel).Select(e => e.Name).Order()) + ").");
        using var parallel = Training.DataParallel.FromEnvironment();
        var context = new ReproductionContext(RepositoryRoot.Find(), command, Interrupt.Token) { Force = force, Parallel = parallel };
        try { return experiment.Run(options, context); }
        finally { context.RecordStop(); }   // a run stopped before its result is still listed in the run's invocations
    }

    /// <summary>
    /// The most libtorch threads a run may ask for: four per core. More only makes threads wait for cores (a run is
    /// fastest at about one per core; a few per core let one measure oversubscription), while a typo such as 100000
    /// would start that many threads and exhaust the machine.
    /// </summary>
    public static int MaxThreads => 4 * Environment.ProcessorCount;

    /// <summary>Published vs ours for every cell the run filled.</summary>
    public static string SideBySide(ResultFile result, PublishedPaper paper)
    {
        var lines = new List<string>();
        foreach (var group in result.Cells.GroupBy(c => c.Table))
        {
            var table = paper.Table(group.Key);
            lines.Add($"\n{table.Title} — {table.Metric}");
            // Columns as wide as their longest entry, so long method names ("Convolutional Siamese Net") stay apart.
            var methodWidth = Math.Max("method".Length, group.Max(c => c.Method.Length)) + 2;
            var columnWidth = Math.Max("column".Length, group.Max(c => c.Column.Length)) + 2;
            lines.Add($"{"method".PadRight(methodWidth)}{"column".PadRight(columnWidth)}{"published",12}{"ours",20}{"gap",10}");
            foreach (var c in group)
            {
                var row = table.Rows.FirstOrDefault(r => r.Method == c.Method);
                var published = row?.Values.ElementAtOrDefault(table.Columns.ToList().IndexOf(c.Column));
                lines.Add($"{c.Method.PadRight(methodWidth)}{c.Column.PadRight(columnWidth)}{(published?.ToString("0.00") ?? "–"),12}{$"{c.Mean:0.000} ± {c.Ci95:0.000}",20}{(published is { } p ? $"{c.Mean - p:+0.000;-0.000}" : "–"),10}");
            }
        }
        foreach (var budget in result.Cells.Select(c => c.Budget).Distinct()) lines.Add($"\nbudget: {budget}");
        lines.Add($"wall time {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss}; {result.Threads} thread(s); {result.Machine}.");
        return string.Join("\n", lines);
    }
}
