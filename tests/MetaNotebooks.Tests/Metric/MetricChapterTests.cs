using System.Text.Json.Nodes;
using MetaNotebooks.Algorithms.Metric;
using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Results;
using MetaNotebooks.Tasks;

namespace MetaNotebooks.Tests.Metric;

/// <summary>
/// What the matching and relation chapters show, checked against the equations: attention weights (Matching Eq. 1-2),
/// the depth-wise concatenation C and the relation module g_ϕ (Relation Eq. 1), the score heat-map, absent results.
/// </summary>
public class MetricChapterTests
{
    /// <summary>Random images; support labels class by class unless given (any order of N·K labels).</summary>
    private static TaskBatch Episode(int tasks, int ways, int shots, int queries, long seed, long[]? supportLabels = null)
    {
        manual_seed(seed);
        var labels = supportLabels ?? Enumerable.Range(0, ways * shots).Select(i => (long)(i / shots)).ToArray();
        var ys = tensor(labels).unsqueeze(0).expand(tasks, ways * shots).contiguous();
        var yq = tensor(Enumerable.Range(0, ways * queries).Select(i => (long)(i / queries)).ToArray()).unsqueeze(0).expand(tasks, ways * queries).contiguous();
        return new TaskBatch(rand(tasks, ways * shots, 1, 28, 28), ys, rand(tasks, ways * queries, 1, 28, 28), yq);
    }

    [Fact]
    public void MatchingAttentionIsTheSoftmaxOfCosinesAndReadsTheLabels()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        using var net = new MatchingNetwork(new ConvEncoder(generator: g));
        net.eval();
        using var batch = Episode(2, 3, 2, 2, 5);
        var a = net.AttentionWeights(batch);
        Assert.Equal(new long[] { 2, 6, 6 }, a.shape);

        // By hand, in doubles: a(x̂, xᵢ) = exp(cos(f(x̂), g(xᵢ))) / Σⱼ exp(cos(f(x̂), g(xⱼ))).
        var zs = net.Encoder.Embed(batch.SupportInputs).to(ScalarType.Float64).ToArray<double>();
        var zq = net.Encoder.Embed(batch.QueryInputs).to(ScalarType.Float64).ToArray<double>();
        var av = a.ToArray<float>();
        const int D = 64;
        double Cos(double[] x, int i, double[] y, int j)
        {
            double dot = 0, nx = 0, ny = 0;
            for (var d = 0; d < D; d++) { dot += x[i * D + d] * y[j * D + d]; nx += x[i * D + d] * x[i * D + d]; ny += y[j * D + d] * y[j * D + d]; }
            return dot / Math.Sqrt(nx * ny);
        }
        for (var t = 0; t < 2; t++)
            for (var q = 0; q < 6; q++)
            {
                var e = Enumerable.Range(0, 6).Select(i => Math.Exp(Cos(zq, t * 6 + q, zs, t * 6 + i))).ToArray();
                for (var i = 0; i < 6; i++) Assert.Equal(e[i] / e.Sum(), av[(t * 6 + q) * 6 + i], 4);
            }

        // ŷ = Σᵢ a(x̂, xᵢ) yᵢ: summing the attention over each class's two support examples gives the scores.
        var y = batch.SupportTargets.ToArray<long>();
        var p = net.Scores(batch, 3).ToArray<float>();
        for (var t = 0; t < 2; t++)
            for (var q = 0; q < 6; q++)
                for (var k = 0; k < 3; k++)
                    Assert.Equal(Enumerable.Range(0, 6).Where(i => y[t * 6 + i] == k).Sum(i => av[(t * 6 + q) * 6 + i]), p[(t * 6 + q) * 3 + k], 5);
    }

    [Fact]
    public void SupportNormalizedKernelScalesTheCosinesByTheQueryNorm()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        var f = randn(2, 5, 8).relu();
        var g = randn(2, 7, 8).relu() * 3;
        var cosine = MatchingNetwork.Attention(f, g, MatchingKernel.Cosine);
        var scaled = MatchingNetwork.Attention(f, g, MatchingKernel.SupportNormalized);

        // By definition: softmaxᵢ(‖f‖ cos(f, gᵢ)); the support norms never matter, the query's norm is the temperature.
        var cos = (f / f.norm(2, 2, keepdim: true)).bmm((g / g.norm(2, 2, keepdim: true)).transpose(1, 2));
        Assert.True((cos * f.norm(2, 2, keepdim: true)).softmax(2).allclose(scaled, 1e-5, 1e-6));
        Assert.True(MatchingNetwork.Attention(f, g * 10, MatchingKernel.SupportNormalized).allclose(scaled, 1e-5, 1e-6));
        Assert.True(scaled.sum(2).sub(1).abs().max().item<float>() < 1e-5);
        // The ranking of the support set is the cosine's; only the sharpness differs, and it grows with ‖f‖.
        Assert.True(scaled.argmax(2).equal(cosine.argmax(2)));
        Assert.False(scaled.allclose(cosine, 1e-3, 1e-4));
        Assert.True(MatchingNetwork.Attention(f, g, MatchingKernel.Cosine).allclose(MatchingNetwork.Attention(f * 10, g, MatchingKernel.Cosine), 1e-5, 1e-6));
        var sharper = MatchingNetwork.Attention(f * 10, g, MatchingKernel.SupportNormalized);
        Assert.True(sharper.amax(2).mean().item<float>() > scaled.amax(2).mean().item<float>() + 0.05);
    }

    [Fact]
    public void MatchingNetworksUseTheirKernelAndNameItInTheResults()
    {
        using var scope = NewDisposeScope();
        using var batch = Episode(1, 4, 1, 2, 9);
        using var plain = MetricMethods.NewMatching(false, 5, MatchingKernel.Cosine);
        using var scaled = MetricMethods.NewMatching(false, 5, MatchingKernel.SupportNormalized);
        plain.eval();
        scaled.eval();
        // Same seed, same encoder weights: the attention differs only through the kernel.
        var (zs, zq) = (plain.Encoder.Embed(batch.SupportInputs), plain.Encoder.Embed(batch.QueryInputs));
        Assert.True(scaled.AttentionWeights(batch).allclose(MatchingNetwork.Attention(zq, zs, MatchingKernel.SupportNormalized), 1e-4, 1e-5));
        Assert.True(plain.AttentionWeights(batch).allclose(MatchingNetwork.Attention(zq, zs, MatchingKernel.Cosine), 1e-4, 1e-5));
        Assert.Equal(MatchingKernel.SupportNormalized, MetricMethods.ParseKernel("support-normalized"));
        Assert.Equal(MatchingKernel.Cosine, MetricMethods.ParseKernel("cosine"));
        var e = Assert.Throws<ArgumentException>(() => MetricMethods.ParseKernel("euclid"));
        Assert.Contains("unknown matching kernel 'euclid'", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatchingNetwork(new ConvEncoder(), kernel: (MatchingKernel)7));
        var config = MetricMethods.Matching(10, 10, fce: false);
        Assert.Contains("support-normalised", config.Variant);
        Assert.StartsWith(config.Variant!, MetricOmniglot.Budget(config.Runs[0].Training, 10, config.PaperBudget, variant: config.Variant));
        Assert.Equal(config.Variant, config.ToJson()["variant"]!.GetValue<string>());
    }

    [Fact]
    public void FullContextAttentionWeightsSumToOneAndGiveTheProbabilities()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        using var net = new MatchingNetwork(new ConvEncoder(generator: g), fullContext: true, readSteps: 2, generator: g);
        net.eval();
        using var batch = Episode(1, 4, 2, 3, 6);
        var a = net.AttentionWeights(batch);
        Assert.Equal(new long[] { 1, 12, 8 }, a.shape);
        Assert.True(a.sum(2).sub(1).abs().max().item<float>() < 1e-5);
        var expected = a.bmm(EpisodeMetrics.OneHot(batch.SupportTargets, 4));
        Assert.True(expected.allclose(net.Scores(batch, 4), 1e-5, 1e-6));
        // With FCE the attention is not the plain cosine softmax of the encoder outputs.
        var zs = net.Encoder.Embed(batch.SupportInputs);
        var zq = net.Encoder.Embed(batch.QueryInputs);
        Assert.False(MatchingNetwork.Attention(zq, zs).allclose(a, 1e-3, 1e-4));
    }

    [Fact]
    public void AttentionWeightsRejectMismatchedEmbeddings()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        using var net = new MatchingNetwork(new ConvEncoder(generator: g), fullContext: true, generator: g);
        var e1 = Assert.Throws<ArgumentException>(() => net.AttentionWeights(randn(2, 10, 64), randn(3, 5, 64)));
        Assert.Contains("[2, 10, 64] and [3, 5, 64]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => net.AttentionWeights(randn(2, 10, 32), randn(2, 5, 32)));
        Assert.Contains("D = 64", e2.Message);
    }

    [Fact]
    public void ConcatenationPutsTheClassMapThenTheQueryMapAlongTheChannels()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var classes = randn(2, 3, 4, 2, 2);
        var queries = randn(2, 5, 4, 2, 2);
        var pairs = RelationNetwork.Concatenate(classes, queries);
        Assert.Equal(new long[] { 2, 5, 3, 8, 2, 2 }, pairs.shape);
        for (var t = 0; t < 2; t++)
            for (var j = 0; j < 5; j++)
                for (var i = 0; i < 3; i++)
                {
                    Assert.True(pairs[t][j][i].narrow(0, 0, 4).equal(classes[t][i]));
                    Assert.True(pairs[t][j][i].narrow(0, 4, 4).equal(queries[t][j]));
                }
        var e = Assert.Throws<ArgumentException>(() => RelationNetwork.Concatenate(classes, randn(2, 5, 3, 2, 2)));
        Assert.Contains("[2, 5, 3, 2, 2]", e.Message);
    }

    [Fact]
    public void RelationScoresAreTheRelationModuleOnSummedClassMaps()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2);
        using var net = new RelationNetwork(generator: g);
        net.eval();
        using var batch = Episode(1, 3, 2, 2, 9, supportLabels: [2, 0, 1, 1, 0, 2]);
        var r = net.Scores(batch, 3);
        Assert.Equal(new long[] { 1, 6, 3 }, r.shape);

        // By hand: each class's map is the sum of its two support maps, whatever the support order.
        var fs = net.Embedding.forward(batch.SupportInputs[0]);            // [6, 64, 5, 5]
        var fq = net.Embedding.forward(batch.QueryInputs[0]);              // [6, 64, 5, 5]
        Assert.Equal(new long[] { 6, 64, 5, 5 }, fs.shape);
        var labels = batch.SupportTargets[0].ToArray<long>();
        var classMaps = stack(Enumerable.Range(0, 3).Select(k =>
            Enumerable.Range(0, 6).Where(i => labels[i] == k).Select(i => fs[i]).Aggregate((x, y) => x + y)).ToArray(), 0);
        var byHand = net.Relate(RelationNetwork.Concatenate(classMaps.unsqueeze(0), fq.unsqueeze(0)));
        Assert.True(byHand.allclose(r, 1e-5, 1e-6));
        Assert.True(r.min().item<float>() > 0 && r.max().item<float>() < 1);
        Assert.Throws<ArgumentException>(() => net.Relate(randn(128, 5, 5)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SplitFirstConvolutionGivesTheConcatenatedPairsScoresAndGradients(bool miniImageNet)
    {
        // RelateAll convolves class and query maps once each and sums the halves; training mode, so batch norm uses
        // the pairs' batch statistics: scores and every gradient must equal the literal concatenation's. On
        // Mini-ImageNet the relation convolutions have no padding (19×19 maps → 8 → 3, FC 576→8).
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var net = miniImageNet ? RelationNetwork.MiniImageNet(g) : new RelationNetwork(generator: g);
        net.train();
        manual_seed(6);
        var side = miniImageNet ? 19 : 5;
        var classes = randn(2, 4, 64, side, side);
        var queries = randn(2, 7, 64, side, side);
        var target = rand(2, 7, 4);
        var relationParameters = net.RelationConvs.parameters().Concat(net.Hidden.parameters()).Concat(net.Output.parameters()).ToList();
        (Tensor Scores, Tensor[] Grads) Run(Func<Tensor, Tensor, Tensor> relate)
        {
            var c = classes.detach().requires_grad_();
            var q = queries.detach().requires_grad_();
            foreach (var p in relationParameters) p.grad?.zero_();
            var r = relate(c, q);
            (r - target).pow(2).sum().backward();   // summed, not averaged: the gradients stay far above rounding
            return (r.detach(), [c.grad!.clone(), q.grad!.clone(), .. relationParameters.Select(p => p.grad!.clone())]);
        }
        var literal = Run((c, q) => net.Relate(RelationNetwork.Concatenate(c, q)));
        var split = Run(net.RelateAll);
        Assert.Equal(new long[] { 2, 7, 4 }, split.Scores.shape);
        Assert.True(split.Scores.allclose(literal.Scores, 1e-4, 1e-6), $"max |Δr| = {(split.Scores - literal.Scores).abs().max().item<float>()}");
        Assert.True(literal.Grads[0].abs().max().item<float>() > 1e-4 && literal.Grads[1].abs().max().item<float>() > 1e-4, "input gradients vanish: the check would be empty");
        // The floor, relative to the largest gradient, is for the convolution biases before batch norm, whose gradient is zero up to rounding.
        var largest = literal.Grads.Max(g => g.abs().max().item<float>());
        for (var i = 0; i < literal.Grads.Length; i++)
        {
            var scale = literal.Grads[i].abs().max().item<float>();
            var err = (split.Grads[i] - literal.Grads[i]).abs().max().item<float>();
            Assert.True(err <= 1e-4 * scale + 1e-6 * largest, $"gradient {i}: max |Δ| = {err} against max |g| = {scale} (largest {largest})");
        }
        Assert.Throws<ArgumentException>(() => net.RelateAll(classes, randn(2, 7, 32, side, side)));
    }

    [Fact]
    public void QueryScoresDrawOneRowPerQueryUnderTheImages()
    {
        using var scope = NewDisposeScope();
        using var batch = Episode(1, 3, 2, 2, 12);
        manual_seed(1);
        var perExample = rand(1, 6, 6).softmax(2);
        var json = JsonNode.Parse(MetricFigures.QueryScores(batch, perExample, 3, [0, 5], "attention").ToJson())!;
        var heat = json["data"]!.AsArray().Last()!;
        Assert.Equal(2, heat["z"]!.AsArray().Count);
        Assert.Equal(6, heat["z"]![0]!.AsArray().Count);
        Assert.Equal(perExample[0][5][3].item<float>(), heat["z"]![1]![3]!.GetValue<double>(), tolerance: 1e-4);
        Assert.Equal(["q0: class 0", "q5: class 2"], heat["y"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("s2: class 1", heat["x"]![2]!.GetValue<string>());
        // Matrix order (first query on top), and room for the row labels.
        Assert.Equal("reversed", json["layout"]!["yaxis2"]!["autorange"]!.GetValue<string>());
        Assert.True(json["layout"]!["yaxis2"]!["automargin"]!.GetValue<bool>());

        var perClass = MetricFigures.QueryScores(batch, rand(6, 3), 3, [1, 2, 3], "relation scores").ToJson();
        Assert.Contains("\"class 2\"", perClass);

        Assert.Throws<ArgumentException>(() => MetricFigures.QueryScores(batch, rand(6, 4), 3, [0], "wrong width"));
        Assert.Throws<ArgumentException>(() => MetricFigures.QueryScores(batch, rand(6, 3), 3, [6], "no such query"));
    }

    [Fact]
    public void LossCurvePlacesEachWindowAtItsLastEpisode()
    {
        var outcome = new MetaNotebooks.Training.TrainingOutcome(Iterations: 23, Completed: true, LossCurve: [1.5, 1.2, 0.9], CurveEvery: 10, Seconds: 1);
        var trace = JsonNode.Parse(MetricFigures.LossCurve(outcome, "short run", "MSE").ToJson())!["data"]![0]!;
        Assert.Equal([10.0, 20.0, 23.0], trace["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal([1.5, 1.2, 0.9], trace["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.Equal("MSE", trace["name"]!.GetValue<string>());

        var other = outcome with { LossCurve = [2.0, 1.0], CurveEvery = 5, Iterations = 10 };
        var both = JsonNode.Parse(MetricFigures.LossCurves("two runs", ("a", outcome), ("b", other)).ToJson())!["data"]!.AsArray();
        Assert.Equal(["a", "b"], both.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal([5.0, 10.0], both[1]!["x"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.NotEqual(both[0]!["line"]?.ToJsonString() ?? both[0]!["marker"]?.ToJsonString(), both[1]!["line"]?.ToJsonString() ?? both[1]!["marker"]?.ToJsonString());
    }

    [Fact]
    public void ShapesTableListsEachTensorsShape()
    {
        using var scope = NewDisposeScope();
        var table = MetaNotebooks.Figures.Display.Shapes([("g(xᵢ)", zeros(1, 5, 64)), ("scalar", tensor(2.0f))], "shapes");
        Assert.Matches(@"g\(xᵢ\)\s+\[1, 5, 64\]", table.Text);
        Assert.Matches(@"scalar\s+\[\]", table.Text);
        Assert.Contains("<caption>shapes</caption>", table.Html);
    }

    [Fact]
    public void AnAbsentResultIsNullAndADamagedOneStillThrows()
    {
        var dir = Directory.CreateTempSubdirectory("mn-tryload-").FullName;
        try
        {
            var path = Path.Combine(dir, "relation-omniglot.json");
            Assert.Null(ResultFile.TryLoad(path));
            File.WriteAllText(path, "{ not json");
            var error = Assert.Throws<InvalidDataException>(() => ResultFile.TryLoad(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
