using MetaNotebooks.Algorithms.MetaNet;
using MetaNotebooks.Models;
using MetaNotebooks.Tasks;
using MetaNetLearner = MetaNotebooks.Algorithms.MetaNet.MetaNet;
using F = MetaNotebooks.Torch.torch.nn.functional;

namespace MetaNotebooks.Tests.MetaNet;

/// <summary>
/// One MetaNet episode on small random problems (8 filters, float64, 28×28 inputs so the five pools reach 1×1):
/// the batched query path against the authors' per-query loop, the first-order meta-information, which parameters
/// learn, and the variants (docs/metanet.md §3–§5, §8, §10.4).
/// </summary>
public class MetaNetEpisodeTests
{
    private const int Ways = 5;

    private static MetaNetOptions Small => new() { Filters = 8, Seed = 11 };

    /// <summary>n-way k-shot with q queries per class, labels class by class (as the episode sampler).</summary>
    private static TaskBatch Problem(int ways = Ways, int shots = 1, int queries = 2, int tasks = 1, ulong seed = 7)
    {
        using var g = new Generator(seed);
        var xs = rand([tasks, ways * shots, 1, 28, 28], g, ScalarType.Float64);
        var xq = rand([tasks, ways * queries, 1, 28, 28], g, ScalarType.Float64);
        Tensor Labels(int per) => tensor(Enumerable.Range(0, tasks * ways * per).Select(i => (long)(i % (ways * per) / per)).ToArray(), [tasks, ways * per]);
        return new TaskBatch(xs, Labels(shots), xq, Labels(queries));
    }

    private static Dictionary<string, Tensor> Gradients(MetaNetLearner metanet, TaskBatch batch, int ways = Ways)
    {
        var named = metanet.Network.named_parameters().ToArray();
        using var loss = metanet.Loss(batch, ways);
        var grads = autograd.grad(loss, named.Select(p => p.parameter).ToArray(), allowUnused: true);
        return named.Select((p, i) => (p.name, grads[i])).ToDictionary(p => p.name, p => p.Item2);
    }

    public static TheoryData<string> Variants => ["MetaNet", "MetaNet−", "MetaNet+", "fast-only"];

    private static MetaNetOptions Variant(string name, bool batched) => name switch
    {
        "MetaNet" => Small with { BatchedQueries = batched },
        "MetaNet−" => Small with { BatchedQueries = batched, TaskLevelFastWeights = false },
        "MetaNet+" => Small with { BatchedQueries = batched, BaseTaskFastWeights = true },
        "fast-only" => Small with { BatchedQueries = batched, FastOnlyBaseLearner = true },
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void BatchedQueriesEqualTheQueryByQueryLoop(string variant)
    {
        using var scope = NewDisposeScope();
        using var batch = Problem(queries: 2);
        using var batched = new MetaNetLearner(Variant(variant, batched: true), ScalarType.Float64);
        using var loop = new MetaNetLearner(Variant(variant, batched: false), ScalarType.Float64);
        var a = batched.Scores(batch, Ways);
        var b = loop.Scores(batch, Ways);
        Assert.Equal(new long[] { 1, 10, Ways }, a.shape);
        Assert.True(a.allclose(b, 1e-10, 1e-12), $"logits differ by {(a - b).abs().max().item<double>()}");
        var ga = Gradients(batched, batch);
        var gb = Gradients(loop, batch);
        // The two paths sum in different orders. At initialisation the fast branches make the logits large, so some
        // gradients are small differences of large terms (m's last bias sums over every coordinate): compare against
        // the scale of the whole gradient.
        var scale = gb.Values.Max(g => g.abs().max().item<double>());
        foreach (var (name, g) in ga)
        {
            var error = (g - gb[name]).abs().max().item<double>();
            Assert.True(error <= 1e-10 * scale, $"{variant}: gradient of {name} differs by {error} (gradient scale {scale})");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ThePhasesComposeToTheEpisodeAndTheSplitBackwardGivesItsGradients(string variant)
    {
        // Information → Generate → Queries is Run; cutting the graph at the generated weights (Leaves) and carrying
        // their gradients on into the generators gives the whole episode's gradients (what `mn bench metanet.episode`
        // times phase by phase).
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var metanet = new MetaNetLearner(Variant(variant, batched: true), ScalarType.Float64);
        var expected = Gradients(metanet, batch);
        var (x, y, xq, yq) = (batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], batch.QueryTargets[0]);
        var information = metanet.Information(x, y, Ways);
        Assert.All(information.Tensors, t => Assert.False(t.requires_grad));
        var generated = metanet.Generate(information, Ways);
        var leaves = generated.Leaves();
        var episode = metanet.Queries(information, leaves, x, xq, Ways);
        Assert.True(episode.Logits.allclose(metanet.Run(x, y, xq, Ways).Logits, 1e-12, 1e-12));
        F.cross_entropy(episode.Logits, yq, reduction: nn.Reduction.Sum).backward();
        generated.Tensors.Zip(leaves.Tensors, (t, l) => (t * l.grad!).sum()).Aggregate((a, b) => a + b).backward();
        foreach (var (name, parameter) in metanet.Network.named_parameters())
        {
            var g = parameter.grad ?? zeros_like(parameter);
            var error = (g - expected[name]).abs().max().item<double>();
            Assert.True(error <= 1e-10 * (1 + expected[name].abs().max().item<double>()), $"{variant}: gradient of {name} differs by {error}");
        }
    }

    [Fact]
    public void TheQueriesFastWeightsAreWhatBRanWith()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var metanet = new MetaNetLearner(Small, ScalarType.Float64);
        var e = metanet.Run(batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], Ways);
        var fast = metanet.ExampleFastWeights(e, Ways);
        Assert.Equal(new long[] { 10, 8, 1, 3, 3 }, fast.Convs[0].shape);     // one set per query
        Assert.Equal(new long[] { 10, Ways, 8 }, fast.Head!.shape);
        var again = AugmentedConvNet.Logits(batch.QueryInputs[0], [metanet.Network.Base.Slow(Ways), fast]);
        Assert.True(again.allclose(e.Logits, 1e-10, 1e-12));
    }

    [Fact]
    public void ActiveFractionCountsTheUnitsEachBranchPassesOn()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(9);
        using var net = new AugmentedConvNet(3, generator: g, dtype: ScalarType.Float64, filters: 6);
        var x = rand([4, 1, 28, 28], g, ScalarType.Float64);
        var slow = net.Slow(3);
        // Inputs of every layer are ≥ 0 (an image, then sums of ReLUs, pooled): all-negative weights never fire.
        var negative = new WeightSet(slow.Convs.Select(w => -w.abs()).ToArray(), -slow.Fc1.abs(), null);
        var a = AugmentedConvNet.ActiveFraction(x, [slow, negative, slow]);
        Assert.Equal(new long[] { 3, AugmentedConvNet.Blocks + 1 }, a.shape);
        Assert.Equal(0, a[1].abs().sum().item<double>());
        Assert.True(a[0].equal(a[2]));
        Assert.All(a[0].ToArray<double>(), f => Assert.InRange(f, 0.05, 0.95));
        // The dead branch adds nothing, so the slow branch sees the same inputs as alone.
        Assert.True(a[0].equal(AugmentedConvNet.ActiveFraction(x, [slow])[0]));
    }

    [Fact]
    public void PerExampleGradientsEqualBatchOfOnePasses()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        using var net = new AugmentedConvNet(3, generator: g, dtype: ScalarType.Float64, filters: 6);
        var x = rand([4, 1, 28, 28], g, ScalarType.Float64);
        var y = tensor(new long[] { 0, 2, 1, 2 });
        var batched = MetaInformation.PerExampleGradients(net.Slow(3), x, y).Tensors.ToArray();
        for (var i = 0; i < 4; i++)
        {
            var loss = F.cross_entropy(net.forward(x.narrow(0, i, 1)), y.narrow(0, i, 1));
            var single = autograd.grad(loss, net.parameters());
            for (var k = 0; k < single.Length; k++)
                Assert.True(batched[k][i].allclose(single[k], 1e-10, 1e-12), $"example {i}, weight {k}");
            Assert.False(batched[0].requires_grad);
        }
    }

    [Theory]
    [InlineData(5, 5, 1)]
    [InlineData(10, 5, 2)]
    [InlineData(20, 5, 4)]
    [InlineData(25, 5, 5)]
    [InlineData(12, 6, 2)]    // not a multiple of IT: range stepping gives 6 steps (spec §3.3 table)
    [InlineData(3, 3, 1)]     // N < IT: chunk size 1 instead of the original's crash (spec §9.13)
    public void SupportChunksFollowTheAuthorsStepping(int n, int steps, int size)
    {
        var chunks = MetaInformation.Chunks(n, 5);
        Assert.Equal(steps, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(size, c.Count));
        Assert.Equal(Enumerable.Range(0, n), chunks.SelectMany(c => Enumerable.Range(c.Start, c.Count)));
    }

    [Fact]
    public void MetaInformationCarriesNoGraph()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var metanet = new MetaNetLearner(Small, ScalarType.Float64);
        var e = metanet.Run(batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], Ways);
        foreach (var info in new[] { e.ExampleInformationConv, e.ExampleInformationFc })
        {
            Assert.False(info.requires_grad);
            Assert.Null(info.grad_fn);
        }
        Assert.True(e.MemoryConv.requires_grad);   // M is a function of Z …

        // … but not of W: the slow weights' gradient is exactly the one with the fast weights held constant, i.e. W learns
        // only through b's slow branches (spec §3.4). A graph through ∇ᵢ would add terms here.
        var slow = metanet.Network.Base.Slow(Ways);
        var w = slow.Tensors.ToArray();
        using var full = F.cross_entropy(e.Logits, batch.QueryTargets[0], reduction: nn.Reduction.Sum);
        var g = autograd.grad(full, w);
        var p = e.Attention.detach();
        var layout = metanet.Network.BaseFcLayout(Ways);
        var fc = layout.Split(CosineAttention.Read(p, e.MemoryFc.detach()));
        var fast = new WeightSet(metanet.Network.ConvLayout.Split(CosineAttention.Read(p, e.MemoryConv.detach())), fc[0], fc[1]);
        using var constantFast = F.cross_entropy(AugmentedConvNet.Logits(batch.QueryInputs[0], [slow, fast]), batch.QueryTargets[0], reduction: nn.Reduction.Sum);
        var expected = autograd.grad(constantFast, w);
        for (var k = 0; k < w.Length; k++) Assert.True(g[k].allclose(expected[k], 1e-10, 1e-12), $"weight {k}");
    }

    [Fact]
    public void EveryTrainedPartLearnsAndUsHeadNever()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var metanet = new MetaNetLearner(Small, ScalarType.Float64);
        var grads = Gradients(metanet, batch);
        Assert.Equal(0, grads["u.head.weight"].abs().sum().item<double>());   // never in the loss graph (spec §3.4, §9.3)
        foreach (var name in new[] { "b.conv1.weight", "b.head.weight", "u.conv3.weight", "u.fc1.weight", "m_conv.layer1.weight", "m_fc.layer3.bias", "d_conv.lstm.weight_ih", "d_fc.out.bias" })
            Assert.True(grads[name].abs().sum().item<double>() > 0, $"{name} should get a gradient");

        // One optimiser step as the trainer takes it: u's head keeps no .grad and does not move.
        var head = metanet.Network.Embedding.HeadFor(Ways)!;
        var before = head.clone();
        using var optimizer = new optim.Adam(metanet.Network.parameters(), MetaNetOptions.LearningRate);
        optimizer.zero_grad();
        using (var loss = metanet.Loss(batch, Ways)) loss.backward();
        Assert.Null(head.grad);
        optimizer.step();
        Assert.True(head.equal(before));
    }

    [Fact]
    public void FastOnlyBaseLearnerLeavesTheSlowWeightsUntrainedAndDependsOnlyOnTheMemory()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var fastOnly = new MetaNetLearner(Small with { FastOnlyBaseLearner = true }, ScalarType.Float64);
        using var full = new MetaNetLearner(Small, ScalarType.Float64);
        // Spec §8.3: the slow weights still give ∇ᵢ but receive no gradient, so they stay at their initialisation.
        var grads = Gradients(fastOnly, batch);
        foreach (var (name, g) in grads.Where(kv => kv.Key.StartsWith("b.")))
            Assert.Equal(0, g.abs().sum().item<double>());

        // With m's output forced to zero every fast weight is 0: the fast-only learner outputs all-zero logits (a
        // constant, uniform classifier), while MetaNet's augmented layers fall back to exactly b's slow network.
        foreach (var m in new[] { fastOnly.Network, full.Network })
            using (no_grad())
                foreach (var mlp in new[] { m.ExampleConv, m.ExampleFc })
                    foreach (var p in mlp.parameters().TakeLast(2)) p.zero_();
        var zero = fastOnly.Scores(batch, Ways);
        Assert.Equal(0, zero.abs().max().item<double>());
        var fallback = full.Scores(batch, Ways)[0];
        var slowOnly = full.Network.Base.forward(batch.QueryInputs[0]);
        Assert.True(fallback.allclose(slowOnly, 1e-10, 1e-12), $"differs by {(fallback - slowOnly).abs().max().item<double>()}: {fallback} vs {slowOnly}");
    }

    [Fact]
    public void MetaNetMinusKeysUseOnlyTheSlowEmbedding()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var minus = new MetaNetLearner(Small with { TaskLevelFastWeights = false }, ScalarType.Float64);
        var e = minus.Run(batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], Ways);
        Assert.Null(e.TaskFastWeights);
        var u = minus.Network.Embedding.Slow(Ways);
        Assert.True(e.SupportKeys.allclose(AugmentedConvNet.Key(batch.SupportInputs[0], [u])));
        var grads = Gradients(minus, batch);
        Assert.True(grads["u.conv1.weight"].abs().sum().item<double>() > 0);   // Q still learns through the attention
    }

    [Fact]
    public void MetaNetPlusAddsAThirdBranchToTheBaseLearner()
    {
        using var scope = NewDisposeScope();
        using var batch = Problem();
        using var plus = new MetaNetLearner(Small with { BaseTaskFastWeights = true }, ScalarType.Float64);
        var e = plus.Run(batch.SupportInputs[0], batch.SupportTargets[0], batch.QueryInputs[0], Ways);
        Assert.NotNull(e.BaseTaskFastWeights);
        Assert.Equal(plus.Network.Base.HeadFor(Ways)!.shape, e.BaseTaskFastWeights!.Head!.shape);
        var grads = Gradients(plus, batch);
        Assert.True(grads["d_b_conv.lstm.weight_ih"].abs().sum().item<double>() > 0);
        Assert.True(grads["d_b_fc.out.weight"].abs().sum().item<double>() > 0);
    }

    [Fact]
    public void ContrastiveMetaInformationUsesSampledPairsForKAboveOne()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var labels = new long[] { 0, 0, 1, 1, 2, 2 };
        var pairs = MetaInformation.SamplePairs(labels, 6, g);
        Assert.Equal(3, pairs.Count(p => p.Same));
        Assert.All(pairs, p => Assert.NotEqual(p.A, p.B));
        Assert.All(pairs, p => Assert.Equal(p.Same, labels[p.A] == labels[p.B]));
        Assert.Throws<ArgumentException>(() => MetaInformation.SamplePairs([0, 1, 2], 5, g));   // one-shot: no positive pair

        using var batch = Problem(shots: 2);
        using var contrastive = new MetaNetLearner(Small with { EmbeddingLoss = EmbeddingLoss.Contrastive }, ScalarType.Float64);
        Assert.Null(contrastive.Network.Embedding.HeadFor(Ways));
        var grads = Gradients(contrastive, batch);
        Assert.True(grads["d_conv.lstm.weight_ih"].abs().sum().item<double>() > 0);
        Assert.True(grads["d_fc.out.weight"].abs().sum().item<double>() > 0);
    }

    [Fact]
    public void HeadSwapEvaluatesMWayWithTheUntrainedTestHeads()
    {
        using var scope = NewDisposeScope();
        using var metanet = new MetaNetLearner(Small, ScalarType.Float64);
        using var train = Problem();
        using var test = Problem(ways: 8, queries: 1);
        Assert.Equal(new long[] { 1, 8, 8 }, metanet.Scores(test, 8).shape);
        Assert.Throws<ArgumentException>(() => metanet.Loss(test, 8));        // the test heads are never trained (spec §7.3)
        // Not parameters: no optimiser or checkpoint sees them, so one trained model serves every M.
        var parameters = metanet.Network.parameters().Count;
        var head = metanet.Network.Base.HeadFor(8)!;
        Assert.Equal(parameters, metanet.Network.parameters().Count);
        var before = head.clone();
        _ = Gradients(metanet, train);
        Assert.Same(head, metanet.Network.Base.HeadFor(8));
        Assert.Equal(0, (head - before).abs().sum().item<double>());
        // Made from their own seed and M: the same for a model built again, different for b and u.
        using var again = new MetaNetLearner(Small, ScalarType.Float64);
        Assert.Equal(0, (again.Network.Base.HeadFor(8)! - head).abs().sum().item<double>());
        Assert.NotEqual(0, (metanet.Network.Embedding.HeadFor(8)! - head).abs().sum().item<double>());
    }
}
