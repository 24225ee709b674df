using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MetaNotebooks.Kernel;

namespace MetaNotebooks.Cli.Bench.Benchmarks;

/// <summary>
/// Our Jupyter kernel against Debian's ipykernel (python3-ipykernel), both measured the same way: by the same
/// jupyter_client script (Bench/kernel_timing.py, with Debian's Python), as a front end meets a kernel. Ours runs from
/// a kernelspec installed into a temp folder (JUPYTER_PATH), never the user's. The thread count does not apply.
/// </summary>
public abstract partial class KernelBenchmark(string mode, string key) : IBenchmark
{
    public abstract string Name { get; }
    public abstract string Measures { get; }

    protected abstract int Count(BenchSettings settings);

    private static readonly Lazy<string> Prefix = new(() =>
    {
        var prefix = Directory.CreateTempSubdirectory("mn-bench-kernel-").FullName;
        KernelSpec.Install(KernelSpec.KernelsFolder(user: false, prefix), Path.Combine(AppContext.BaseDirectory, "mn.dll"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(prefix, recursive: true); }
            catch (IOException) { }
        };
        return prefix;
    });

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Bench", "kernel_timing.py");

    public Measurement RunOurs(BenchSettings settings)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("MN_PYTHON") ?? PeerRunner.DefaultPython)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { Script, KernelSpec.Name, mode, Count(settings).ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        psi.Environment["JUPYTER_PATH"] = Path.Combine(Prefix.Value, "share", "jupyter");
        using var process = Process.Start(psi) ?? throw new BenchmarkSkippedException($"cannot start {psi.FileName}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) { process.Kill(entireProcessTree: true); throw new TimeoutException($"{Name}: the timing script did not finish in 10 minutes."); }
        if (process.ExitCode != 0)
            throw new BenchmarkSkippedException($"the timing script failed (needs Debian's python3-jupyter-client): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        var samples = Regex.Matches(stdout, $@"^{key}=([0-9.eE+-]+)", RegexOptions.Multiline)
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        return new Measurement(samples, 1);
    }

    public PeerCommand? Peer(BenchSettings settings) =>
        PeerCommand.TimeValue(Script, ["python3", mode, Count(settings).ToString(CultureInfo.InvariantCulture)], $"mean_{key}", 1);
}

public sealed class KernelStartupBenchmark() : KernelBenchmark("startup", "startup_s")
{
    public override string Name => "kernel.startup";
    public override string Measures => "launching the kernel to its first kernel_info_reply (ours vs ipykernel, through jupyter_client)";
    protected override int Count(BenchSettings s) => s.Pick(5, 1);
}

public sealed class KernelExecuteBenchmark() : KernelBenchmark("execute", "roundtrip_s")
{
    public override string Name => "kernel.execute";
    public override string Measures => "a trivial execute_request (`1 + 1`) to its execute_reply after 20 warm-up requests (ours vs ipykernel)";
    protected override int Count(BenchSettings s) => s.Pick(100, 5);
}
