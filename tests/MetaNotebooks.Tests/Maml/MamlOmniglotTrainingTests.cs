using MetaNotebooks.Algorithms;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Maml;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResidentSetCollection
{
    public const string Name = "Resident set measurements (nothing else runs meanwhile)";
}

/// <summary>Second-order MAML's memory over many meta-iterations: the graph through the inner loop must be freed every time.</summary>
[Collection(ResidentSetCollection.Name)]
public class MamlOmniglotMemoryTests(ITestOutputHelper output)
{
    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TwoHundredSecondOrderMetaIterationsKeepTheResidentSetBounded(bool batched)
    {
        // Meta-batch 32 of 5-way 1-shot tasks (1 query per class) at 28×28, as the paper; 16 filters instead of 64 keep
        // the test fast: what can leak (the graph through the inner step, per-task copies) is the same.
        const int tasks = 32, iterations = 200;
        using var g = new Generator(3);
        using var model = new MamlConvNet(5, g, filters: 16);
        using var optimizer = new optim.Adam(model.parameters(), 1e-3);
        var maml = new Algorithms.Maml(model, TaskLosses.CrossEntropy, new MamlOptions { InnerLearningRate = 0.4 });
        using var xs = rand([tasks, 5, 1, 28, 28], g);
        using var xq = rand([tasks, 5, 1, 28, 28], g);
        using var y = tensor(Enumerable.Range(0, tasks * 5).Select(i => (long)(i % 5)).ToArray(), [tasks, 5]);
        var batch = new TaskBatch(xs, y, xq, y);
        var samples = new List<(int, long)>();
        var loop = new TrainingLoop("memory", model, optimizer, iterations, checkpointPath: null) { ShowProgress = false };
        loop.Run(i =>
        {
            if (i % 20 == 0) samples.Add((i, ResidentBytes()));
            return batched ? maml.MetaLossBatched(batch) : maml.MetaLoss(batch);
        });
        samples.Add((iterations, ResidentBytes()));
        output.WriteLine(string.Join(", ", samples.Select(s => $"{s.Item1}: {s.Item2 / 1e6:0} MB")));
        // After a warm-up (allocator pools, oneDNN caches), the resident set must stay flat: a leaked graph of one
        // meta-iteration is tens of MB, so 180 leaks would be gigabytes.
        var warm = samples.Where(s => s.Item1 >= 40).Select(s => s.Item2).ToArray();
        var growth = warm[^1] - warm[0];
        Assert.True(growth < 64L << 20, $"resident set grew by {growth / 1e6:0} MB between iterations 40 and {iterations}");
    }
}

/// <summary>MAML on real Omniglot: a short seeded run learns (skipped with the reason when the data is absent).</summary>
[Collection(OmniglotCollection.Name)]
public class MamlOmniglotTrainingTests(OmniglotFixture fixture, ITestOutputHelper output)
{
    [RequiresDataFact(OmniglotFixture.Background, OmniglotFixture.Evaluation)]
    public void ThreeHundredIterationsLiftFiveWayOneShotTestAccuracyFarAboveChance()
    {
        using var dir = new TempDirectory();
        var config = MamlOmniglotConfig.ForCell(5, 1, firstOrder: false) with
        {
            Iterations = 300, MetaBatch = 8, EvalTasks = 100, CurveTasks = 100, EvalEvery = 300, Seed = 2,
        };
        var run = new MamlOmniglot(config, dir.Path, fixture.Omniglot);
        var (model, outcome, curve, _) = run.Train(showProgress: false);
        using (model)
        {
            Assert.True(outcome.Completed);
            var before = curve.Single(p => p.Iteration == 0);
            var after = run.EvaluateOnTest(model, tasks: 100).Select(Summary.Of).ToArray();
            output.WriteLine($"test accuracy after 0…3 steps: untrained [{string.Join(", ", before.Mean)}], after 300 iterations [{string.Join(", ", after.Select(s => s.ToString()))}]");
            // Three SGD steps of α = 0.4 from a random initialisation already reach ~59% (chance 20%); what meta-training
            // buys first is the one-step accuracy (untrained ~34%; after 300 iterations of 8 tasks ~68%, seed 2).
            Assert.True(after[1].Mean - after[1].Ci95 > 55, $"after 300 meta-iterations the one-step 5-way 1-shot accuracy should be far above chance (20%), got {after[1]}");
            Assert.True(after[1].Mean > before.Mean[1] + 20, $"training should lift the one-step accuracy well above the untrained network's {before.Mean[1]}%, got {after[1]}");
            Assert.True(after[3].Mean > before.Mean[3] + 5, $"and the three-step accuracy above the untrained network's {before.Mean[3]}%, got {after[3]}");
            Assert.True(outcome.LossCurve[^1] < outcome.LossCurve[0], "the meta-loss should fall");
        }
    }
}

/// <summary>The reproduction's budget and resumption on real Omniglot, at toy sizes.</summary>
[Collection(OmniglotCollection.Name)]
public class MamlOmniglotRunTests(OmniglotFixture fixture)
{
    [RequiresDataFact(OmniglotFixture.Background, OmniglotFixture.Evaluation)]
    public void AnExhaustedBudgetReportsTheIterationsReachedAndTheNextRunResumes()
    {
        using var dir = new TempDirectory();
        var config = MamlOmniglotConfig.ForCell(5, 1, firstOrder: true) with
        {
            Iterations = 6, MetaBatch = 2, EvalEvery = 2, CurveTasks = 4, EvalTasks = 4, EvalChunk = 3,
        };
        // A budget that is over before the first iteration (a few milliseconds could outlast 6 tiny iterations on a
        // quiet machine): the run stops, checkpoints, and still reports.
        var stopped = new MamlOmniglot(config with { Hours = 1e-12 }, dir.Path, fixture.Omniglot).Run("test", showProgress: false)!;
        var reached = stopped.Details!["iterations"]!.GetValue<int>();
        Assert.False(stopped.Details!["completed"]!.GetValue<bool>());
        Assert.InRange(reached, 0, 5);
        Assert.Contains($"{reached:N0} of 6 meta-iterations", stopped.Cells[0].Budget);

        var finished = new MamlOmniglot(config, dir.Path, fixture.Omniglot).Run("test", showProgress: false)!;
        Assert.True(finished.Details!["completed"]!.GetValue<bool>());
        Assert.Equal(6, finished.Details!["iterations"]!.GetValue<int>());
        Assert.Equal([0, 2, 4], MamlFigures.AccuracyCurve(finished).Select(p => p.Iteration));
        var final = MamlFigures.Final(finished);
        Assert.Equal(4, final.Mean.Length); // 0…3 test steps
        Assert.Equal("omniglot", finished.Cells[0].Table);
        Assert.Equal("first-order MAML", finished.Cells[0].Method);
        Assert.Equal("5-way 1-shot", finished.Cells[0].Column);
        Assert.True(File.Exists(Path.Combine(dir.Path, "results", "maml-omniglot-5w1s-fo.json")));
    }

    [Fact]
    public void TheReproductionRejectsCellsThePaperDoesNotHave()
    {
        var repro = new MetaNotebooks.Cli.Reproductions.MamlOmniglotReproduction();
        var context = new MetaNotebooks.Cli.Reproductions.ReproductionContext(Path.GetTempPath(), "test", CancellationToken.None);
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--ways", "7"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--hours", "-1"]), context));
        Assert.Throws<MetaNotebooks.Cli.UsageException>(() => repro.Run(new MetaNotebooks.Cli.Options(["--bogus", "1"]), context));
    }
}
