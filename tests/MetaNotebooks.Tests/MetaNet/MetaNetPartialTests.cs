using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Cli;
using MetaNotebooks.Cli.Commands;
using MetaNotebooks.Data;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNotebooks.Tests.Data;
using MetaNetLearner = MetaNotebooks.Algorithms.MetaNet.MetaNet;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>
/// The Mini-ImageNet model, <c>MetaNetPartial</c> (docs/metanet.md §7.1): its shapes and sizes, and what differs from the
/// Omniglot model <c>MetaNetFull</c>: a slow-only batch-norm trunk, fast weights on the last two blocks, fc1 and the
/// head only, batch statistics per trunk call in training and running averages at test, untrained 5-way test heads.
/// </summary>
public class MetaNetPartialTests
{
    /// <summary>A random 10-way 1-shot episode of 3×84×84 images with `queries` per class.</summary>
    private static TaskBatch Episode(int ways, int queries, ulong seed, ScalarType dtype = ScalarType.Float32)
    {
        using var g = new Generator(seed);
        return new TaskBatch(rand([1, ways, 3, 84, 84], g, dtype), arange((long)ways).unsqueeze(0),
                             rand([1, ways * queries, 3, 84, 84], g, dtype),
                             tensor(Enumerable.Range(0, ways * queries).Select(i => (long)(i / queries)).ToArray(), [1, ways * queries]));
    }

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void TheMiniImageNetModelHasTheSpecsShapesAndSizes()
    {
        using var metanet = new MetaNetLearner(MetaNetOptions.MiniImageNet);
        var model = metanet.Network;
        Assert.Equal((MetaNetArchitecture.Partial, 10, 32, 10), (metanet.Options.Architecture, metanet.Options.Ways, metanet.Options.Filters, metanet.Options.TaskSteps));
        Assert.Equal(18_432, model.ConvLayout.Size);                 // P_conv = 2 · 9,216 (blocks 4 and 5 only)
        Assert.Equal(85_824, model.BaseFcLayout(10).Size);           // P_fc = 82,944 + 288 · 10
        Assert.Equal(84_384, model.BaseFcLayout(5).Size);            // with the 5-way test head
        Assert.Equal(288, model.Base.FeatureSize);
        Assert.Equal(new long[] { 288, 288 }, model.Base.Fc1Weight.shape);
        Assert.Equal(new long[] { 5, 288 }, model.Base.HeadFor(5)!.shape);
        // b: trunk convs 864 + 2 · 9,216, BN γ, β 3 · 64; augmented convs 2 · 9,216, fc1 82,944, head 2,880.
        var trunk = 864 + 2 * 9_216 + 3 * 64;
        Assert.Equal(trunk, Count(model.Base.SlowTrunk!));
        Assert.Equal(trunk + 18_432 + 82_944 + 2_880, Count(model.Base));
        Assert.Equal(Count(model.Base), Count(model.Embedding));     // u the same (its head never trained)
        Assert.Equal(2 * Count(model.Base) + 2 * 501 + 2 * 1_861, Count(model));
        Assert.Equal(new[] { "b.conv4.weight", "b.conv5.weight", "b.fc1.weight", "b.head.weight", "b.trunk.conv1.weight" },
                     model.named_parameters().Select(p => p.name).Where(n => n.StartsWith("b.")).Take(5));
        Assert.Equal(12, model.named_buffers().Count());              // running mean and variance of 3 BN layers in b and in u

        using var scope = NewDisposeScope();
        var x = rand(4, 3, 84, 84);
        var features = model.Base.Trunk(x);
        Assert.Equal(new long[] { 4, 32, 11, 11 }, features.shape);  // 84 → 42 → 21 → 11 (ceil)
        Assert.Equal(new long[] { 4, 288 }, AugmentedConvNet.Features(features, [model.Base.Slow(10)]).shape);   // 11 → 6 → 3
        Assert.Equal(new long[] { 4, 10 }, model.Base.forward(x).shape);
    }

    [Fact]
    public void AnEpisodeGivesTheSpecsShapesAndAFiniteSummedLoss()
    {
        using var scope = NewDisposeScope();
        using var metanet = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 8 });
        using var batch = Episode(10, 2, 1);
        var e = metanet.Run(batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], 10);
        var d = 8 * 3 * 3;
        Assert.Equal(new long[] { 20, 10 }, e.Logits.shape);
        Assert.Equal(new long[] { 10, 2 * 8 * 8 * 9 }, e.MemoryConv.shape);
        Assert.Equal(new long[] { 10, d * d + 10 * d }, e.MemoryFc.shape);
        Assert.Equal(new long[] { 10, d }, e.SupportKeys.shape);
        Assert.Equal(new long[] { 20, 10 }, e.Attention.shape);
        Assert.Equal(2, e.TaskFastWeights!.Convs.Count);
        var loss = metanet.Loss(batch, 10);
        Assert.True(double.IsFinite(loss.item<double>()) && loss.item<double>() > 0);
    }

    [Fact]
    public void TheFullModelIsFastEverywhereAndThePartialOnlyAfterItsTrunk()
    {
        using var full = new MetaNetLearner(new MetaNetOptions { Filters = 8 });
        using var partial = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 8 });
        Assert.Null(full.Network.Base.SlowTrunk);
        Assert.Empty(full.Network.named_buffers());
        Assert.Equal(5, full.Network.ConvLayout.Shapes.Count);       // every conv block has fast weights
        Assert.Equal(2, partial.Network.ConvLayout.Shapes.Count);    // blocks 4 and 5 only
        Assert.Equal(3, partial.Network.Base.SlowTrunk!.Blocks);
        // The Omniglot network reads its images directly: the trunk is the identity.
        using var scope = NewDisposeScope();
        var x = rand(2, 1, 28, 28);
        Assert.Same(x, full.Network.Base.Trunk(x));
    }

    [Fact]
    public void TrainingNormalisesEachTrunkCallWithItsBatchAndTestingUsesTheRunningAverages()
    {
        using var scope = NewDisposeScope();
        using var metanet = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 4, Seed = 2 }, ScalarType.Float64);
        using var batch = Episode(10, 1, 3, ScalarType.Float64);
        var (xs, ys, xq) = (batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0]);
        var model = metanet.Network;
        // The first BN layer's batch means of its conv outputs on the support set and on the queries.
        Tensor Mean(AugmentedConvNet net, Tensor x)
        {
            using var _ = no_grad();
            return F.conv2d(x, net.SlowTrunk!.parameters()[0], padding: 1).mean([0, 2, 3]);
        }
        var (bs, bq, us, uq) = (Mean(model.Base, xs), Mean(model.Base, xq), Mean(model.Embedding, xs), Mean(model.Embedding, xq));
        Tensor Running(AugmentedConvNet net) => net.SlowTrunk!.named_buffers().First(b => b.name == "bn1.running_mean").buffer;

        model.train();
        metanet.Run(xs, ys, xq, 10);
        // b's trunk runs on the support set (for ∇ᵢ), then on the queries: two updates at momentum 0.1 from 0.
        Assert.True(Running(model.Base).allclose(0.9 * 0.1 * bs + 0.1 * bq, 1e-9, 1e-12));
        // u's on the support set for d's gradients, again for the support keys, then on the queries: three updates.
        Assert.True(Running(model.Embedding).allclose(0.9 * (0.9 * 0.1 * us + 0.1 * us) + 0.1 * uq, 1e-9, 1e-12));

        // Evaluation uses (and keeps) the running averages in every pass: the same logits on every call.
        model.eval();
        var before = Running(model.Embedding).clone();
        var first = metanet.Run(xs, ys, xq, 10).Logits;
        var second = metanet.Run(xs, ys, xq, 10).Logits;
        Assert.True(first.equal(second));
        Assert.True(Running(model.Embedding).equal(before));
        Assert.True(Running(model.Base).allclose(0.9 * 0.1 * bs + 0.1 * bq, 1e-9, 1e-12));
    }

    [Fact]
    public void ATrainingStepReachesEveryTrainedPartAndNeverTheHeadsOfU()
    {
        using var scope = NewDisposeScope();
        using var metanet = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 4, Seed = 3 });
        using var batch = Episode(10, 1, 4);
        metanet.Loss(batch, 10).backward();
        foreach (var (name, p) in metanet.Network.named_parameters())
        {
            var reached = p.grad is { } g && g.abs().sum().item<double>() > 0;
            // u's head only gives d its cross-entropy gradients (spec §9.3); everything else learns, the trunks included.
            Assert.True(name == "u.head.weight" ? !reached : reached, $"{name}: {(reached ? "has" : "has no")} gradient");
        }
    }

    [Fact]
    public void TenWayTrainingScoresFiveWayThroughUntrainedTestHeads()
    {
        using var scope = NewDisposeScope();
        using var metanet = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 4 });
        using var five = Episode(5, 3, 5);
        var scores = metanet.Scores(five, 5);
        Assert.Equal(new long[] { 1, 15, 5 }, scores.shape);
        var head = metanet.Network.Base.HeadFor(5)!;
        Assert.DoesNotContain(metanet.Network.parameters(), p => ReferenceEquals(p, head));
        var error = Assert.Throws<ArgumentException>(() => metanet.Loss(five, 5));
        Assert.Contains("10-way heads", error.Message);
    }

    [Fact]
    public void ImagesOfTheOtherArchitectureAreRejectedWithTheShapeItReads()
    {
        using var scope = NewDisposeScope();
        using var partial = new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 4 });
        var omniglot = rand(5, 1, 28, 28);
        var error = Assert.Throws<ArgumentException>(() => partial.Run(omniglot, arange(5L), omniglot, 5));
        Assert.Contains("support images must be [B, 3, 84, 84], got [5, 1, 28, 28]", error.Message);
        using var full = new MetaNetLearner(new MetaNetOptions { Filters = 4 });
        var miniImageNet = rand(5, 3, 84, 84);
        Assert.Contains("[B, 1, 28, 28]", Assert.Throws<ArgumentException>(() => full.Run(miniImageNet, arange(5L), miniImageNet, 5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetaNetLearner(MetaNetOptions.MiniImageNet with { Architecture = (MetaNetArchitecture)9 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetaNetLearner(MetaNetOptions.MiniImageNet with { Ways = 1 }));
        Assert.Throws<NotSupportedException>(() => MetaNetMechanism.Episode(partial, Episode(5, 1, 6), 5));
    }

    [Fact]
    public void TheCellIsTheAuthorsMiniImageNetScript()
    {
        var cell = MetaNetMiniImageNet.Cell(10);
        Assert.Equal(("metanet-miniimagenet-1shot", "munkhdalai2017-metanet", "MetaNet", "miniimagenet", "train"), (cell.Experiment, cell.PaperId, cell.Method, cell.TableId, cell.TrainPart));
        var t = cell.Runs[0].Training;
        Assert.Equal((10, 1, 15, 1e-3, 10.0, 0), (t.Ways, t.Shots, t.Queries, t.LearningRate, t.ClipGradNorm, t.HalveEvery));
        Assert.Equal([(5, 1)], cell.Runs[0].Evaluations);
        Assert.Equal((600, 15, "1-shot"), (cell.EvalEpisodes, cell.EvalQueries, cell.ColumnOf(5, 1)));
        Assert.Equal("metanet-miniimagenet-1shot-seed2", MetaNetMiniImageNet.Cell(10, seed: 2).Experiment);
        using var learner = MetaNetMiniImageNet.NewLearner(3);
        Assert.Equal((MetaNetArchitecture.Partial, 3L), (learner.Options.Architecture, learner.Options.Seed));
    }

    [Theory]
    [InlineData(new[] { "metanet-miniimagenet", "--shots", "5" }, "unknown option(s): --shots")]   // the paper has no 5-shot MetaNet number
    [InlineData(new[] { "metanet-miniimagenet", "--iterations", "-1" }, "iterations must be ≥ 0, got -1")]
    [InlineData(new[] { "metanet-miniimagenet", "--curve-episodes", "700" }, "--curve-episodes between 2 and 600")]
    [InlineData(new[] { "metanet-miniimagenet", "--hours", "0" }, "--hours must be a positive number of hours")]
    public void BadReproductionOptionsGiveClearErrorsBeforeTheDataLoads(string[] args, string message)
    {
        var error = Assert.Throws<UsageException>(() => new ReproduceCommand().Run(args));
        Assert.Contains(message, error.Message);
    }

    /// <summary>Random 3×84×84 uint8 images, `perClass` per class, normalised like Mini-ImageNet: for fast runs of the experiment.</summary>
    private static ClassIndexedDataset Tiny(string name, int classes, int perClass, ulong seed)
    {
        using var g = new Generator(seed);
        var images = randint(0, 256, [classes * perClass, 3, 84, 84], g).to(ScalarType.Byte);
        return new ClassIndexedDataset(name, images, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray(), Enumerable.Repeat(perClass, classes).ToArray(),
                                       MiniImageNet.Normalizer(ImageNormalization.UnitRange));
    }

    private static MetricOmniglot TinyExperiment(int iterations, string dir)
    {
        var cell = MetaNetMiniImageNet.Cell(iterations, curveEvery: 2, curveEpisodes: 2);
        var config = cell with
        {
            EvalEpisodes = 4, EvalQueries = 2,
            Runs = [.. cell.Runs.Select(r => r with { Training = r.Training with { Queries = 2, ShowProgress = false, CurveEvery = 1 } })],
        };
        return new MetricOmniglot(config, run => new MetaNetLearner(MetaNetOptions.MiniImageNet with { Filters = 4, Seed = 5 }), dir);
    }

    /// <summary>
    /// The cell's experiment on tiny random data: 10-way training, 5-way scoring through the test heads, the "1-shot" cell of
    /// the Mini-ImageNet table, and a run stopped after 2 episodes that resumes to exactly the numbers of an uninterrupted
    /// one (the checkpoint carries the batch-norm running averages, which the evaluation uses).
    /// </summary>
    [Fact]
    public void TheCellsExperimentResumesToTheNumbersOfAnUninterruptedRun()
    {
        set_num_threads(1);
        using var train = Tiny("tiny train", 10, 3, 1);
        using var test = Tiny("tiny test", 6, 3, 2);
        using var whole = new TempDirectory();
        using var split = new TempDirectory();
        var uninterrupted = TinyExperiment(4, whole.Path).Run(train, test, "whole", log: TextWriter.Null)!;
        var first = TinyExperiment(2, split.Path);
        Assert.NotNull(first.Run(train, test, "first", log: TextWriter.Null));
        Assert.True(File.Exists(first.CheckpointPath(first.Config.Runs[0])));
        var resumed = TinyExperiment(4, split.Path).Run(train, test, "second", log: TextWriter.Null)!;

        const string slug = "10way";
        Assert.Equal(4, resumed.Details![slug]!["iterations"]!.GetValue<int>());
        foreach (var key in new[] { "per_episode_accuracy", "loss_curve", "accuracy_curve" })
            Assert.Equal(uninterrupted.Details![slug]![key]!.ToJsonString(), resumed.Details[slug]![key]!.ToJsonString());
        var cell = Assert.Single(resumed.Cells);
        Assert.Equal(("miniimagenet", "MetaNet", "1-shot", 4), (cell.Table, cell.Method, cell.Column, cell.Count));
        Assert.StartsWith("MetaNetPartial", cell.Budget);
        Assert.Contains("4 episodes", cell.Budget);
        Assert.Contains("10-way 1-shot 2-query", cell.Budget);
        // The trained models are the same, batch-norm running averages included.
        var a = load(TinyExperiment(4, whole.Path).ModelPath(first.Config.Runs[0]));
        var b = load(first.ModelPath(first.Config.Runs[0]));
        Assert.Contains("b.trunk.bn1.running_mean", a.Keys);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a.Keys, k => Assert.True(a[k].equal(b[k]), $"{k} differs after resuming"));
    }
}
