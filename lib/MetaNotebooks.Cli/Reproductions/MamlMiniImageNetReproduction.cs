using MetaNotebooks.Experiments;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>MAML and first-order MAML on Mini-ImageNet (Finn et al. 2017, Table 1): one 5-way K-shot cell per invocation.</summary>
public sealed class MamlMiniImageNetReproduction : IReproduction
{
    public string Name => MamlMiniImageNet.ExperimentName;
    public string PaperId => MamlFewShot.PaperId;
    public string Summary => "MAML / first-order MAML on Mini-ImageNet, one 5-way cell of Table 1 (Finn et al. 2017), resumable under a time budget";

    public string OptionsHelp => """
          --shots 1|5        K (default 1); 5-way, 15 queries per class, 5 inner steps α 0.01, 10 test steps, clip ±10;
                             meta-batch 4 (1-shot) or 2 (5-shot)
          --first-order      first-order MAML (no second derivatives)
          --iterations N     meta-iterations in total (default 60000, the paper's)
          --hours H          stop this invocation after H hours (checkpoint, evaluate, report); the same command resumes
          --meta-batch N     tasks per meta-iteration (default: the paper's)
          --filters N        convolution filters per block (default 32, the paper's; another value is its own run)
          --eval-every N     test accuracy on the first 100 fixed test tasks every N iterations, for the curve (default 100)
          --eval-tasks N     fixed test tasks of the final evaluation (default 600)
          --seed N           training seed (default 1)
          --batched          the whole meta-batch in one graph through grouped convolutions (same gradients)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = options.Int("shots", 1);
        if (shots is not (1 or 5)) throw new UsageException($"--shots must be 1 or 5 (the paper's Mini-ImageNet cells), got {shots}");
        var defaults = MamlMiniImageNetConfig.ForCell(shots, options.Flag("first-order"));
        var config = MamlCellOptions.Read(defaults, options) with { Filters = options.Int("filters", defaults.Filters) };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var run = new MamlMiniImageNet(config, context.PaperDirectory(PaperId), log: Console.Error) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        context.Restart(restart, run.CheckpointPath, run.CurvePath);
        Console.Error.WriteLine($"Reproducing {Name} {config.Slug}: {config.MethodName}, {config.Ways}-way {config.Shots}-shot {config.Queries}-query, {config.Iterations:N0} iterations " +
                                $"of {config.MetaBatch} tasks, {config.InnerSteps} inner steps α = {config.InnerLearningRate}, {config.EvalSteps} test steps, {config.Filters} filters, " +
                                $"clip ±{config.ClipValue}, {(config.Batched ? "batched" : "per-task loop")}, {torch.get_num_threads()} thread(s), seed {config.Seed}" +
                                (config.Hours is { } h ? $", at most {h} h in this invocation." : "."));
        var result = run.Run(context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
