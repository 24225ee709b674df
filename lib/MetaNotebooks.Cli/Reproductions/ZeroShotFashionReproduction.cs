using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Zero-shot prototypical networks (Snell et al. 2017, §2.3) on Fashion-MNIST with hand-written class attributes.</summary>
public sealed class ZeroShotFashionReproduction : IReproduction
{
    public string Name => ZeroShotFashion.ExperimentName;
    public string PaperId => ZeroShotFashion.PaperId;
    public string Summary => "zero-shot Prototypical networks on Fashion-MNIST: prototypes from class attributes, 3 classes held out (Snell et al. 2017, §2.3)";

    public string OptionsHelp => """
          --iterations N     training episodes (default 2000)
          --ways N           seen classes per training episode (default 5 of 7)
          --unseen a,b,c     held-out classes, ids 0-9 (default 2,3,7: Pullover, Dress, Sneaker)
          --seed N           training seed (default 1); test episodes use a fixed seed
          --eval-episodes N  test episodes per setting (default 1000)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var defaults = new ZeroShotFashionConfig();
        var config = defaults with
        {
            Iterations = options.Int("iterations", defaults.Iterations),
            Ways = options.Int("ways", defaults.Ways),
            Unseen = options.IntList("unseen", defaults.Unseen),
            Seed = options.Int("seed", (int)defaults.Seed),
            EvalEpisodes = options.Int("eval-episodes", defaults.EvalEpisodes),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var run = new ZeroShotFashion(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        Console.Error.WriteLine($"Reproducing {Name}: {config.Iterations:N0} episodes of {config.Ways}-way {config.Queries}-query, " +
                                $"held out {string.Join(", ", config.Unseen.Select(c => FashionMnist.ClassNames[c]))}, {torch.get_num_threads()} thread(s), seed {config.Seed}.");
        using var train = FashionMnist.Load("train");
        using var test = FashionMnist.Load("test");
        context.Restart(restart, run.CheckpointPath);
        var result = run.Run(train, test, context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
