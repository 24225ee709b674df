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
        // Different parameters per task, so that a task reading another task's weights (or a mis-broadcast bias) shows.
        var perTask = model.PerTask(model.parameters(), tasks).Select(p => p + 0.5 * randn(p.shape, g, ScalarType.Float64)).ToArray();
        Assert.Equal([tasks, 1, 5], perTask[1].shape);
        var batched = model.forward(x, perTask);
        Assert.Equal([tasks, 6, 1], batched.shape);
        for (var t = 0; t < tasks; t++)
        {
            var own = perTask.Select((p, i) => i % 2 == 0 ? p.select(0, t) : p.select(0, t).squeeze(0)).ToArray();
            var alone = model.forward(x.select(0, t), own);
            Assert.True(batched.select(0, t).allclose(alone, rtol: 1e-12, atol: 1e-12), $"task {t}: batched and single-task outputs differ");
        }
    }

    [Fact]
    public void PerTaskBiasWithoutItsRowAxisIsRejected()
    {
        using var model = new Mlp(1, 5, 1);
        using var scope = NewDisposeScope();
        var p = model.parameters().Select(q => q.expand([3, .. q.shape])).ToArray();   // b as [tasks, out]
        var e = Assert.Throws<ArgumentException>(() => model.forward(randn(3, 2, 1), p));
        Assert.Contains("[tasks, 1, out]", e.Message);
    }
}
