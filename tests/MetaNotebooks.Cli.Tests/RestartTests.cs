using MetaNotebooks.Cli.Reproductions;

namespace MetaNotebooks.Cli.Tests;

/// <summary>--restart on a fresh clone, where no checkpoint (nor its folder) exists yet, must not fail.</summary>
public sealed class RestartTests
{
    [Fact]
    public void DeletesExistingCheckpointsAndIgnoresMissingOnes()
    {
        var dir = Directory.CreateTempSubdirectory("mn-restart-").FullName;
        try
        {
            var existing = Path.Combine(dir, "run.mntd");
            File.WriteAllText(existing, "checkpoint");
            var inMissingFolder = Path.Combine(dir, "checkpoints", "other.mntd");
            ReproductionContext.DeleteCheckpoints(existing, inMissingFolder);
            Assert.False(File.Exists(existing));
            Assert.False(Directory.Exists(Path.GetDirectoryName(inMissingFolder)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
