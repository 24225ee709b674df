using System.Text.Json.Nodes;
using MetaNotebooks;
using MetaNotebooks.Cli;
using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Experiments;
using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.Maml;

/// <summary>The sine experiment end to end on a short budget, its result files and its options.</summary>
public class MamlSineTests
{
    [Fact]
    public void AfterTwoThousandIterationsMamlAdaptsBetterThanThePretrainedBaseline()
    {
        var dir = Directory.CreateTempSubdirectory("mn-maml-sine-").FullName;
        try
        {
            var run = new MamlSine(new MamlSineConfig { Iterations = 2000, EvalTasks = 200, Seed = 3 }, dir);
            var (maml, mamlOutcome) = run.Train(SineMethod.Maml, showProgress: false);
            var (pretrained, _) = run.Train(SineMethod.Pretrained, showProgress: false);
            using (maml)
            using (pretrained)
            {
                Assert.True(mamlOutcome.Completed);
                Assert.Equal(2000, mamlOutcome.Iterations);
                Assert.True(mamlOutcome.LossCurve[^1] < mamlOutcome.LossCurve[0], "MAML's meta-loss should fall during training");
                var mamlAfter10 = Summary.Of(run.Evaluate(maml, k: 10)[10]);
                var pretrainedAfter10 = Summary.Of(run.Evaluate(pretrained, k: 10)[10]);
                Assert.True(mamlAfter10.Mean + mamlAfter10.Ci95 < pretrainedAfter10.Mean - pretrainedAfter10.Ci95,
                    $"MAML after 10 steps {mamlAfter10} should be below pretrained {pretrainedAfter10}");
            }
            Assert.True(File.Exists(run.ModelPath(SineMethod.Maml)));
            Assert.True(File.Exists(run.CheckpointPath(SineMethod.Maml)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ResumingFromACheckpointContinuesWhereTheRunStopped()
    {
        var dir = Directory.CreateTempSubdirectory("mn-maml-resume-").FullName;
        try
        {
            var config = new MamlSineConfig { Iterations = 60, MetaBatch = 5, EvalTasks = 10 };
            var straight = new MamlSine(config, Path.Combine(dir, "a"));
            var (m1, o1) = straight.Train(SineMethod.Maml, showProgress: false);

            var interrupted = new MamlSine(config with { Iterations = 25 }, Path.Combine(dir, "b"));
            interrupted.Train(SineMethod.Maml, showProgress: false).Model.Dispose();
            var resumed = new MamlSine(config, Path.Combine(dir, "b"));
            var (m2, o2) = resumed.Train(SineMethod.Maml, showProgress: false);
            using (m1)
            using (m2)
            {
                Assert.Equal(60, o2.Iterations);
                foreach (var (a, b) in m1.parameters().Zip(m2.parameters()))
                    Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6), "a resumed run should land on the uninterrupted run's weights");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TasksWhoseFineTuningDivergesAreCountedNotAveraged()
    {
        var dir = Directory.CreateTempSubdirectory("mn-maml-diverge-").FullName;
        try
        {
            // A step size 30 times the paper's makes plain SGD overflow on some tasks: they are reported, not averaged.
            // Untrained (0 iterations) from nn.Linear's init, stated: from the paper code's (weights within ±0.02, zero
            // biases) the network is too close to the zero function for SGD to overflow in ten steps.
            var run = new MamlSine(new MamlSineConfig { Iterations = 0, EvalTasks = 20, EvalStepSize = 0.3, Init = MamlSineConfig.PyTorchInit }, dir);
            var result = run.Run("test")!;
            var diverged = result.Details!["maml"]!["eval"]!["k5"]!["diverged"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
            Assert.True(diverged[10] > 0, "an overflowing SGD step size should make some tasks diverge");
            Assert.All(diverged, d => Assert.Equal(diverged[10], d));     // a diverged task leaves every step's mean, not only the later ones
            foreach (var column in new[] { "1 step", "10 steps" })
            {
                var cell = result.Cells.Single(c => c.Method == "MAML" && c.Column == column);
                Assert.Equal(20 - diverged[10], cell.Count);
                Assert.True(double.IsFinite(cell.Mean));
                Assert.Contains("left out of every step's mean", cell.Budget);
            }
            Assert.Equal(result.Cells, ResultFile.Load(run.ResultPath).Cells);

            var hopeless = new MamlSine(new MamlSineConfig { Iterations = 0, EvalTasks = 20, EvalStepSize = 3, Init = MamlSineConfig.PyTorchInit }, dir);
            var error = Assert.Throws<InvalidOperationException>(() => hopeless.Run("test"));
            Assert.Contains("every evaluation task diverged", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ResultFilesRoundTripAndFillThePaperReadme()
    {
        var dir = Directory.CreateTempSubdirectory("mn-results-").FullName;
        try
        {
            var original = new ResultFile
            {
                Experiment = "maml-sine", Paper = "finn2017-maml", Command = "./mn reproduce maml-sine --iterations 10",
                Finished = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero), WallSeconds = 12.5, Threads = 1,
                Machine = "test machine", Seed = 4, Config = new JsonObject { ["iterations"] = 10 },
                Cells =
                [
                    new ResultCell("sine-k5", "MAML", "5 steps", 0.5, 0.03, 600, "10 meta-iterations"),
                    new ResultCell("sine-k5", "MAML", "10 steps", 0.4123, 0.0211, 599, "10 meta-iterations; 1 of 600 test tasks diverged"),
                ],
                Details = new JsonObject { ["note"] = "x" },
            };
            var path = Path.Combine(dir, "results", "maml-sine.json");
            original.Save(path);
            var loaded = ResultFile.Load(path);
            Assert.Equal(original.Cells, loaded.Cells);
            Assert.Equal(original.Command, loaded.Command);
            Assert.Equal(original.WallSeconds, loaded.WallSeconds);
            Assert.Equal(original.Commit, loaded.Commit);

            // A run outside a git checkout records no commit; loading it must not report today's.
            (original with { Commit = null }).Save(path);
            Assert.Null(ResultFile.Load(path).Commit);
            original.Save(path);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));

            var repoPublished = Path.Combine(RepositoryRoot.Find(), "papers", "finn2017-maml", "published.json");
            File.Copy(repoPublished, Path.Combine(dir, "published.json"));
            var readme = PaperReport.Write(dir);
            Assert.Contains("| MAML | 0.67 | – | – | 0.38 | 0.50 ± 0.03 | +0.12 | 0.35 | 0.412 ± 0.021 | +0.062 |", readme);
            // Budgets that differ between columns say which column each belongs to.
            Assert.Contains("- MAML (5 steps): 10 meta-iterations\n", readme.ReplaceLineEndings("\n"));
            Assert.Contains("- MAML (10 steps): 10 meta-iterations; 1 of 600 test tasks diverged\n", readme.ReplaceLineEndings("\n"));
            Assert.Contains("./mn reproduce maml-sine --iterations 10", readme);

            File.WriteAllText(path, "{ not json");
            var error = Assert.Throws<InvalidDataException>(() => ResultFile.Load(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "no-such-experiment" }, "unknown experiment")]
    [InlineData(new[] { "--iterations", "-5" }, "--iterations must be ≥ 0")]
    [InlineData(new[] { "--meta-batch", "0" }, "--meta-batch must be positive")]
    [InlineData(new[] { "--iterations", "ten" }, "expects an integer")]
    [InlineData(new[] { "--no-such-option", "1" }, "unknown option")]
    [InlineData(new[] { "matching-omniglot", "--kernel", "euclid" }, "--kernel: unknown matching kernel 'euclid'")]
    public void BadOptionsGiveClearErrors(string[] args, string message)
    {
        var error = Assert.Throws<UsageException>(() => new ReproduceCommand().Run(args));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void NonPositiveKIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new MamlSineConfig { K = 0 }.Validate());
        Assert.Contains("K must be positive", error.Message);
        Assert.Throws<ArgumentException>(() => new MamlSineConfig { EvalK = [5, -1] }.Validate());
    }

    [Fact]
    public void TheNetworkStartsWithNnLinearsInitOrThePaperCodesWhenAskedAndTheResultFileSaysWhich()
    {
        var config = new MamlSineConfig();
        Assert.Equal(MamlSineConfig.PyTorchInit, config.Init);
        Assert.Equal(MamlSineConfig.PyTorchInit, config.ToJson()["init"]!.GetValue<string>());      // the result file states it
        using (var model = new MamlSine(config, "unused").NewModel(SineMethod.Maml))
            Assert.True(model.parameters()[2].abs().max().item<float>() > 0.1f);                // nn.Linear's bound 1/√40 ≈ 0.158
        var paper = config with { Init = MamlSineConfig.PaperCodeInit };
        Assert.Equal(MamlSineConfig.PaperCodeInit, paper.ToJson()["init"]!.GetValue<string>());
        using (var model = new MamlSine(paper, "unused").NewModel(SineMethod.Maml))
        {
            var p = model.parameters();
            Assert.Equal(0f, p[1].abs().max().item<float>());                                   // zero biases
            Assert.InRange(p[2].abs().max().item<float>(), 0.015f, 0.02f);                     // weights within 2σ = 0.02
        }
        Assert.Throws<ArgumentException>(() => (config with { Init = "zeros" }).Validate());
    }
}
