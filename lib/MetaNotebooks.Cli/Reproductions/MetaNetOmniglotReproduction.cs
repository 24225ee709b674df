using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>MetaNet on Omniglot, n-way 1-shot on the 1200/423 split (Munkhdalai &amp; Yu 2017, Table 1); one model per run.</summary>
public sealed class MetaNetOmniglotReproduction : IReproduction
{
    public string Name => MetaNetOmniglotConfig.ExperimentName;
    public string PaperId => MetaNetOmniglotConfig.PaperId;
    public string Summary => "Meta Networks on Omniglot, 1200/423 split, n-way 1-shot with rotations per class (Munkhdalai & Yu 2017, Table 1)";

    public string OptionsHelp => """
          --episodes N     training episodes, one Adam step each (default 10000); checkpointed, rerun to resume
          --ways N         ways of training and test episodes (default 5; the paper: 5, 10, 15, 20)
          --test-ways M    also test M-way through untrained M-way heads (train N / test M)
          --variant V      metanet (default), minus (no task-level fast weights), plus (task-level fast weights in b),
                           fast-only (base learner without slow weights)
          --seed N         initialisation and training episodes (default 1); test episodes use a fixed seed
          --eval-episodes N  test episodes (default 1000)
          --restart        delete the checkpoint first
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var variant = options.String("variant") ?? "metanet";
        var model = variant switch
        {
            "metanet" => new MetaNetOptions(),
            "minus" => new MetaNetOptions { TaskLevelFastWeights = false },
            "plus" => new MetaNetOptions { BaseTaskFastWeights = true },
            "fast-only" => new MetaNetOptions { FastOnlyBaseLearner = true },
            _ => throw new UsageException($"--variant must be metanet, minus, plus or fast-only, not '{variant}'"),
        };
        var config = new MetaNetOmniglotConfig
        {
            Episodes = options.Int("episodes", 10_000), Ways = options.Int("ways", 5), TestWays = options.Int("test-ways", 0),
            Seed = options.Int("seed", 1), EvalEpisodes = options.Int("eval-episodes", 1000), Model = model,
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        if (config.Episodes < 0 || config.EvalEpisodes < 2) throw new UsageException("--episodes must be ≥ 0 and --eval-episodes ≥ 2");
        try { config.ModelOptions.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var paperDir = context.PaperDirectory(PaperId);
        var experiment = new MetaNetOmniglot(config, paperDir);
        if (restart) ReproductionContext.DeleteCheckpoints(experiment.CheckpointPath);
        Console.Error.WriteLine($"Reproducing {Name} ({config.ModelOptions.Name}): {config.Episodes:N0} episodes of {config.Ways}-way 1-shot, " +
                                $"{MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var omniglot = Omniglot.Load(log: Console.Error);
        var result = experiment.Run(omniglot, context.Command, cancel: context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, experiment.ResultPath);
        return 0;
    }
}
