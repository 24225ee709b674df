using System.IO.Compression;
using MetaNotebooks.Data;

namespace MetaNotebooks.Tests.Data;

/// <summary>
/// A test on the real datasets (data/ or ../shared/data): skipped, with the reason printed, when a file is absent.
/// Paths are relative to the data roots, e.g. "omniglot/images_background.zip".
/// </summary>
public sealed class RequiresDataFactAttribute : FactAttribute
{
    public RequiresDataFactAttribute(params string[] files) => Skip = MissingData(files);

    /// <summary>Why a test on `files` cannot run here (the files not found, and where they were looked for), or null.</summary>
    public static string? MissingData(string[] files)
    {
        var paths = DataPaths.Default;
        var missing = files.Where(f => paths.TryFind(f) is null).ToArray();
        return missing.Length > 0 ? $"needs {string.Join(", ", missing)}, not found in {string.Join(" or ", paths.Roots.Select(r => r.Directory))}" : null;
    }
}

/// <summary>
/// A real-data check too long for every run of the suite (CI must finish in 30 minutes on 2 cores): skipped, with its cost
/// and how to run it, unless MN_SLOW_TESTS=1 (`MN_SLOW_TESTS=1 ./mn test`). Its doc comment records what it showed when last run.
/// </summary>
public sealed class SlowRequiresDataFactAttribute : FactAttribute
{
    public const string Variable = "MN_SLOW_TESTS";

    public SlowRequiresDataFactAttribute(int cpuMinutes, params string[] files) =>
        Skip = RequiresDataFactAttribute.MissingData(files) ??
               (Environment.GetEnvironmentVariable(Variable) == "1" ? null : $"about {cpuMinutes} CPU minutes: runs with {Variable}=1 (e.g. `{Variable}=1 ./mn test`)");
}

/// <summary>Omniglot with the default options, loaded once per test run (from data/cache, built there if absent).</summary>
public sealed class OmniglotFixture : IDisposable
{
    public const string Background = "omniglot/images_background.zip";
    public const string Evaluation = "omniglot/images_evaluation.zip";

    private readonly Lazy<Omniglot> omniglot = new(() => Omniglot.Load());
    private readonly Dictionary<string, ClassIndexedDataset> vinyals = new();

    public Omniglot Omniglot => omniglot.Value;

    /// <summary>A Vinyals split, materialised once and shared (tests must not dispose it).</summary>
    public ClassIndexedDataset Vinyals(string part)
    {
        lock (vinyals)
        {
            if (!vinyals.TryGetValue(part, out var d)) vinyals[part] = d = Omniglot.Vinyals(part);
            return d;
        }
    }

    public void Dispose()
    {
        foreach (var d in vinyals.Values) d.Dispose();
        if (omniglot.IsValueCreated) omniglot.Value.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class OmniglotCollection : ICollectionFixture<OmniglotFixture>
{
    public const string Name = "Omniglot (real data, one cache per run)";
}

/// <summary>A temporary folder, deleted at the end of the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mn-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Data paths that look only here and cache under ./cache.</summary>
    public DataPaths DataPaths => new([new DataPaths.Root(Path, "test")], System.IO.Path.Combine(Path, "cache"));

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Tiny Omniglot-layout zips made by the tests: 105×105 1-bit PNGs drawn with Pillow (a cross and a ring).</summary>
public static class TinyOmniglot
{
    public static readonly byte[] Cross = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAGkAAABpAQAAAAAR+TCXAAABWUlEQVR4nO3SsW3dMBSF4V8XLATDBRN4ADmLWF7M4tvLhcZwZ01gsEhBIALl4tzrMCsEVvU+END/JJ3pYrhuxj/XN7v/rOIf55vYivgq1l18EfMBwGXiXAHoSUwNgHMW7QSgZXFSuC7+rzYAjtW5FoC9OJcd4BaPkI/IYni4p2BqkcXwcMvBqUdWb2OLrLgWz4rL7lkxH54V5+pZMTXPinZ6Vpy6Z/0rbJ5Fd1jLVIbTZVfWmd9t5PyRRqbf80gjj5xQ1kOUazz9uuL0aTy9OEZ26sjzvo1sP8+R9bGPdz7W5/F0L+v4vDf/xuJlMS4D6CnGZQDnHOMygJZjXAZQlxiXKRvjMmVjXKZsjMvwSSls+KQUNnxSChux5DNYF2LVRkxqC2pSa3Hq2y676JPKh+iTmqvok0pNjEmdok9q6qJPik1c9Ip5Fn9I/BLvnA+iD4A5Xs7f67/nJ2XQdZsYtAP7AAAAAElFTkSuQmCC");
    public static readonly byte[] Ring = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAGkAAABpAQAAAAAR+TCXAAABAUlEQVR4nO2SMU7EMBBFn7MWSbcpt8wRtqRAwkfhKOYmHMVIFJR7hJSUS2dQNrNFbI9TrNgGhBDunv6M/We+jVCdx4bV+cfvReNqfOelxgOnGh04xRNwUJyAqPiGhE/FseVWFMOOG3xB/4DxIaPgwY1F3QD70jtboDtmnDrAxgsDxh5opqIOgCnqEYC5qA5QVyMAoiZLydeLfQZg8FcV/xjeAzBe6coDhIwDkHbXFMFn7LVtiZu0ORpSWrO98JCNpBhpSGnFvhSvv5nBQxjU5BPiHQAiIqGViIiIX+L+4HWJ2wLsMLTq1AKd4vqbQUhDJtyzqZbDljv05jztr4r7b+EZEjJF6ZW9+U0AAAAASUVORK5CYII=");

    /// <summary>
    /// Writes omniglot/images_background.zip (alphabet Alpha: character01 = 2 crosses, character02 = 2 rings) and
    /// omniglot/images_evaluation.zip (alphabet Beta: character01 = a ring and a cross) under `root`.
    /// `corrupt` replaces the bytes of Alpha/character02/0002_02.png.
    /// </summary>
    public static void Write(string root, byte[]? corrupt = null, bool extraDrawing = false)
    {
        var dir = Path.Combine(root, "omniglot");
        Directory.CreateDirectory(dir);
        WriteZip(Path.Combine(dir, "images_background.zip"), new()
        {
            ["images_background/Alpha/character01/0001_01.png"] = Cross,
            ["images_background/Alpha/character01/0001_02.png"] = Cross,
            ["images_background/Alpha/character02/0002_01.png"] = Ring,
            ["images_background/Alpha/character02/0002_02.png"] = corrupt ?? Ring,
        });
        var evaluation = new Dictionary<string, byte[]>
        {
            ["images_evaluation/Beta/character01/0003_01.png"] = Ring,
            ["images_evaluation/Beta/character01/0003_02.png"] = Cross,
        };
        if (extraDrawing) evaluation["images_evaluation/Beta/character01/0003_03.png"] = Ring;
        WriteZip(Path.Combine(dir, "images_evaluation.zip"), evaluation);
    }

    private static void WriteZip(string path, Dictionary<string, byte[]> entries)
    {
        File.Delete(path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            using var s = zip.CreateEntry(name).Open();
            s.Write(bytes);
        }
    }
}
