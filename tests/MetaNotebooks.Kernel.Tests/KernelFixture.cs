using System.Diagnostics;
using System.Text;
using MetaNotebooks.Tests.Shared;

// Every test here starts a kernel (and nbconvert, Chromium) on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MetaNotebooks.Kernel.Tests;

/// <summary>
/// The kernelspec installed with `mn kernel install --prefix` into a temp folder that JUPYTER_PATH points at, so that
/// the front ends find this build's kernel and the user's own kernelspec folder is never touched.
/// </summary>
public sealed class KernelFixture : IDisposable
{
    /// <summary>Debian's Python, where apt installs jupyter_client, nbclient and nbconvert (a pyenv `python3` first on the PATH has none).</summary>
    public const string Python = "/usr/bin/python3";

    public KernelFixture()
    {
        Prefix = Directory.CreateTempSubdirectory("mn-kernel-test-").FullName;
        var install = Run("dotnet", [Cli, "kernel", "install", "--prefix", Prefix], Root, TimeSpan.FromMinutes(2));
        if (install.ExitCode != 0) throw new InvalidOperationException($"mn kernel install failed:\n{install}");
        var check = Run(Python, ["-c", "import jupyter_client, nbclient, nbconvert"], Root, TimeSpan.FromMinutes(1));
        if (check.ExitCode != 0)
            throw new InvalidOperationException(
                $"Debian's jupyter_client, nbclient and nbconvert are needed (./mn test installs them; as root: apt-get install python3-jupyter-client python3-nbclient python3-nbconvert):\n{check}");
    }

    public static readonly string Root = FindRoot();

    public static string Cli => Path.Combine(Root, "lib", "MetaNotebooks.Cli", "bin", "Release", "net10.0", "mn.dll");

    /// <summary>The folder of the library the chapters reference with #r.</summary>
    public static string LibraryFolder => Path.Combine(Root, "lib", "MetaNotebooks", "bin", "Release", "net10.0");

    public string Prefix { get; }

    /// <summary>The environment a front end gets: our kernelspec only through JUPYTER_PATH, one libtorch thread.</summary>
    public Dictionary<string, string> Environment(bool quick = false)
    {
        var env = new Dictionary<string, string>
        {
            ["JUPYTER_PATH"] = Path.Combine(Prefix, "share", "jupyter"),
            ["JUPYTER_DATA_DIR"] = Path.Combine(Prefix, "data"),
            ["JUPYTER_RUNTIME_DIR"] = Path.Combine(Prefix, "runtime"),
            ["JUPYTER_CONFIG_DIR"] = Path.Combine(Prefix, "config"),
            ["OMP_NUM_THREADS"] = "1",
            ["PYTHONUNBUFFERED"] = "1",
        };
        if (quick) env["MN_QUICK"] = "1";
        return env;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MetaNotebooks.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("MetaNotebooks.sln not found above the test assembly.");
    }

    /// <summary>Runs a process and waits; after the timeout it kills it with its children.</summary>
    public static ChildProcessResult Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string>? environment = null) =>
        ChildProcess.Run(file, args, workingDirectory, timeout, environment);

    public void Dispose()
    {
        try { Directory.Delete(Prefix, recursive: true); }
        catch (IOException) { }
    }
}
