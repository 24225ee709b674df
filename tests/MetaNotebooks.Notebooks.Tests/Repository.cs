using System.Diagnostics;
using System.Text;

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

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>Runs `dotnet mn.dll args…` and waits (killing it after the timeout).</summary>
    public static Result Mn(IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null) =>
        Run("dotnet", new[] { Cli }.Concat(args), workingDirectory ?? Root, timeout ?? TimeSpan.FromMinutes(4));

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', psi.ArgumentList)} did not finish in {timeout}.\n{stderr}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString(), watch.Elapsed);
    }
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
