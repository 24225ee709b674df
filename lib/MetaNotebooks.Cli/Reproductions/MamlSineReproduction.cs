using MetaNotebooks.Experiments;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>MAML, first-order MAML and the pretrained baseline on sine regression (Finn et al. 2017, §5.1): the default experiment.</summary>
public sealed class MamlSineReproduction : IReproduction
{
    public string Name => MamlSine.ExperimentName;
    public string PaperId => MamlSine.PaperId;
    public bool SupportsDataParallel => true;
    public string Summary => "MAML, first-order MAML and the pretrained baseline on sine regression (Finn et al. 2017, §5.1)";

    public string OptionsHelp => """
          --iterations N   meta-iterations per learner (default 70000, the paper's)
          --meta-batch N   tasks per meta-iteration (default 25)
          --seed N         training seed (default 1); evaluation tasks use a fixed seed of their own
          --eval-tasks N   held-out tasks per evaluation (default 600)
          --loop           one task after another instead of the batched meta-batch (same gradients, slower)
          --restart        start over (see --force)
          --init NAME      pytorch (default: nn.Linear's) or paper (the paper code's: truncated normal σ = 0.01, zero biases)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var defaults = new MamlSineConfig();
        var config = defaults with
        {
            Iterations = options.Int("iterations", defaults.Iterations),
            MetaBatch = options.Int("meta-batch", defaults.MetaBatch),
            Seed = options.Int("seed", (int)defaults.Seed),
            EvalTasks = options.Int("eval-tasks", defaults.EvalTasks),
            Batched = !options.Flag("loop"),
            Init = options.String("init") switch
            {
                null or "pytorch" => MamlSineConfig.PyTorchInit,
                "paper" => MamlSineConfig.PaperCodeInit,
                var other => throw new UsageException($"--init must be paper or pytorch, got {other}"),
            },
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var run = new MamlSine(config, context.PaperDirectory(PaperId)) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart), Parallel = context.Parallel };
        context.Restart(restart, Enum.GetValues<SineMethod>().Select(run.CheckpointPath));
        Console.Error.WriteLine($"Reproducing {Name}: {config.Iterations:N0} iterations × 3 learners, meta-batch {config.MetaBatch}, K = {config.K}, " +
                                $"{(config.Batched ? "batched" : "per-task loop")}, {torch.get_num_threads()} thread(s), seed {config.Seed}, init: {config.Init}.");
        var result = run.Run(context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
