using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Prototypical networks on Omniglot, 5/20-way 1/5-shot (Snell et al. 2017, Table 1).</summary>
public sealed class ProtoNetOmniglotReproduction : IReproduction
{
    public string Name => Prototypical.ExperimentName;
    public string PaperId => Prototypical.PaperId;
    public string Summary => "Prototypical networks on Omniglot, Vinyals split, 5/20-way 1/5-shot (Snell et al. 2017, Table 1)";

    public string OptionsHelp => """
          --iterations N   training episodes per model (two models: 1-shot and 5-shot; default 20000)
          --iterations-1shot N, --iterations-5shot N   per model, overriding --iterations
          --train-ways N   classes per training episode (default 60, the paper's)
          --one-model      train only the 1-shot model and score all four settings with it (a smaller budget)
          --seed N         training seed (default 1); the 1,000 test episodes use a fixed seed shared by every method
          --eval-episodes N  test episodes per setting (default 1000)
          --hours H        at most H hours of training per model in this invocation, then evaluate; the same command resumes
          --restart        delete the checkpoints first
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var iterations = options.Int("iterations", 20_000);
        var ways = options.Int("train-ways", 60);
        var seed = options.Int("seed", 1);
        var config = (options.Flag("one-model")
                ? Prototypical.OneModelConfig(options.Int("iterations-1shot", iterations), seed, ways)
                : Prototypical.Config(options.Int("iterations-1shot", iterations), options.Int("iterations-5shot", iterations), seed, ways)) with { EvalEpisodes = options.Int("eval-episodes", 1000) };
        return MetricReproduction.Run(config, run => Prototypical.NewLearner(seed * 100 + run.Training.Shots), options, context);
    }
}

/// <summary>What every metric-learning reproduction does around its experiment: restart, run, README, side-by-side table.</summary>
public static class MetricReproduction
{
    /// <summary>An Omniglot reproduction: its models trained on the Vinyals split, papers/README.md's comparison rewritten.</summary>
    public static int Run(MetricOmniglotConfig config, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner, Options options, ReproductionContext context)
    {
        var experiment = Prepare(config, newLearner, options, context);
        using var omniglot = Omniglot.Load(log: Console.Error);
        var result = experiment.Run(omniglot, context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(experiment.Config.PaperId, result, experiment.ResultPath);
        OmniglotComparison.Write(context.RepositoryRoot);
        return 0;
    }

    /// <summary>
    /// Reproductions on given train and test classes (Mini-ImageNet), one result file per config, run one after the other
    /// (each within the --hours budget). Datasets are loaded by the caller once for all configs.
    /// </summary>
    public static int Run(IReadOnlyList<MetricOmniglotConfig> configs, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner,
                          Options options, ReproductionContext context, Func<(ClassIndexedDataset Train, ClassIndexedDataset Test)> load)
    {
        var experiments = configs.Select((c, i) => Prepare(c, newLearner, options, context, rejectUnknown: i == configs.Count - 1)).ToList();
        var (train, test) = load();
        using (train)
        using (test)
            foreach (var experiment in experiments)
            {
                var result = experiment.Run(train, test, context.Command, context.Cancel);
                if (result is null) return 130;
                context.Publish(experiment.Config.PaperId, result, experiment.ResultPath);
            }
        return 0;
    }

    /// <summary>--hours and --restart applied to a config; the options checked; the experiment made.</summary>
    private static MetricOmniglot Prepare(MetricOmniglotConfig config, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner,
                                          Options options, ReproductionContext context, bool rejectUnknown = true)
    {
        var restart = options.Flag("restart");
        var hours = options.Double("hours", double.NaN);
        if (rejectUnknown) options.RejectUnknown();
        if (!double.IsNaN(hours))
        {
            if (!(hours > 0) || double.IsInfinity(hours)) throw new UsageException($"--hours must be a positive number of hours, got {hours}.");
            config = config with { Hours = hours };
        }
        try { foreach (var r in config.Runs) r.Training.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var paperDir = context.PaperDirectory(config.PaperId);
        var experiment = new MetricOmniglot(config, newLearner, paperDir);
        if (restart) ReproductionContext.DeleteCheckpoints(config.Runs.SelectMany(r => new[] { experiment.CheckpointPath(r), experiment.CurvePath(r) }));
        Console.Error.WriteLine($"Reproducing {config.Experiment}: {string.Join("; ", config.Runs.Select(r => $"{r.Slug}: {r.Training.Iterations:N0} episodes of {r.Training.Ways}-way {r.Training.Shots}-shot"))}, " +
                                $"{MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}{(config.Hours is { } h ? $", at most {h:0.##} h of training per model" : "")}.");
        return experiment;
    }
}
