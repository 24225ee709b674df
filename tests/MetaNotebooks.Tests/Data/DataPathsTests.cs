using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

public class DataPathsTests
{
    [Fact]
    public void TheDataOptionComesFirstThenTheRepositoryThenShared()
    {
        var paths = DataPaths.Create("/somewhere/else");
        Assert.Equal("/somewhere/else", paths.Roots[0].Directory);
        Assert.Equal("--data", paths.Roots[0].Origin);
        var repo = DataPaths.RepositoryRoot;
        Assert.NotNull(repo);
        Assert.True(File.Exists(Path.Combine(repo, "MetaNotebooks.sln")));
        var rest = paths.Roots.Where(r => r.Origin != DataPaths.DataEnvironmentVariable).Skip(1).Select(r => r.Directory).ToArray();
        Assert.Equal([Path.Combine(repo, "data"), Path.GetFullPath(Path.Combine(repo, "..", "shared", "data")), DataPaths.DebianDatasets], rest);
        Assert.Equal("/somewhere/else", paths.DownloadRoot);
    }

    [Fact]
    public void TheFirstPlaceThatHasAFileWins()
    {
        using var dir = new TempDirectory();
        foreach (var d in new[] { "a", "b" }) Directory.CreateDirectory(dir.File($"{d}/x"));
        File.WriteAllText(dir.File("b/x/f.txt"), "b");
        var paths = new DataPaths([new DataPaths.Root(dir.File("a"), "first"), new DataPaths.Root(dir.File("b"), "second")], dir.File("cache"));
        Assert.Equal(dir.File("b/x/f.txt"), paths.Find("x/f.txt", ""));
        File.WriteAllText(dir.File("a/x/f.txt"), "a");
        Assert.Equal(dir.File("a/x/f.txt"), paths.Find("x/f.txt", ""));
        var e = Assert.Throws<DataNotFoundException>(() => paths.Find("x/g.txt", "Run ./mn fetch."));
        Assert.Contains(dir.File("a/x/g.txt") + "  (first)", e.Message);
        Assert.Contains(dir.File("b/x/g.txt") + "  (second)", e.Message);
        Assert.EndsWith("Run ./mn fetch.", e.Message);
    }
}
