using MetaNotebooks.Experiments;
using MetaNotebooks.Models;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Training;

/// <summary>An interrupted and resumed run is the uninterrupted run: same weights and the same loss curve.</summary>
public class ExactResumeTests
{
    private static TrainingOutcome Run(string? checkpoint, int iterations, int stopAfter = int.MaxValue)
    {
        using var g = new Generator(3);
        using var model = new Mlp([1, 4, 1], g);
        using var optimizer = new optim.Adam(model.parameters(), 1e-2);
        using var cancel = new CancellationTokenSource();
        var loop = new TrainingLoop("resume", model, optimizer, iterations, checkpoint) { ShowProgress = false, CurveEvery = 4 };
        return loop.Run(i =>
        {
            if (i + 1 == stopAfter) cancel.Cancel();   // as Ctrl-C during this iteration: it finishes, then the loop stops
            using var x = linspace(-1, 1, 8).reshape(8, 1) + 0.1 * i;
            return nn.functional.mse_loss(model.forward(x), x.sin());
        }, cancel.Token);
    }

    [Fact]
    public void AResumedRunsLossCurveEqualsAnUninterruptedOnes()
    {
        using var dir = new TempDirectory();
        var straight = Run(null, 10);
        var checkpoint = Path.Combine(dir.Path, "run.mntd");
        var stopped = Run(checkpoint, 10, stopAfter: 6);   // stops inside the second window of 4
        Assert.False(stopped.Completed);
        Assert.Equal(6, stopped.Iterations);
        var resumed = Run(checkpoint, 10);
        Assert.True(resumed.Completed);
        Assert.Equal(straight.LossCurve, resumed.LossCurve);
    }

    [Fact]
    public void AnInterruptedRunNeverReplacesThePublishedModel()
    {
        // A finished run's model is published; its checkpoint is not kept (as for results whose runs completed). An
        // interrupted run of the same experiment must leave that model alone: the result file still describes it.
        torch.set_num_threads(1);
        using var dir = new TempDirectory();
        var config = new MamlSineConfig { Iterations = 2, MetaBatch = 2, EvalTasks = 2 };
        var sine = new MamlSine(config, dir.Path);
        Assert.NotNull(sine.Run("first"));
        var published = Enum.GetValues<SineMethod>().ToDictionary(m => m, m => File.ReadAllBytes(sine.ModelPath(m)));
        Directory.Delete(Path.Combine(dir.Path, "checkpoints"), recursive: true);

        using var interrupted = new CancellationTokenSource();
        interrupted.Cancel();
        Assert.Null(new MamlSine(config with { Iterations = 4 }, dir.Path).Run("interrupted", interrupted.Token));
        foreach (var (method, bytes) in published)
            Assert.True(bytes.SequenceEqual(File.ReadAllBytes(sine.ModelPath(method))), $"the interrupted run replaced the published {method} model");
    }
}
