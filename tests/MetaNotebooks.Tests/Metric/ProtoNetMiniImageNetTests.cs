using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;
using Xunit.Abstractions;

namespace MetaNotebooks.Tests.Metric;

/// <summary>Mini-ImageNet's train and test splits, loaded once for the tests that share them (from the cache).</summary>
public sealed class MiniImageNetSplits : IDisposable
{
    public const string TrainCsv = "mini-imagenet/train.csv", TestCsv = "mini-imagenet/test.csv", Images = "mini-imagenet/images";
    private readonly Lazy<ClassIndexedDataset> train = new(() => MiniImageNet.Load("train"));
    private readonly Lazy<ClassIndexedDataset> test = new(() => MiniImageNet.Load("test"));
    public ClassIndexedDataset Train => train.Value;
    public ClassIndexedDataset Test => test.Value;

    public void Dispose()
    {
        if (train.IsValueCreated) train.Value.Dispose();
        if (test.IsValueCreated) test.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class MiniImageNetSplitsCollection : ICollectionFixture<MiniImageNetSplits>
{
    public const string Name = "Mini-ImageNet splits (real data, one load per run)";
}

/// <summary>
/// Prototypical networks on Mini-ImageNet: short seeded training on the real images beats the untrained model on the
/// shared test episodes; the experiment scores exactly the shared episodes; a budget-stopped run resumes to the same
/// numbers as an uninterrupted one. One libtorch thread.
/// </summary>
[Collection(MiniImageNetSplitsCollection.Name)]
public class ProtoNetMiniImageNetTests(MiniImageNetSplits data, ITestOutputHelper output)
{
    private const string TrainCsv = MiniImageNetSplits.TrainCsv, TestCsv = MiniImageNetSplits.TestCsv, Images = MiniImageNetSplits.Images;

    [RequiresDataFact(TrainCsv, TestCsv, Images)]
    public void TwoHundredSeededEpisodesOnRealImagesLowerTheLossAndScoreAboveChance()
    {
        set_num_threads(1);
        // 32 filters and 5-way 1-shot 5-query episodes instead of the paper's 64 and 30-way 15-query: the same code path
        // at about a twentieth of the cost. Not enough training to beat the untrained net, whose random features already
        // score ~26% (the first hundreds of episodes mostly shrink the huge initial distances: the loss starts near 75).
        using var g = new Generator(5);
        var learner = new PrototypicalNetwork(new ConvEncoder(3, filters: 32, generator: g));
        using var model = learner.Model;
        var options = new EpisodeTrainingOptions { Iterations = 200, Ways = 5, Shots = 1, Queries = 5, Seed = 5, CurveEvery = 50, ShowProgress = false, HalveEvery = 0 };
        var outcome = EpisodeTrainer.Train(learner, data.Train, options, checkpointPath: null);
        var after = EpisodeTrainer.Percent(EpisodeTrainer.Evaluate(learner, data.Test, 5, 1, 15, episodes: 50));
        output.WriteLine($"loss per 50 episodes {string.Join(" → ", outcome.LossCurve.Select(l => l.ToString("0.00")))}; 5-way 1-shot on the first 50 shared test episodes: {after} (chance 20%)");
        Assert.True(outcome.LossCurve[^1] < 0.2 * outcome.LossCurve[0], $"the loss went from {outcome.LossCurve[0]:0.00} to {outcome.LossCurve[^1]:0.00}");
        Assert.True(after.Mean - after.Ci95 > 20, $"after {options.Iterations} episodes: {after}, not above chance (20%)");
    }

    /// <summary>
    /// Records which images it is asked to score, as two fixed random projections of each image (a fingerprint: the test
    /// split has no two identical images), on both evaluation paths: images through the model, or embedded once.
    /// </summary>
    private sealed class EpisodeRecorder : IEmbeddingClassifier
    {
        private readonly Tensor projection = randn([3 * 84 * 84, 2], new Generator(3), ScalarType.Float64).DetachFromDisposeScope();
        public List<(Tensor Support, Tensor Query, Tensor QueryTargets)> Seen { get; } = [];
        public string Name => "recorder";

        public Tensor Fingerprint(Tensor images) =>   // [..., 3, 84, 84] → [..., 2]
            images.reshape(-1, 3 * 84 * 84).to(ScalarType.Float64).matmul(projection).reshape([.. images.shape[..^3], 2]);

        public Tensor Scores(TaskBatch batch, int ways) => Record(Fingerprint(batch.SupportInputs), Fingerprint(batch.QueryInputs), batch.QueryTargets, ways);
        public Tensor EmbedImages(Tensor images) => Fingerprint(images).view(-1, 2, 1, 1);
        public Tensor ScoresFromEmbeddings(TaskBatch embedded, int ways) =>
            Record(embedded.SupportInputs.flatten(2), embedded.QueryInputs.flatten(2), embedded.QueryTargets, ways);

        private Tensor Record(Tensor support, Tensor query, Tensor queryTargets, int ways)
        {
            Seen.Add((support.clone().DetachFromDisposeScope(), query.clone().DetachFromDisposeScope(), queryTargets.clone().DetachFromDisposeScope()));
            return zeros(query.size(0), query.size(1), ways);
        }
    }

    [RequiresDataTheory(TestCsv, Images)]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(5, true)]
    [InlineData(5, false)]
    public void EvaluationScoresExactlyTheSharedTestEpisodes(int shots, bool embedOnce)
    {
        // The one definition every Mini-ImageNet method uses (MAML calls it directly): the first episodes of this sampler.
        const int episodes = 7;
        using var test = MiniImageNet.Load("test");
        using var shared = EpisodeTrainer.EvaluationEpisodes(test, 5, shots, 15, EpisodeTrainer.EvaluationSeed);
        using var expected = shared.Sample(episodes);
        var recorder = new EpisodeRecorder();
        EpisodeTrainer.Evaluate(recorder, data.Test, 5, shots, 15, episodes, chunk: 3, embedOnce: embedOnce);
        Assert.Equal([3, 3, 1], recorder.Seen.Select(b => (int)b.Support.size(0)));
        using var scope = NewDisposeScope();
        Assert.True(allclose(recorder.Fingerprint(expected.SupportInputs), cat(recorder.Seen.Select(b => b.Support).ToList(), 0), rtol: 1e-9, atol: 1e-6),
                    "the support images differ from the shared episodes'");
        Assert.True(allclose(recorder.Fingerprint(expected.QueryInputs), cat(recorder.Seen.Select(b => b.Query).ToList(), 0), rtol: 1e-9, atol: 1e-6),
                    "the query images differ from the shared episodes'");
        Assert.True(equal(expected.QueryTargets, cat(recorder.Seen.Select(b => b.QueryTargets).ToList(), 0)));
        // Not a vacuous comparison: the episodes of another seed are other images.
        using var other = EpisodeTrainer.EvaluationEpisodes(test, 5, shots, 15, EpisodeTrainer.EvaluationSeed + 1).Sample(episodes);
        Assert.False(allclose(recorder.Fingerprint(other.QueryInputs), recorder.Fingerprint(expected.QueryInputs)));
    }

    /// <summary>A tiny 3-channel dataset of random 20×20 images (uint8, normalised like Mini-ImageNet), for fast runs of the experiment.</summary>
    private static ClassIndexedDataset Tiny(string name, int classes, ulong seed)
    {
        using var g = new Generator(seed);
        var images = randint(0, 256, [classes * 20, 3, 20, 20], g).to(ScalarType.Byte);
        return new ClassIndexedDataset(name, images, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), Enumerable.Repeat(20, classes).ToArray(),
                                       MiniImageNet.Normalizer(ImageNormalization.UnitRange));
    }

    private static MetricOmniglotConfig TinyConfig(int iterations, double? hours = null) =>
        Prototypical.MiniImageNetConfig(1, iterations, seed: 1, trainWays: 5, curveEvery: 2, curveEpisodes: 4) with
        {
            EvalEpisodes = 10, EvalQueries = 3, Hours = hours,
            Runs = [.. Prototypical.MiniImageNetConfig(1, iterations, 1, 5).Runs.Select(r => r with { Training = r.Training with { Queries = 2, ShowProgress = false, CurveEvery = 1 } })],
        };

    private static MetricOmniglot Experiment(MetricOmniglotConfig config, string dir) =>
        new(config, run => Prototypical.NewLearner(101, inChannels: 3), dir);

    [Fact]
    public void AStoppedRunResumesToTheNumbersOfAnUninterruptedOne()
    {
        set_num_threads(1);
        using var train = Tiny("tiny train", 8, 1);
        using var test = Tiny("tiny test", 6, 2);
        using var whole = new TempDirectory();
        using var split = new TempDirectory();

        var uninterrupted = Experiment(TinyConfig(6), whole.Path).Run(train, test, "whole", log: TextWriter.Null)!;
        // The first invocation plans 3 episodes and stops; the second, planning 6, resumes from its checkpoint.
        var first = Experiment(TinyConfig(3), split.Path);
        var stopped = first.Run(train, test, "first", log: TextWriter.Null)!;
        Assert.True(File.Exists(first.CheckpointPath(first.Config.Runs[0])));
        Assert.True(File.Exists(first.CurvePath(first.Config.Runs[0])));
        var resumed = Experiment(TinyConfig(6), split.Path).Run(train, test, "second", log: TextWriter.Null)!;

        var slug = uninterrupted.Config["runs"]![0]!["slug"]!.GetValue<string>();
        Assert.Equal(3, stopped.Details![slug]!["iterations"]!.GetValue<int>());
        Assert.Equal(6, resumed.Details![slug]!["iterations"]!.GetValue<int>());
        Assert.Equal(uninterrupted.Details![slug]!["per_episode_accuracy"]!.ToJsonString(), resumed.Details[slug]!["per_episode_accuracy"]!.ToJsonString());
        Assert.Equal(uninterrupted.Details[slug]!["loss_curve"]!.ToJsonString(), resumed.Details[slug]!["loss_curve"]!.ToJsonString());
        // The curve: points at 0, 2, 4 on the first 4 test episodes (each measured once, across the two invocations), then the full test at 6.
        var curve = resumed.Details[slug]!["accuracy_curve"]!.AsArray().Select(p => (p!["iteration"]!.GetValue<int>(), p["episodes"]!.GetValue<int>())).ToArray();
        Assert.Equal([(0, 4), (2, 4), (4, 4), (6, 10)], curve);
        Assert.Equal(uninterrupted.Details[slug]!["accuracy_curve"]!.ToJsonString(), resumed.Details[slug]!["accuracy_curve"]!.ToJsonString());
        var cell = Assert.Single(resumed.Cells);
        Assert.Equal(("miniimagenet", "Prototypical Nets (5-way training)", "1-shot", 10), (cell.Table, cell.Method, cell.Column, cell.Count));
        Assert.Equal(Math.Round(cell.Mean, 3), ResultFile.Load(Path.Combine(split.Path, "results", "protonet-miniimagenet-1shot-train5way.json")).Cells[0].Mean, 3);
        output.WriteLine($"{cell.Method} {cell.Column}: {cell.Mean:0.00} ± {cell.Ci95:0.00}; budget: {cell.Budget}");
    }

    [Fact]
    public void ABudgetStopsTrainingScoresWhatItReachedAndKeepsTheCheckpoint()
    {
        set_num_threads(1);
        using var train = Tiny("tiny train", 8, 1);
        using var test = Tiny("tiny test", 6, 2);
        using var dir = new TempDirectory();
        var experiment = Experiment(TinyConfig(100_000, hours: 1e-9), dir.Path);
        var result = experiment.Run(train, test, "budget", log: TextWriter.Null)!;
        var cell = Assert.Single(result.Cells);
        Assert.Equal(10, cell.Count);
        Assert.Contains("of 100,000 planned episodes", cell.Budget);
        Assert.True(File.Exists(experiment.CheckpointPath(experiment.Config.Runs[0])), "the budget-stopped run left no checkpoint to resume");
        Assert.False(result.Details![experiment.Config.Runs[0].Slug]!["completed"]!.GetValue<bool>());
    }

    [Fact]
    public void TheTrainingWayAndSeedNameTheirOwnRowAndFile()
    {
        var paper = Prototypical.MiniImageNetConfig(1, 10);
        Assert.Equal(("protonet-miniimagenet-1shot", "Prototypical Nets", 30, 15), (paper.Experiment, paper.Method, paper.Runs[0].Training.Ways, paper.Runs[0].Training.Queries));
        var five = Prototypical.MiniImageNetConfig(5, 10);
        Assert.Equal(("protonet-miniimagenet-5shot", 20, 5), (five.Experiment, five.Runs[0].Training.Ways, five.Runs[0].Training.Shots));
        Assert.Equal([(5, 5)], five.Runs[0].Evaluations);
        var cheap = Prototypical.MiniImageNetConfig(1, 10, seed: 2, trainWays: 5);
        Assert.Equal(("protonet-miniimagenet-1shot-train5way-seed2", "Prototypical Nets (5-way training, seed 2)"), (cheap.Experiment, cheap.Method));
        Assert.Throws<ArgumentException>(() => Prototypical.MiniImageNetConfig(2, 10));
    }
}
