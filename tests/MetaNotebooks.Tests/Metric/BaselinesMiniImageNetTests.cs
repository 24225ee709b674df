using MetaNotebooks.Algorithms.Baselines;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Ravi &amp; Larochelle's baselines: the classifier's classes, fine-tuning, and a whole tiny run that resumes.</summary>
public class BaselinesMiniImageNetTests(ITestOutputHelper output)
{
    /// <summary>Random 3×20×20 uint8 images, 20 per class, classes named prefix0, prefix1, …</summary>
    private static ClassIndexedDataset Tiny(string prefix, int classes, ulong seed)
    {
        using var g = new Generator(seed);
        var images = randint(0, 256, [classes * 20, 3, 20, 20], g).to(ScalarType.Byte);
        return new ClassIndexedDataset(prefix, images, Enumerable.Range(0, classes).Select(c => $"{prefix}{c}").ToArray(), Enumerable.Repeat(20, classes).ToArray(),
                                       MiniImageNet.Normalizer(ImageNormalization.UnitRange));
    }

    /// <summary>As <see cref="Tiny"/>, but each class is its own random pattern (plus a little noise per image): something to learn.</summary>
    private static ClassIndexedDataset Patterns(int classes, ulong seed, string prefix)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(seed);
        var patterns = randint(0, 200, [classes, 1, 3, 20, 20], g).expand(classes, 20, 3, 20, 20);
        var images = (patterns + randint(0, 56, [classes, 20, 3, 20, 20], g)).reshape(classes * 20, 3, 20, 20).to(ScalarType.Byte);
        return new ClassIndexedDataset(prefix, images, Enumerable.Range(0, classes).Select(c => $"{prefix}{c}").ToArray(), Enumerable.Repeat(20, classes).ToArray(),
                                       MiniImageNet.Normalizer(ImageNormalization.UnitRange));
    }

    private static BaselinesMiniImageNetConfig TinyConfig(int iterations) => new()
    {
        Iterations = iterations, BatchSize = 8, Filters = 8, CurveEvery = 2, CurveEpisodes = 3, EvalEpisodes = 4, ValidationEpisodes = 2,
        FineTuneSteps = 2, FineTuneRates = [0.01, 0.1],
    };

    [RequiresDataFact("mini-imagenet/train.csv", "mini-imagenet/val.csv", "mini-imagenet/test.csv")]
    public void TheClassifierIsBuiltForTheTrainClassesWhichNoOtherSplitHas()
    {
        var paths = DataPaths.Default;
        var classes = MiniImageNet.Splits.ToDictionary(s => s, s => File.ReadLines(paths.Find($"mini-imagenet/{s}.csv", "")).Skip(1).Select(l => l.Split(',')[1]).Distinct().ToArray());
        Assert.Empty(classes["train"].Intersect(classes["test"]));
        Assert.Empty(classes["train"].Intersect(classes["val"]));
        var experiment = new BaselinesMiniImageNet(new BaselinesMiniImageNetConfig(), Path.GetTempPath());
        using var model = experiment.NewClassifier(classes["train"].Length, [3, 84, 84]);
        Assert.Equal((64, 800L), (model.Classes, model.Head.InFeatures));
    }

    [Fact]
    public void ATrainingSetThatSharesATestClassIsRefused()
    {
        using var train = Tiny("c", 6, 1);
        using var test = Tiny("c", 3, 2);   // c0, c1, c2: also training classes
        using var dir = new TempDirectory();
        var experiment = new BaselinesMiniImageNet(TinyConfig(2), dir.Path);
        var e = Assert.Throws<ArgumentException>(() => experiment.Pretrain(train, test, showProgress: false));
        Assert.Contains("shares 3 class(es)", e.Message);
        Assert.False(File.Exists(experiment.CheckpointPath), "a checkpoint was written before the check");
    }

    [Fact]
    public void FineTuningLearnsNewClassesAndLeavesThePretrainedWeightsAlone()
    {
        set_num_threads(1);
        // Pretrained briefly on 8 pattern classes (batch norm needs its running statistics: an untrained body's features
        // in eval mode are nearly constant), then fine-tuned on episodes of 5 other pattern classes.
        using var train = Patterns(8, 3, "train");
        using var test = Patterns(5, 4, "test");
        using var dir = new TempDirectory();
        var experiment = new BaselinesMiniImageNet(TinyConfig(40) with { CurveEvery = 0, Filters = 32 }, dir.Path);
        var (model, _, _, _) = experiment.Pretrain(train, test, showProgress: false);
        using (model)
        {
            var before = model.Body.parameters().Select(p => p.clone()).ToList();
            using var sampler = new EpisodeSampler(test, 5, 1, 5, seed: 4);
            using var batch = sampler.Sample(2);
            using (no_grad())
            {
                var untuned = EpisodeMetrics.Accuracy(new FineTuneBaseline(model.Body, 1, 1e-9).Scores(batch, 5), batch.QueryTargets);
                var tuned = EpisodeMetrics.Accuracy(new FineTuneBaseline(model.Body, 30, 0.03).Scores(batch, 5), batch.QueryTargets);
                output.WriteLine($"query accuracy, no real step: {string.Join(", ", untuned)}; after 30 steps of 0.03: {string.Join(", ", tuned)}");
                Assert.True(tuned.Average() >= untuned.Average() + 0.2, $"fine-tuning lifted query accuracy only from {untuned.Average():0.00} to {tuned.Average():0.00}");
            }
            Assert.All(model.Body.parameters().Zip(before), p => Assert.True(equal(p.First, p.Second), "fine-tuning changed the pretrained weights"));
            Assert.True(model.Body.training, "the body's mode was not restored");
        }
    }

    [Fact]
    public void ATinyRunScoresBothBaselinesAndResumesFromItsCheckpoint()
    {
        set_num_threads(1);
        using var train = Tiny("train", 8, 1);
        using var val = Tiny("val", 5, 2);
        using var test = Tiny("test", 6, 3);
        using var dir = new TempDirectory();
        var first = new BaselinesMiniImageNet(TinyConfig(3), dir.Path).Run(train, val, test, "first", log: TextWriter.Null)!;
        Assert.Equal(3, first.Details!["iterations"]!.GetValue<int>());
        var experiment = new BaselinesMiniImageNet(TinyConfig(5), dir.Path);
        var second = experiment.Run(train, val, test, "second", log: TextWriter.Null)!;
        Assert.Equal(5, second.Details!["iterations"]!.GetValue<int>());
        Assert.Equal(["Baseline-nearest-neighbor 1-shot", "Baseline-finetune 1-shot", "Baseline-nearest-neighbor 5-shot", "Baseline-finetune 5-shot"],
                     second.Cells.Select(c => $"{c.Method} {c.Column}").ToArray());
        Assert.All(second.Cells, c => Assert.Equal(4, c.Count));
        Assert.Equal(train.ClassNames, second.Details["training_classes"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray());
        // Curve points at steps 0, 2 (first invocation) and 4 (second), then the full 1-shot test at 5.
        Assert.Equal([0, 2, 4, 5], second.Details["nearest_neighbour_curve"]!.AsArray().Select(p => p!["iteration"]!.GetValue<int>()).ToArray());
        Assert.Equal(2, second.Details["fine_tune_rate_search_1-shot"]!.AsObject().Count);
        Assert.True(File.Exists(experiment.ModelPath));
        output.WriteLine(string.Join("\n", second.Cells.Select(c => $"{c.Method} {c.Column}: {c.Mean:0.0} ± {c.Ci95:0.0}; {c.Budget}")));
    }
}
