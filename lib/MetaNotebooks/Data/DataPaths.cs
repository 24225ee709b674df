namespace MetaNotebooks.Data;

/// <summary>
/// Where datasets live. A file is looked up, in order, under: the directory given with <c>--data</c> (or the
/// environment variable <c>MN_DATA</c>), the repository's <c>data/</c>, <c>../shared/data</c> beside the
/// repository, then <c>/usr/share/datasets</c>, where Debian's <c>dataset-*</c> packages install (e.g.
/// <c>dataset-fashion-mnist</c>). Paths are relative to those roots, in the datasets' own layouts (<c>omniglot/images_background.zip</c>,
/// <c>mini-imagenet/test.csv</c>, …). Caches go to <c>data/cache/</c> of the repository (ignored by git), or to
/// <c>MN_DATA_CACHE</c> when set.
/// </summary>
public sealed class DataPaths
{
    public const string DataEnvironmentVariable = "MN_DATA";
    public const string CacheEnvironmentVariable = "MN_DATA_CACHE";
    /// <summary>Where Debian's dataset packages put their files (one folder per dataset).</summary>
    public const string DebianDatasets = "/usr/share/datasets";

    /// <summary>A place to look, and why it is on the list (shown when a file is missing).</summary>
    public sealed record Root(string Directory, string Origin);

    public DataPaths(IReadOnlyList<Root> roots, string cacheDirectory)
    {
        Roots = roots;
        CacheDirectory = Path.GetFullPath(cacheDirectory);
    }

    public IReadOnlyList<Root> Roots { get; }
    public string CacheDirectory { get; }

    /// <summary>The default places: MN_DATA, then &lt;repo&gt;/data, &lt;repo&gt;/../shared/data, then /usr/share/datasets.</summary>
    public static DataPaths Default => Create();

    /// <summary>The places for a `--data` option (null: none given), the environment and the repository.</summary>
    public static DataPaths Create(string? dataOption = null, string? cacheDirectory = null)
    {
        var roots = new List<Root>();
        if (!string.IsNullOrEmpty(dataOption)) roots.Add(new Root(Path.GetFullPath(dataOption), "--data"));
        var env = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (!string.IsNullOrEmpty(env)) roots.Add(new Root(Path.GetFullPath(env), DataEnvironmentVariable));
        var repo = RepositoryRoot;
        if (repo is not null)
        {
            roots.Add(new Root(Path.Combine(repo, "data"), "the repository's data/"));
            roots.Add(new Root(Path.GetFullPath(Path.Combine(repo, "..", "shared", "data")), "../shared/data beside the repository"));
        }
        roots.Add(new Root(DebianDatasets, "Debian's dataset packages"));
        var cache = cacheDirectory
                    ?? NullIfEmpty(Environment.GetEnvironmentVariable(CacheEnvironmentVariable))
                    ?? (repo is not null ? Path.Combine(repo, "data", "cache")
                        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "MetaNotebooks", "cache"));
        return new DataPaths(roots, cache);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>The repository root, or null outside a checkout (see <see cref="MetaNotebooks.RepositoryRoot"/>).</summary>
    public static string? RepositoryRoot => MetaNotebooks.RepositoryRoot.TryFind();

    /// <summary>
    /// The first existing file or directory at one of `relativePaths` (alternatives, e.g. a zip or its extracted
    /// folder) under the roots, or null. Roots take precedence: an alternative in an earlier root wins.
    /// </summary>
    public string? TryFind(params string[] relativePaths)
    {
        foreach (var root in Roots)
            foreach (var relativePath in relativePaths)
            {
                var candidate = Path.Combine(root.Directory, relativePath);
                if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Like <see cref="TryFind"/>, but a missing file raises an error naming it, the places looked and how to get it.</summary>
    public string Find(string relativePath, string howToGet) =>
        TryFind(relativePath) ?? throw Missing(relativePath, howToGet);

    public DataNotFoundException Missing(string relativePath, string howToGet) =>
        new($"{relativePath} was not found. Looked in:\n" +
            string.Join("\n", Roots.Select(r => $"  {Path.Combine(r.Directory, relativePath)}  ({r.Origin})")) +
            (Roots.All(r => r.Directory == DebianDatasets) ? "\n  (nowhere else: no --data, no MN_DATA and not inside the repository)" : "") +
            $"\n{howToGet}", relativePath);

    /// <summary>Where a download is written: the --data/MN_DATA directory if given, else the repository's data/.</summary>
    public string DownloadRoot => Roots.FirstOrDefault(r => r.Origin is "--data" or DataEnvironmentVariable)?.Directory
                                  ?? Roots.FirstOrDefault(r => r.Directory != DebianDatasets)?.Directory   // never into the system's folder
                                  ?? throw new DirectoryNotFoundException("no data directory: pass --data or set MN_DATA");

    /// <summary>A path relative to the repository when it is inside it, else as given (for messages).</summary>
    public static string Show(string path)
    {
        var repo = RepositoryRoot;
        if (repo is null) return path;
        var rel = Path.GetRelativePath(repo, path);
        return rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel) ? path : rel;
    }
}

/// <summary>A dataset file (or some of a dataset's images) is missing; the message says which, where we looked and how to get them.</summary>
public sealed class DataNotFoundException(string message, string? fileName = null, int missingCount = 1) : FileNotFoundException(message, fileName)
{
    /// <summary>How many files are missing (e.g. images listed in a split's CSV).</summary>
    public int MissingCount { get; } = missingCount;
}
