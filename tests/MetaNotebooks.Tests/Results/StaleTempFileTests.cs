using System.Diagnostics;
using MetaNotebooks.Results;
using MetaNotebooks.Tests.Data;

namespace MetaNotebooks.Tests.Results;

/// <summary>A killed run's `*.tmp-&lt;pid&gt;-&lt;guid&gt;` files are removed at the next start; a live process's never.</summary>
public class StaleTempFileTests
{
    private static int DeadProcessId()
    {
        using var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public void TempFilesOfDeadProcessesAreRemovedAndThoseOfLiveOnesKept()
    {
        using var dir = new TempDirectory();
        var dead = DeadProcessId();
        var nested = Path.Combine(dir.Path, "papers", "x", "checkpoints");
        Directory.CreateDirectory(nested);
        var stale = Path.Combine(nested, $"run.mntd.tmp-{dead}-{Guid.NewGuid():N}");
        var live = Path.Combine(nested, $"run.json.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var other = Path.Combine(nested, "notes.tmp-draft");
        foreach (var f in new[] { stale, live, other }) File.WriteAllText(f, "partial");

        var removed = StaleTempFiles.Clean([dir.Path]);

        Assert.Equal([stale], removed);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live), "a live process's temp file is being written: never removed");
        Assert.True(File.Exists(other), "only the atomic writes' own pattern is touched");
    }

    [Fact]
    public void GitIgnoresTheTempFiles()
    {
        var root = RepositoryRoot.Find();
        var lines = File.ReadAllLines(Path.Combine(root, ".gitignore"));
        Assert.Contains("*.tmp-[0-9]*-*", lines);
    }
}
