using System.Diagnostics;
using System.Text;
using MetaNotebooks.Tests.Shared;

// Every test here starts processes (mn, Chromium, dotnet run) on a 2-core machine, and some set environment
// variables that those processes inherit: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>Where things are, and how to start the built `mn`.</summary>
internal static class Repository
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static readonly string Root = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");

    public static string Cli => Path.Combine(Root, "lib", "MetaNotebooks.Cli", "bin", Configuration, "net10.0", "mn.dll");

    /// <summary>The library the notebooks reference with #r (always the Release build, as `./mn build` makes it).</summary>
    public static string LibraryDll => Path.Combine(Root, "lib", "MetaNotebooks", "bin", "Release", "net10.0", "MetaNotebooks.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MetaNotebooks.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MetaNotebooks.sln not found above the test assembly.");
    }

    /// <summary>Runs `dotnet mn.dll args…` and waits (killing it after the timeout).</summary>
    public static ChildProcessResult Mn(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null) =>
        Run("dotnet", new[] { Cli }.Concat(args), workingDirectory ?? Root, timeout ?? TimeSpan.FromMinutes(4));

    /// <summary>Runs a process and waits; after the timeout it kills it with its children.</summary>
    public static ChildProcessResult Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string>? environment = null) =>
        ChildProcess.Run(file, args, workingDirectory, timeout, environment);
}

/// <summary>A temp folder deleted at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Path = Directory.CreateTempSubdirectory("mn-notebook-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
