using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>MANN and its LSTM baseline on Santoro et al.'s one-hot Omniglot task (Table 1): accuracy by presentation; one model per run.</summary>
public sealed class MannOmniglotReproduction : IReproduction
{
    public string Name => MannOmniglotConfig.ExperimentName;
    public string PaperId => MannOmniglotConfig.PaperId;
    public string Summary => "Memory-augmented neural network (LRUA) and the LSTM baseline on Omniglot label sequences, accuracy by presentation (Santoro et al. 2016, Table 1)";

    public string OptionsHelp => """
          --model M        mann (default: LSTM controller with an LRUA memory) or lstm (the baseline, same LSTM, no memory)
          --episodes N     training episodes (default 100000, a multiple of --batch); checkpointed, rerun to resume
          --batch N        episodes per Adam step (default 16)
          --seed N         initialisation and training episodes (default 1; the same seed gives both models the same episodes); test episodes use a fixed seed
          --eval-episodes N  test episodes (default 1000)
          --hours H        at most H hours in this invocation (training, then scoring with the episodes reached); the same command resumes
          --restart        start over (without --force in .local/scratch: committed checkpoints are kept)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var name = options.String("model") ?? "mann";
        var model = name switch
        {
            "mann" => SequenceModel.Mann,
            "lstm" => SequenceModel.Lstm,
            _ => throw new UsageException($"--model must be mann or lstm, not '{name}'"),
        };
        var config = new MannOmniglotConfig
        {
            Model = model, Episodes = options.Int("episodes", 100_000), BatchSize = options.Int("batch", 16), Seed = options.Int("seed", 1),
            EvalEpisodes = options.Int("eval-episodes", 1000), Hours = options.Hours(),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var experiment = new MannOmniglot(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name} ({config.MethodName}): {config.Episodes:N0} episodes of {config.Classes} classes × {config.PerClass} " +
                                $"in batches of {config.BatchSize}, {MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var omniglot = MannOmniglot.LoadOmniglot(Console.Error);
        context.Restart(restart, experiment.CheckpointPath);
        var result = experiment.Run(omniglot, context.Command, cancel: context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, experiment.ResultPath);
        return 0;
    }
}
