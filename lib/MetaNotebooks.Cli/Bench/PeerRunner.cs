using System.Diagnostics;

namespace MetaNotebooks.Cli.Bench;

/// <summary>
/// Runs the peer scripts with Debian's Python (python3-torch, the libtorch 1.13.1 we bind): not the `python3` first
/// on PATH, which may be another Python without torch. Checks once that torch imports; otherwise says how to install it.
/// </summary>
public sealed class PeerRunner
{
    public const string DefaultPython = "/usr/bin/python3";
    public const string InstallCommand = "apt-get install python3-torch";

    private readonly Dictionary<string, PeerRun> cache = new();

    public string Python { get; }
    public string ScriptDir { get; }

    /// <summary>The peer's torch version, or null when the peer cannot run (see <see cref="Problem"/>).</summary>
    public string? TorchVersion { get; }

    /// <summary>Why the peer cannot run, with the command that fixes it; null when it can.</summary>
    public string? Problem { get; }

    public bool Available => Problem is null;

    /// <summary>
    /// With the CPU clock the peer script runs under this wrapper, which makes time.time and time.perf_counter return
    /// time.process_time (CPU time of the process, all threads): the script is unchanged and prints CPU time per iteration.
    /// </summary>
    public const string CpuClockWrapper =
        "import sys, time, runpy; time.time = time.perf_counter = time.process_time; " +
        "script = sys.argv[1]; sys.argv = sys.argv[1:]; runpy.run_path(script, run_name='__main__')";

    public BenchClock Clock { get; }

    public PeerRunner(string python, string scriptDir, BenchClock clock = BenchClock.Wall)
    {
        Python = python;
        ScriptDir = scriptDir;
        Clock = clock;
        if (!Directory.Exists(scriptDir))
        {
            Problem = $"peer scripts not found: {scriptDir} does not exist (pass --peer-dir DIR or set MN_BENCH_PEERS)";
            return;
        }
        if (!File.Exists(python))
        {
            Problem = $"peer missing: {python} does not exist; install Debian's Python with PyTorch (the same libtorch 1.13.1) as root: " +
                      $"apt-get install python3 python3-torch";
            return;
        }
        var probe = Exec(python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromMinutes(2));
        if (probe.ExitCode != 0)
        {
            var why = probe.Stderr.Trim().Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? $"exit code {probe.ExitCode}";
            Problem = $"peer missing: {python} has no torch ({why}); install it as root with: {InstallCommand}";
            return;
        }
        TorchVersion = probe.Stdout.Trim();
    }

    /// <summary>The command line as a shell would run it (for the report and the JSON).</summary>
    public string CommandLine(PeerCommand c) => string.Join(' ', Arguments(c).Prepend(Python).Select(Quote));

    private IEnumerable<string> Arguments(PeerCommand c) =>
        (Clock == BenchClock.Cpu ? new[] { "-c", CpuClockWrapper } : []).Append(Path.Combine(ScriptDir, c.Script)).Concat(c.Arguments);

    public bool HasRun(PeerCommand c, int round) => cache.ContainsKey($"{round}\n{CommandLine(c)}");

    /// <summary>Runs the command (once per command line and round); OthersShare is what other processes used meanwhile.</summary>
    public PeerRun Run(PeerCommand command, int round)
    {
        if (!Available) throw new InvalidOperationException(Problem);
        var line = CommandLine(command);
        var key = $"{round}\n{line}";
        if (!cache.TryGetValue(key, out var run))
        {
            var script = Path.Combine(ScriptDir, command.Script);
            if (!File.Exists(script))
                run = new PeerRun(line, null, "", $"peer script not found: {script}", TimeSpan.Zero, null);
            else
            {
                var clock = Stopwatch.StartNew();
                var before = CpuLoad.Take();
                var r = Exec(Python, Arguments(command), TimeSpan.FromMinutes(30));
                var others = CpuLoad.OthersShare(before, CpuLoad.Take());
                run = new PeerRun(line, r.ExitCode, r.Stdout, r.ExitCode == 0 ? null : $"exit code {r.ExitCode}: {Last(r.Stderr)}", clock.Elapsed,
                                  double.IsFinite(others) ? others : null);
            }
            cache[key] = run;
        }
        return run;
    }

    private static string Last(string text) => text.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";

    private static string Quote(string s) => s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || "/._-=,+:".Contains(ch)) ? s : $"'{s.Replace("'", "'\\''")}'";

    private static (int ExitCode, string Stdout, string Stderr) Exec(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The peer allocates as we do: with our process keeping freed memory (mn's default), so does its glibc.
        if (MetaNotebooks.Torch.torch.keeps_freed_memory) psi.Environment["GLIBC_TUNABLES"] = MetaNotebooks.Torch.torch.KeepFreedMemoryTunables;
        try
        {
            using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                return (-1, stdout.Result, $"timed out after {timeout.TotalMinutes:0} min");
            }
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", e.Message);
        }
    }
}

/// <summary>One run of a peer command line: its output (parsed by each benchmark that shares it).</summary>
public sealed record PeerRun(string CommandLine, int? ExitCode, string Stdout, string? Error, TimeSpan Elapsed, double? OthersShare);
