using MetaNotebooks.Models;
using MetaNotebooks.Tests.Data;
using MetaNotebooks.Training;

namespace MetaNotebooks.Tests.Training;

/// <summary>A checkpoint resumes only the run that wrote it: another seed or initialisation must not inherit its model.</summary>
public class CheckpointSettingsTests
{
    private static TrainingOutcome Run(string checkpoint, int iterations, string? settings)
    {
        using var g = new Generator(5);
        using var model = new Mlp([1, 4, 1], g);
        using var optimizer = new optim.Adam(model.parameters(), 1e-2);
        using var x = linspace(-1, 1, 8).reshape(8, 1);
        var loop = new TrainingLoop("settings", model, optimizer, iterations, checkpoint) { ShowProgress = false, Settings = settings };
        return loop.Run(_ => nn.functional.mse_loss(model.forward(x), x * 2));
    }

    [Fact]
    public void OtherSettingsAreRefusedTheSameOnesResume()
    {
        using var dir = new TempDirectory();
        var checkpoint = Path.Combine(dir.Path, "run.mntd");
        Assert.True(Run(checkpoint, 2, "seed 1; init paper").Completed);

        var error = Assert.Throws<InvalidOperationException>(() => Run(checkpoint, 4, "seed 2; init paper"));
        Assert.Contains("other settings (seed 1; init paper) than this one (seed 2; init paper)", error.Message);
        Assert.Contains("--restart", error.Message);

        var resumed = Run(checkpoint, 4, "seed 1; init paper");
        Assert.Equal(4, resumed.Iterations);
    }

    [Fact]
    public void ACheckpointWrittenWithoutSettingsStillResumes()
    {
        using var dir = new TempDirectory();
        var checkpoint = Path.Combine(dir.Path, "run.mntd");
        Run(checkpoint, 2, settings: null);
        Assert.Equal(3, Run(checkpoint, 3, "seed 1").Iterations);
        Assert.Throws<InvalidOperationException>(() => Run(checkpoint, 4, "seed 2"));   // it has them now
    }
}
