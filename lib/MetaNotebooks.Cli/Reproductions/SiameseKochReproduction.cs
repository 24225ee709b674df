using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Koch et al.'s own setting: 105×105 Omniglot, their twin CNN, the 400-trial 20-way within-alphabet test (Table 2).</summary>
public sealed class SiameseKochReproduction : IReproduction
{
    public string Name => SiameseKoch.ExperimentName;
    public string PaperId => SiameseKoch.PaperId;
    public string Summary => "Koch's convolutional Siamese net on 105×105 Omniglot, 20-way within-alphabet one-shot, 400 trials, with the 1-NN pixel baseline (Table 2); resumable under a time budget";

    public string OptionsHelp => """
          --hours H          stop this invocation after H hours (checkpoint, validate, test, report); the same command resumes
          --epochs N         at most N epochs (default 200, Koch's), early stopping after --patience epochs without improvement (default 20)
          --epoch-pairs N    pairs per epoch, the unit of the schedule and of validation (default 30000)
          --steps N          stop after N SGD steps of 128 pairs (smoke tests, speed measurements)
          --lr X             learning rate (default 0.01; decays 1% per epoch); --momentum-rise X per epoch from 0.5 to 0.9 (default 0.04)
          --weight-decay X   L2 weight decay (default 0.0002)
          --no-distortions   train without the affine distortions
          --seed N           training seed (default 1)
          --restart          start over: checkpoint, validation history and best model (without --force in .local/scratch)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var defaults = new SiameseKochConfig();
        var stepsText = options.String("steps");
        int? steps = stepsText is null ? null
            : int.TryParse(stepsText, out var n) && n >= 0 ? n : throw new UsageException($"--steps expects a number of steps ≥ 0, got '{stepsText}'");
        var config = defaults with
        {
            MaxEpochs = options.Int("epochs", defaults.MaxEpochs),
            Patience = options.Int("patience", defaults.Patience),
            EpochPairs = options.Int("epoch-pairs", defaults.EpochPairs),
            MaxSteps = steps,
            LearningRate = options.Double("lr", defaults.LearningRate),
            MomentumRise = options.Double("momentum-rise", defaults.MomentumRise),
            WeightDecay = options.Double("weight-decay", defaults.WeightDecay),
            DistortedFraction = options.Flag("no-distortions") ? 0 : defaults.DistortedFraction,
            Seed = options.Int("seed", (int)defaults.Seed),
            Hours = options.Hours(),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var run = new SiameseKoch(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name}: Koch's twin CNN on 105×105 drawings, SGD lr {config.LearningRate} (×{config.LearningRateDecay} per epoch), " +
                                $"momentum {config.MomentumStart} → {config.MomentumEnd} (+{config.MomentumRise}/epoch), weight decay {config.WeightDecay}, " +
                                $"{config.BatchPairs} pairs per step, epochs of {config.EpochPairs:N0} pairs, " +
                                $"{(config.DistortedFraction > 0 ? $"affine distortions on {config.DistortedFraction:P0} of pairs" : "no distortions")}, " +
                                $"{torch.get_num_threads()} thread(s), seed {config.Seed}" + (config.Hours is { } h ? $", at most {h} h in this invocation." : "."));
        using var data = OmniglotKoch.Load(log: Console.Error);
        Console.Error.WriteLine($"Koch split: train {data.Train.Alphabets.Count} alphabets × drawers {string.Join(",", data.Train.Drawers)} ({data.Train.ImageCount:N0} drawings); " +
                                $"validation {data.Validation.Alphabets.Count} × {string.Join(",", data.Validation.Drawers)} ({data.Validation.ImageCount:N0}); " +
                                $"test {data.Test.Alphabets.Count} × {string.Join(",", data.Test.Drawers)} ({data.Test.ImageCount:N0}).");
        context.Restart(restart, run.CheckpointPath, run.HistoryPath, run.BestModelPath);
        var result = run.Run(data, context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
