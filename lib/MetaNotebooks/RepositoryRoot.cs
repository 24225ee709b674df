namespace MetaNotebooks;

/// <summary>The repository root: MN_ROOT, else the nearest folder above the working directory or the program with MetaNotebooks.sln.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        var env = Environment.GetEnvironmentVariable("MN_ROOT");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "MetaNotebooks.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("cannot find the MetaNotebooks repository (no MetaNotebooks.sln above the working directory); run from inside it or set MN_ROOT.");
    }
}
