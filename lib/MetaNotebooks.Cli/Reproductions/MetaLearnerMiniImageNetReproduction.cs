using MetaNotebooks.Experiments;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Reproductions;

/// <summary>Ravi &amp; Larochelle's meta-learner LSTM on Mini-ImageNet (ICLR 2017, Table 1): one 5-way cell per invocation.</summary>
public sealed class MetaLearnerMiniImageNetReproduction : IReproduction
{
    public string Name => MetaLearnerMiniImageNet.ExperimentName;
    public string PaperId => MetaLearnerMiniImageNet.PaperId;
    public string Summary => "Ravi & Larochelle's meta-learner LSTM on Mini-ImageNet, one 5-way cell of Table 1, resumable under a time budget";

    public string OptionsHelp => """
          --shots 1|5        K (default 1); 5-way, 15 queries per class, one episode per meta-iteration, Adam 0.001, norm clip 0.25;
                             the authors' updates per task: 12 of batch 5 (1-shot), 8 of batch 25 (5-shot)
          --inner-steps T    learner updates per task, at training and test (default: the authors'; another value is its own run)
          --inner-batch B    support images per update (default: the authors'; must divide the support set)
          --iterations N     meta-iterations in total (default 75000 at 1-shot, 50000 at 5-shot, the authors')
          --hours H          stop this invocation after H hours (checkpoint, evaluate, report); the same command resumes
          --eval-every N     test accuracy on the first 100 fixed test tasks every N iterations, for the curve (default 500)
          --eval-tasks N     fixed test tasks of the final evaluation (default 600)
          --seed N           training seed (default 1)
          --restart          start afresh (see `mn help`)
        """;

    public int Run(Options options, ReproductionContext context)
    {
        var shots = options.Int("shots", 1);
        if (shots is not (1 or 5)) throw new UsageException($"--shots must be 1 or 5 (the paper's Mini-ImageNet cells), got {shots}");
        var defaults = MetaLearnerMiniImageNetConfig.ForCell(shots);
        var config = defaults with
        {
            InnerSteps = options.Int("inner-steps", defaults.InnerSteps),
            InnerBatch = options.Int("inner-batch", defaults.InnerBatch),
            Iterations = options.Int("iterations", defaults.Iterations),
            EvalEvery = options.Int("eval-every", defaults.EvalEvery),
            EvalTasks = options.Int("eval-tasks", defaults.EvalTasks),
            Seed = options.Int("seed", (int)defaults.Seed),
            Hours = options.Hours(),
        };
        var restart = options.Flag("restart");
        options.RejectUnknown();
        try { config.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }

        var run = new MetaLearnerMiniImageNet(config, context.PaperDirectory(PaperId), log: Console.Error) { CheckpointDirectory = context.CheckpointDirectory(PaperId, restart) };
        context.Restart(restart, run.CheckpointPath, run.CurvePath);
        Console.Error.WriteLine($"Reproducing {Name} {config.Slug}: meta-learner LSTM, {config.Ways}-way {config.Shots}-shot {config.Queries}-query, {config.Iterations:N0} iterations " +
                                $"of {config.MetaBatch} episode(s), {config.InnerSteps} learner updates of batch {config.InnerBatch}, {config.Filters} filters, clip norm {config.ClipNorm}, " +
                                $"{torch.get_num_threads()} thread(s), seed {config.Seed}" + (config.Hours is { } h ? $", at most {h} h in this invocation." : "."));
        var result = run.Run(context.Command, context.Cancel);
        if (result is null) return 130;
        context.Publish(PaperId, result, run.ResultPath);
        return 0;
    }
}
