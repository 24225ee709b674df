using MetaNotebooks.Experiments;
using MetaNotebooks.Results;
using MetaNotebooks.Tests.Data;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.MetaLearner;

/// <summary>The meta-learner LSTM's Mini-ImageNet cells: the authors' settings, option checks, and a short seeded run on the real images (one thread).</summary>
public class MetaLearnerMiniImageNetTests(ITestOutputHelper output)
{
    private const string TrainCsv = "mini-imagenet/train.csv", TestCsv = "mini-imagenet/test.csv", Images = "mini-imagenet/images";

    /// <summary>The 1-shot cell scaled down to run in a few minutes on one thread: 28×28 images, 16 filters, 5 queries per class; the authors' 12 updates of batch 5, Adam, clipping.</summary>
    private static MetaLearnerMiniImageNetConfig Small(int iterations) => MetaLearnerMiniImageNetConfig.ForCell(1) with
    {
        ImageSize = 28, Filters = 16, Queries = 5, Iterations = iterations, Seed = 3, EvalTasks = 100, CurveTasks = 100, EvalEvery = iterations,
    };

    [Fact]
    public void TheAuthorsCellsAndTheirFiles()
    {
        var one = MetaLearnerMiniImageNetConfig.ForCell(1);
        var five = MetaLearnerMiniImageNetConfig.ForCell(5);
        Assert.Equal((5, 1, 15, 12, 5, 1, 0.001, 0.25, 32, 75_000), (one.Ways, one.Shots, one.Queries, one.InnerSteps, one.InnerBatch, one.MetaBatch, one.MetaLearningRate, one.ClipNorm, one.Filters, one.Iterations));
        Assert.Equal((8, 25, 50_000), (five.InnerSteps, five.InnerBatch, five.Iterations));
        Assert.Equal(("5w1s", "5w5s", "5w5s-T5b5", "5w1s-16f-28px"), (one.Slug, five.Slug, (five with { InnerSteps = 5, InnerBatch = 5 }).Slug, Small(1).Slug));
        Assert.ThrowsAny<ArgumentException>(() => (one with { InnerBatch = 3 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => MetaLearnerMiniImageNetConfig.ForCell(3));
        // The published table has the row under the name the result cells use.
        var paper = PublishedPaper.Load(Path.Combine(RepositoryRoot.Find(), "papers", MetaLearnerMiniImageNet.PaperId, "published.json"));
        var row = paper.Table("miniimagenet").Rows.Single(r => r.Method == MetaLearnerMiniImageNetConfig.MethodName);
        Assert.Equal([43.44, 60.60], row.Values.Select(v => v!.Value));
    }

    [Fact]
    public void TheReproductionRejectsCellsAndSchedulesThePaperDoesNotHave()
    {
        var repro = new MetaNotebooks.Cli.Reproductions.MetaLearnerMiniImageNetReproduction();
        var context = new MetaNotebooks.Cli.Reproductions.ReproductionContext(Path.GetTempPath(), "test", CancellationToken.None);
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--shots", "3"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--inner-batch", "4"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--inner-steps", "0"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--hours", "-1"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--ways", "20"]), context));
    }

    [RequiresDataFact(TrainCsv, TestCsv, Images)]
    public void ThreeHundredSeededIterationsOnRealImagesScoreAboveChance()
    {
        set_num_threads(1);
        using var dir = new TempDirectory();
        var run = new MetaLearnerMiniImageNet(Small(300), dir.Path);
        var (model, outcome, curve, _) = run.Train(showProgress: false);
        using (model)
        {
            Assert.True(outcome.Completed);
            var before = curve.Single(p => p.Iteration == 0);
            var trace = new List<(double[] Input, double[] Forget)>();
            var after = Summary.Of(run.EvaluateOnTest(model, tasks: 100, trace));
            var gates = Algorithms.MetaLearner.LearnedUpdate.Summarise(model.Layout, trace, 12);
            output.WriteLine($"loss per 50 iterations {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}; 5-way 1-shot on the first 100 shared test tasks: " +
                             $"untrained {before.Mean[0]:0.00}%, after {outcome.Iterations} iterations {after} (chance 20%); " +
                             $"mean input gate per layer at update 1: [{string.Join(", ", gates.Input[0].Select(v => v.ToString("0.0000")))}], forget [{string.Join(", ", gates.Forget[0].Select(v => v.ToString("0.0000")))}]");
            Assert.True(outcome.LossCurve.TakeLast(2).Average() < outcome.LossCurve[0] - 0.05, $"the meta-loss should fall: {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.000")))}");
            Assert.True(after.Mean - after.Ci95 > 20, $"after {outcome.Iterations} meta-iterations the 5-way 1-shot accuracy should be above chance (20%), got {after}");
        }
    }

    [RequiresDataFact(TrainCsv, TestCsv, Images)]
    public void AnExhaustedBudgetReportsTheIterationsReachedAndTheNextRunResumes()
    {
        set_num_threads(1);
        using var dir = new TempDirectory();
        var config = Small(4) with { EvalEvery = 2, CurveTasks = 3, EvalTasks = 5, InnerSteps = 2 };
        var stopped = new MetaLearnerMiniImageNet(config with { Hours = 1e-12 }, dir.Path).Run("test", showProgress: false)!;
        var reached = stopped.Details!["iterations"]!.GetValue<int>();
        Assert.False(stopped.Details!["completed"]!.GetValue<bool>());
        Assert.InRange(reached, 0, 3);

        var run = new MetaLearnerMiniImageNet(config, dir.Path);
        var finished = run.Run("test", showProgress: false)!;
        Assert.True(finished.Details!["completed"]!.GetValue<bool>());
        Assert.Equal([0, 2], MamlFigures.AccuracyCurve(finished).Select(p => p.Iteration));
        Assert.Equal(("miniimagenet", MetaLearnerMiniImageNetConfig.MethodName, "1-shot", 5), (finished.Cells[0].Table, finished.Cells[0].Method, finished.Cells[0].Column, finished.Cells[0].Count));
        var gates = finished.Details!["gates"]!;
        Assert.Equal(2, gates["input"]!.AsArray().Count);

        // The test tasks are fixed: the saved model evaluated again scores every task exactly as the run did.
        using var model = run.NewModel();
        model.load_state_dict(load(run.ModelPath));
        var again = run.EvaluateOnTest(model, tasks: 5);
        var perTask = finished.Details!["per_task_final"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(perTask, again.Select(v => Math.Round(v, 3)));
    }
}
