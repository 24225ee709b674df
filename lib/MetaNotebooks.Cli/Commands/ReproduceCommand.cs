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

    private const string Usage = """
        usage: mn reproduce [maml-sine] [--iterations N] [--meta-batch N] [--seed N] [--threads N] [--eval-tasks N]
                            [--loop] [--restart]
          maml-sine      MAML, first-order MAML and the pretrained baseline on sine regression (Finn et al. 2017, §5.1)
          --iterations   meta-iterations per learner (default 70000, the paper's)
          --loop         one task after another instead of the batched meta-batch (same gradients, slower)
          --restart      ignore existing checkpoints and start over
          --threads      libtorch threads (default 1: the run is small and one thread is fastest)
        Ctrl-C stops cleanly and keeps a checkpoint; the same command resumes.
        """;

    public static readonly string[] Experiments = [MamlSine.ExperimentName];

    public int Run(string[] args)
    {
        var options = new Options(args);
        var experiment = options.Positional.Count switch
        {
            0 => MamlSine.ExperimentName,
            1 => options.Positional[0],
            _ => throw new UsageException($"one experiment at a time, got {string.Join(" ", options.Positional)}\n{Usage}"),
        };
        if (options.Flag("help")) { Console.WriteLine(Usage); return 0; }
        if (!Experiments.Contains(experiment))
            throw new UsageException($"unknown experiment '{experiment}'. Known: {string.Join(", ", Experiments)}.\n{Usage}");

        var root = RepositoryRoot.Find();
        torch.set_num_threads(options.Int("threads", 1));
        var defaults = new MamlSineConfig();
        var config = defaults with
        {
            Iterations = options.Int("iterations", defaults.Iterations),
            MetaBatch = options.Int("meta-batch", defaults.MetaBatch),
            Seed = options.Int("seed", (int)defaults.Seed),
            EvalTasks = options.Int("eval-tasks", defaults.EvalTasks),
            Batched = !options.Flag("loop"),
        };
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var paperDir = PaperReport.PaperDirectory(root, MamlSine.PaperId);
        var run = new MamlSine(config, paperDir);
        if (options.Flag("restart"))
            foreach (var m in Enum.GetValues<SineMethod>()) File.Delete(run.CheckpointPath(m));
        Console.Error.WriteLine($"Reproducing {experiment}: {config.Iterations:N0} iterations × 3 learners, meta-batch {config.MetaBatch}, K = {config.K}, " +
                                $"{(config.Batched ? "batched" : "per-task loop")}, {torch.get_num_threads()} thread(s), seed {config.Seed}.");
        var command = "./mn reproduce " + string.Join(" ", args.Length == 0 ? [experiment] : args);
        var result = run.Run(command, Interrupt.Token);
        if (result is null) return 130;
        PaperReport.Write(paperDir);
        Console.WriteLine(SideBySide(result, PublishedPaper.Load(Path.Combine(paperDir, "published.json"))));
        Console.WriteLine($"Wrote {Path.GetRelativePath(root, run.ResultPath)} and {Path.GetRelativePath(root, Path.Combine(paperDir, "README.md"))}.");
        return 0;
    }

    /// <summary>Published vs ours for every cell the run filled.</summary>
    internal static string SideBySide(ResultFile result, PublishedPaper paper)
    {
        var lines = new List<string>();
        foreach (var group in result.Cells.GroupBy(c => c.Table))
        {
            var table = paper.Table(group.Key);
            lines.Add($"\n{table.Title} — {table.Metric}");
            lines.Add($"{"method",-18}{"column",-10}{"published",12}{"ours",20}{"gap",10}");
            foreach (var c in group)
            {
                var row = table.Rows.FirstOrDefault(r => r.Method == c.Method);
                var published = row?.Values.ElementAtOrDefault(table.Columns.ToList().IndexOf(c.Column));
                lines.Add($"{c.Method,-18}{c.Column,-10}{(published?.ToString("0.00") ?? "–"),12}{$"{c.Mean:0.000} ± {c.Ci95:0.000}",20}{(published is { } p ? $"{c.Mean - p:+0.000;-0.000}" : "–"),10}");
            }
        }
        lines.Add($"\n{result.Cells.FirstOrDefault()?.Budget}; wall time {TimeSpan.FromSeconds(result.WallSeconds):hh\\:mm\\:ss}; {result.Threads} thread(s); {result.Machine}.");
        return string.Join("\n", lines);
    }
}
