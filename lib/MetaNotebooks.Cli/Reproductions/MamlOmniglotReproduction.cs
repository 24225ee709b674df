using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>MAML and first-order MAML on Omniglot (Finn et al. 2017, Table 1): one N-way K-shot cell per invocation.</summary>
public sealed class MamlOmniglotReproduction : IReproduction
{
    public string Name => MamlOmniglot.ExperimentName;
    public string PaperId => MamlOmniglot.PaperId;
    public string Summary => "MAML / first-order MAML on Omniglot, one cell of Table 1 (Finn et al. 2017), resumable under a time budget";

    public string OptionsHelp => """
          --ways 5|20        N (default 5); 5-way: 1 inner step α 0.4, meta-batch 32, 3 test steps; 20-way: 5 steps α 0.1, meta-batch 16, 5 test steps
          --shots 1|5        K (default 1); K queries per class, as the paper's code
          --first-order      first-order MAML (no second derivatives)
          --iterations N     meta-iterations in total (default 40000, the code's; the paper says 60000)
          --hours H          stop this invocation after H hours (checkpoint, evaluate, report); the same command resumes
          --meta-batch N     tasks per meta-iteration (default: the paper's)
          --eval-every N     test accuracy on 200 tasks every N iterations, for the curve (default 500)
          --eval-tasks N     test tasks of the final evaluation (default 600)
          --seed N           training seed (default 1)
          --batched          the whole meta-batch in one graph through grouped convolutions instead of one task after
                             another (same gradients; faster only with several threads, see chapter 7 §7.5)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var ways = options.Int("ways", 5);
        var shots = options.Int("shots", 1);
        if (ways is not (5 or 20)) throw new UsageException($"--ways must be 5 or 20 (the paper's Omniglot cells), got {ways}");
        if (shots < 1) throw new UsageException($"--shots must be ≥ 1, got {shots}");
        var defaults = MamlOmniglotConfig.ForCell(ways, shots, options.Flag("first-order"));
        var config = MamlCellOptions.Read(defaults, options);
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        using var omniglot = Omniglot.Load(log: Console.Error);
        var run = new MamlOmniglot(config, context.PaperDirectory(PaperId), omniglot) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        context.Restart(restart, run.CheckpointPath, run.CurvePath);
        Console.Error.WriteLine($"Reproducing {Name} {config.Slug}: {config.MethodName}, {config.Ways}-way {config.Shots}-shot, {config.Iterations:N0} iterations " +
                                $"of {config.MetaBatch} tasks, {config.InnerSteps} inner step(s) α = {config.InnerLearningRate}, {config.EvalSteps} test steps, " +
                                $"{(config.Batched ? "batched" : "per-task loop")}, {torch.get_num_threads()} thread(s), seed {config.Seed}" +
                                (config.Hours is { } h ? $", at most {h} h in this invocation." : "."));
        var result = run.Run(context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
