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
    public static int Run(MetricOmniglotConfig config, Func<MetricTrainingRun, MetaNotebooks.Algorithms.Metric.IEpisodeLearner> newLearner, Options options, ReproductionContext context)
    {
        var restart = options.Flag("restart");
        config = config with { Hours = options.Hours() };
        options.RejectUnknown();
        try { foreach (var r in config.Runs) r.Training.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var experiment = new MetricOmniglot(config, newLearner, context.PaperDirectory(config.PaperId)) { CheckpointDirectory = context.CheckpointDirectory(config.PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {config.Experiment}: {string.Join("; ", config.Runs.Select(r => $"{r.Slug}: {r.Training.Iterations:N0} episodes of {r.Training.Ways}-way {r.Training.Shots}-shot"))}, " +
                                $"{MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var omniglot = Omniglot.Load(log: Console.Error);
        try { experiment.CheckData(omniglot); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        context.Restart(restart, config.Runs.Select(experiment.CheckpointPath));
        var result = experiment.Run(omniglot, context.Command, context.Cancel);
        if (result is null) return 130;
        if (context.Publish(config.PaperId, result, experiment.ResultPath)) OmniglotComparison.Write(context.RepositoryRoot);
        return 0;
    }
}
