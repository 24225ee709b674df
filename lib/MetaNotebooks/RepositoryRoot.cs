namespace MetaNotebooks;

/// <summary>
/// The repository (the folder with MetaNotebooks.sln): MN_ROOT if set, else the nearest one above this library (so a
/// notebook's `#r` finds it), the program, or the working directory.
/// </summary>
public static class RepositoryRoot
{
    /// <summary>The repository root, or null outside a checkout.</summary>
    public static string? TryFind()
    {
        var env = Environment.GetEnvironmentVariable("MN_ROOT");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        var starts = new[] { Path.GetDirectoryName(typeof(RepositoryRoot).Assembly.Location), AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (var start in starts)
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "MetaNotebooks.sln"))) return d.FullName;
        }
        return null;
    }

    /// <summary>The repository root; outside a checkout, an error that says how to point at one.</summary>
    public static string Find() => TryFind() ?? throw new DirectoryNotFoundException(
        "cannot find the MetaNotebooks repository (no MetaNotebooks.sln above the library, the program or the working directory); run from inside it or set MN_ROOT.");
}
