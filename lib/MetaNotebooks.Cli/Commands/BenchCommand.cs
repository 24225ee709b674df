using System.Globalization;
using MetaNotebooks.Cli.Bench;

namespace MetaNotebooks.Cli.Commands;

/// <summary>
/// `mn bench [names…] [--threads N[,M…]] [--quick] …`: our benchmarks side by side with the plain-PyTorch peers of
/// ../shared/bench on the same machine and thread count; prints the table and writes it to
/// papers/benchmarks/&lt;date&gt;-&lt;host&gt;.json.
/// </summary>
public sealed class BenchCommand : ICommand
{
    public string Name => "bench";

    public string Summary => "time our tensor code against plain PyTorch 1.13 (../shared/bench), as ratios";

    public const string Usage =
        """
        usage: mn bench [names…] [--threads N[,M…]] [--quick] [--rounds R] [--no-peer] [--wait-idle S]
                        [--clock wall|cpu]
                        [--python PATH] [--peer-dir DIR] [--out DIR] [--list]
          names        benchmarks to run: a full name (only that one) or a prefix ("overhead" runs overhead.*); default: all
          --threads    thread counts to run, e.g. 1 or 1,2 (default: 1 and nproc)
          --quick      smoke-test sizes, one round (not for comparison; written only with --out)
          --rounds     rounds of ours/peer, alternating who goes first (default 3, quick 1)
          --no-peer    run our side only
          --clock      wall (default): elapsed time; cpu: CPU time of each process, all threads, the peer's through
                       a clock swap (time.time = time.process_time): robust on a busy machine, but with several
                       threads it measures total work, not latency
          --wait-idle  before each measurement wait up to S seconds for other processes to use < 10 % of the CPU
          --python     the peer's Python (default $MN_PYTHON or /usr/bin/python3: Debian's, with python3-torch)
          --peer-dir   folder of the peer scripts (default $MN_BENCH_PEERS or ../shared/bench beside the repository)
          --out        folder for the JSON (default papers/benchmarks in the repository; quick runs: none)
          --list       list the benchmarks and what they measure
        """;

    public int Run(string[] args)
    {
        var names = new List<string>();
        List<int>? threads = null;
        bool quick = false, noPeer = false, list = false;
        int? rounds = null;
        var waitIdle = TimeSpan.Zero;
        var clock = BenchClock.Wall;
        string? python = null, peerDir = null, outDir = null;

        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value.\n{Usage}");
            switch (a)
            {
                case "--threads": threads = ParseThreads(Value()); break;
                case "--quick": quick = true; break;
                case "--rounds": rounds = ParsePositive(Value(), a); break;
                case "--no-peer": noPeer = true; break;
                case "--clock":
                    clock = Value() switch
                    {
                        "wall" => BenchClock.Wall,
                        "cpu" => BenchClock.Cpu,
                        var v => throw new UsageException($"--clock is wall or cpu, not '{v}'.\n{Usage}"),
                    };
                    break;
                case "--wait-idle": waitIdle = TimeSpan.FromSeconds(ParsePositive(Value(), a)); break;
                case "--python": python = Value(); break;
                case "--peer-dir": peerDir = Value(); break;
                case "--out": outDir = Value(); break;
                case "--list": list = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default:
                    if (a.StartsWith('-')) throw new UsageException($"unknown option {a}.\n{Usage}");
                    names.Add(a);
                    break;
            }
        }

        var all = BenchRunner.Discover();
        if (list)
        {
            var width = all.Select(b => b.Name.Length).DefaultIfEmpty(10).Max();
            foreach (var b in all) Console.WriteLine($"  {b.Name.PadRight(width)}  {b.Measures}");
            return 0;
        }

        var selected = Select(all, names);
        var root = RepositoryRoot.Find();
        var options = new BenchOptions(
            Benchmarks: selected,
            Threads: threads ?? new[] { 1, Environment.ProcessorCount }.Distinct().ToList(),
            Quick: quick,
            Rounds: rounds ?? (quick ? 1 : 3),
            RunPeer: !noPeer,
            Python: python ?? Environment.GetEnvironmentVariable("MN_PYTHON") ?? PeerRunner.DefaultPython,
            PeerDir: peerDir ?? Environment.GetEnvironmentVariable("MN_BENCH_PEERS") ?? Path.GetFullPath(Path.Combine(root, "..", "shared", "bench")),
            OutDir: outDir ?? Path.Combine(root, "papers", "benchmarks"),
            WaitIdle: waitIdle,
            Clock: clock);

        var report = new BenchRunner(options, Console.Out, Console.Error).Run();
        if (quick && outDir is null)
            Console.WriteLine("\nquick mode: not written to papers/benchmarks (smoke-test numbers); pass --out DIR to keep them");
        else
        {
            var path = BenchRunner.Write(report, options.OutDir!);
            Console.WriteLine($"\nwrote {Path.GetRelativePath(Directory.GetCurrentDirectory(), path)}");
        }
        return report.Results.Any(r => r.OursError != null && !r.OursError.StartsWith("skipped", StringComparison.Ordinal)) ? 1 : 0;
    }

    /// <summary>Exact names, else prefixes ("overhead" → overhead.*), in the order given; unknown → usage error.</summary>
    public static IReadOnlyList<IBenchmark> Select(IReadOnlyList<IBenchmark> all, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return all;
        var picked = new List<IBenchmark>();
        foreach (var n in names)
        {
            // An exact name selects that benchmark alone; otherwise the name is a prefix of dotted names.
            var match = all.Where(b => b.Name == n).ToList();
            if (match.Count == 0) match = all.Where(b => b.Name.StartsWith(n + ".", StringComparison.Ordinal)).ToList();
            if (match.Count == 0)
                throw new UsageException($"no benchmark named '{n}'. Benchmarks: {string.Join(", ", all.Select(b => b.Name))}.");
            picked.AddRange(match.Where(m => !picked.Contains(m)));
        }
        return picked;
    }

    private static List<int> ParseThreads(string value)
    {
        var list = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => ParsePositive(v, "--threads")).Distinct().ToList();
        return list.Count > 0 ? list : throw new UsageException($"--threads needs a positive integer or a list like 1,2.\n{Usage}");
    }

    private static int ParsePositive(string v, string option) =>
        int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new UsageException($"{option} needs a positive integer, not '{v}'.\n{Usage}");
}
