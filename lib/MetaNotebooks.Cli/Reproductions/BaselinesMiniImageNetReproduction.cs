using MetaNotebooks.Data;
using MetaNotebooks.Experiments;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Ravi &amp; Larochelle's nearest-neighbour and fine-tune baselines on Mini-ImageNet (ICLR 2017, Table 1).</summary>
public sealed class BaselinesMiniImageNetReproduction : IReproduction
{
    public string Name => BaselinesMiniImageNet.ExperimentName;
    public string PaperId => BaselinesMiniImageNet.PaperId;
    public string Summary => "Ravi & Larochelle's baselines on Mini-ImageNet: one classifier on the 64 train classes; its features for nearest neighbour; fine-tuned per episode (5-way 1/5-shot)";

    public string OptionsHelp => """
          --iterations N   planned classifier steps of 64 images (default 20000, 33 epochs; --hours usually stops it first)
          --hours H        at most H hours of classifier training in this invocation, then both baselines are scored
                           (600 test episodes per shot; fine-tuning takes a while); the same command resumes
          --fine-tune-steps N  SGD steps on each episode's support set (default 10); the rate is chosen on 30 validation episodes
          --curve-every N  nearest-neighbour 1-shot accuracy on the first 100 shared test episodes every N steps (default 1000; 0: none)
          --seed N         (default 1)
          --restart        delete the checkpoint (and curve) first
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var config = new BaselinesMiniImageNetConfig
        {
            Iterations = options.Int("iterations", 20_000),
            FineTuneSteps = options.Int("fine-tune-steps", 10),
            CurveEvery = options.Int("curve-every", 1000),
            Seed = options.Int("seed", 1),
        };
        var restart = options.Flag("restart");
        config = config with { Hours = options.Hours() };
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var experiment = new BaselinesMiniImageNet(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name}: classifier {config.Iterations:N0} steps, {MetaNotebooks.Torch.torch.get_num_threads()} thread(s), seed {config.Seed}" +
                                $"{(config.Hours is { } h ? $", at most {h:0.##} h of training" : "")}.");
        using var train = MiniImageNet.Load("train", log: Console.Error);
        using var val = MiniImageNet.Load("val", log: Console.Error);
        using var test = MiniImageNet.Load("test", log: Console.Error);
        context.Restart(restart, experiment.CheckpointPath, experiment.CurvePath);
        var result = experiment.Run(train, val, test, context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, experiment.ResultPath);
        return 0;
    }
}
