using MetaNotebooks.Models;

namespace MetaNotebooks.Tests.Maml;

/// <summary>The sine network's batched form: per-task parameters against the shared network, one task at a time.</summary>
public class MlpTests
{
    [Fact]
    public void PerTaskParametersGiveEachTaskItsOwnNetwork()
    {
        using var g = new Generator(3);
        using var model = new Mlp([1, 5, 5, 1], g, ScalarType.Float64);
        using var scope = NewDisposeScope();
        const int tasks = 4;
        var x = randn([tasks, 6, 1], g, ScalarType.Float64);
        // A network of its own per task (the shared one perturbed), so that a task reading another's weights shows.
        var own = Enumerable.Range(0, tasks).Select(_ => model.parameters().Select(p => p + 0.5 * randn(p.shape, g, ScalarType.Float64)).ToArray()).ToArray();
        var perTask = Enumerable.Range(0, model.parameters().Count).Select(i => cat(own.Select(o => model.PerTask(o, 1)[i]).ToArray(), 0)).ToArray();
        var batched = model.forward(x, perTask);
        Assert.Equal([tasks, 6, 1], batched.shape);
        for (var t = 0; t < tasks; t++)
        {
            var alone = model.forward(x.select(0, t), own[t]);
            Assert.True(batched.select(0, t).allclose(alone, rtol: 1e-12, atol: 1e-12), $"task {t}: batched and single-task outputs differ");
        }
    }

    [Fact]
    public void PerTaskParametersInAnotherLayoutAreRejected()
    {
        using var model = new Mlp(1, 5, 1);
        using var scope = NewDisposeScope();
        var p = model.parameters().Select(q => q.expand([3, .. q.shape])).ToArray();   // [tasks, …shape]: W not transposed, b without its row axis
        var e = Assert.Throws<ArgumentException>(() => model.forward(randn(3, 2, 1), p));
        Assert.Contains("Mlp.PerTask", e.Message);
        Assert.Equal([3, 2, 1], model.forward(randn(3, 2, 1), model.PerTask(model.parameters(), 3)).shape);
    }

    [Fact]
    public void TruncatedNormalInitHasZeroBiasesAndWeightsWithinTwoSigma()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        using var model = Mlp.TruncatedNormal([1, 40, 40, 1], 0.01, g);
        var named = model.named_parameters().ToList();
        Assert.Equal(["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias", "layer3.weight", "layer3.bias"], named.Select(n => n.name));
        foreach (var (name, p) in named)
        {
            Assert.True(p.is_leaf && p.requires_grad, name);
            if (name.EndsWith("bias")) Assert.Equal(0f, p.abs().max().item<float>());
            else Assert.All(p.ToArray<float>(), v => Assert.InRange(v, -0.02f, 0.02f));
        }
        Assert.InRange(named[2].parameter.std().item<float>(), 0.8 * 0.0088, 1.2 * 0.0088); // 1,600 draws of std 0.88σ
        using var g2 = new Generator(5);
        using var again = Mlp.TruncatedNormal([1, 40, 40, 1], 0.01, g2);
        Assert.All(model.parameters().Zip(again.parameters()), pair => Assert.True(pair.First.equal(pair.Second)));
    }
}
