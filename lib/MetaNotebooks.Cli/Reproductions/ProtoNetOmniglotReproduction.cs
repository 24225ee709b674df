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
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
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
        var restart = options.Flag("restart");
        var experiment = Prepare(config, newLearner, options, context, restart);
        using var omniglot = Omniglot.Load(log: Console.Error);
        try { experiment.CheckData(omniglot); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        context.Restart(restart, config.Runs.SelectMany(r => new[] { experiment.CheckpointPath(r), experiment.CurvePath(r) }));
        var result = experiment.Run(omniglot, context.Command, context.Cancel);
        if (result is null) return 130;
        if (context.Publish(config.PaperId, result, experiment.ResultPath)) OmniglotComparison.Write(context.RepositoryRoot);
        return 0;
    }

    /// <summary>
    /// Reproductions on given train and test classes (Mini-ImageNet), one result file per config, run one after the other
    /// (each within the --hours budget). Datasets are loaded by the caller once for all configs, and every config's episodes
    /// are checked against them before a checkpoint is deleted.
    /// </summary>
    public static int Run(IReadOnlyList<MetricOmniglotConfig> configs, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner,
                          Options options, ReproductionContext context, Func<(ClassIndexedDataset Train, ClassIndexedDataset Test)> load)
    {
        var restart = options.Flag("restart");
        var experiments = configs.Select((c, i) => Prepare(c, newLearner, options, context, restart, rejectUnknown: i == configs.Count - 1)).ToList();
        var (train, test) = load();
        using (train)
        using (test)
        {
            try { foreach (var experiment in experiments) experiment.CheckData(train, test); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            foreach (var experiment in experiments)
                context.Restart(restart, experiment.Config.Runs.SelectMany(r => new[] { experiment.CheckpointPath(r), experiment.CurvePath(r) }));
            foreach (var experiment in experiments)
            {
                var result = experiment.Run(train, test, context.Command, context.Cancel);
                if (result is null) return 130;
                context.Publish(experiment.Config.PaperId, result, experiment.ResultPath);
            }
        }
        return 0;
    }

    /// <summary>--hours applied to a config, the options checked, the experiment made (its checkpoints where the rule puts them).</summary>
    private static MetricOmniglot Prepare(MetricOmniglotConfig config, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner,
                                          Options options, ReproductionContext context, bool restart, bool rejectUnknown = true)
    {
        config = config with { Hours = options.Hours() };
        if (rejectUnknown) options.RejectUnknown();
        try { foreach (var r in config.Runs) r.Training.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var experiment = new MetricOmniglot(config, newLearner, context.PaperDirectory(config.PaperId)) { CheckpointDirectory = context.CheckpointDirectory(config.PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {config.Experiment}: {string.Join("; ", config.Runs.Select(r => $"{r.Slug}: {r.Training.Iterations:N0} episodes of {r.Training.Ways}-way {r.Training.Shots}-shot"))}, " +
                                $"{MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}{(config.Hours is { } h ? $", at most {h:0.##} h of training per model" : "")}.");
        return experiment;
    }
}
