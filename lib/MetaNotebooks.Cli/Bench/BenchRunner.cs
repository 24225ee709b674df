using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Bench;

/// <summary>What `mn bench` was asked to do.</summary>
public sealed record BenchOptions(
    IReadOnlyList<IBenchmark> Benchmarks,
    IReadOnlyList<int> Threads,
    bool Quick,
    int Rounds,
    bool RunPeer,
    string Python,
    string PeerDir,
    string? OutDir,
    TimeSpan WaitIdle = default,
    BenchClock Clock = BenchClock.Wall);

/// <summary>
/// Runs each benchmark for each thread count: rounds alternate ours and the peer (ours first in even rounds, the
/// peer first in odd ones) so that a load change on the machine hits both sides alike. Prints the table and writes it
/// as JSON.
/// </summary>
public sealed class BenchRunner(BenchOptions options, TextWriter output, TextWriter progress)
{
    /// <summary>Every IBenchmark of this assembly, by name.</summary>
    public static IReadOnlyList<IBenchmark> Discover() =>
        typeof(IBenchmark).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) != null)
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    public BenchReport Run()
    {
        var machine = MachineInfo.Current();
        PeerRunner? peer = null;
        string? peerProblem = null;
        if (options.RunPeer)
        {
            peer = new PeerRunner(options.Python, options.PeerDir, options.Clock);
            peerProblem = peer.Problem;
            if (peerProblem != null)
            {
                output.WriteLine($"mn bench: {peerProblem}");
                output.WriteLine("mn bench: reporting our side only.");
            }
        }

        var rows = new List<BenchRow>();
        var originalThreads = torch.get_num_threads();
        try
        {
            foreach (var threads in options.Threads)
                foreach (var b in options.Benchmarks)
                    rows.Add(RunOne(b, threads, peer is { Available: true } ? peer : null));
        }
        finally
        {
            torch.set_num_threads(originalThreads);
        }

        var report = new BenchReport(
            Schema: "mn-bench/1",
            Date: DateTime.Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Machine: machine,
            Peer: new PeerInfo(options.RunPeer ? options.Python : null, peer?.TorchVersion, options.RunPeer ? options.PeerDir : null,
                               options.RunPeer ? peerProblem : "not run (--no-peer)"),
            Harness: "in-process Stopwatch harness (Bench/Harness.cs): warm-up, then samples; a round's value is the mean time per " +
                     "iteration (as the peer scripts print); each side = median over rounds; ratio = median over rounds of " +
                     "peer/ours paired round by round (> 1: we are faster)",
            Results: rows);
        PrintTable(report, rows);
        return report;
    }

    private BenchRow RunOne(IBenchmark b, int threads, PeerRunner? peer)
    {
        var settings0 = new BenchSettings(threads, options.Quick);
        PeerCommand? command = null;
        try { command = peer != null ? b.Peer(settings0) : null; }
        catch (Exception e) { progress.WriteLine($"[bench] {b.Name}: no peer command ({e.Message})"); }

        var ours = new List<Measurement>();
        var oursRounds = new double?[options.Rounds];
        var peerRounds = new double?[options.Rounds];
        string? oursError = null, peerError = null;
        var load = new List<double> { MachineInfo.LoadAverage() };
        var othersOurs = new List<double>();
        var othersPeer = new List<double>();
        var clock = Stopwatch.StartNew();

        for (var round = 0; round < options.Rounds && oursError == null; round++)
        {
            var s = settings0 with { Round = round };
            var peerFirst = round % 2 == 1;
            if (peerFirst) RunPeer(s);
            RunOurs(s);
            if (!peerFirst) RunPeer(s);
            load.Add(MachineInfo.LoadAverage());
            progress.WriteLine($"[bench] {b.Name} threads={threads} round {round + 1}/{options.Rounds}: ours {Format(oursRounds[round])}" +
                               (command != null ? $", peer {Format(peerRounds[round])}" : ""));
        }

        // Each side's value for a round is a mean time per iteration (the peer scripts print total time / iterations,
        // so ours uses the same estimator); across rounds, the median. The ratio pairs the two sides round by round
        // (measured back to back, under the same load) and takes the median of the paired ratios.
        var o = ours.Count > 0 ? Measurement.Combine(ours) : null;
        var oursValues = oursRounds.OfType<double>().ToList();
        var peerValues = peerRounds.OfType<double>().ToList();
        var pairs = Enumerable.Range(0, options.Rounds)
            .Where(r => oursRounds[r] is > 0 && peerRounds[r] is > 0)
            .Select(r => peerRounds[r]!.Value / oursRounds[r]!.Value).ToList();
        return new BenchRow(
            Benchmark: b.Name,
            Measures: b.Measures,
            Threads: threads,
            Quick: options.Quick,
            Clock: options.Clock == BenchClock.Cpu ? "cpu" : "wall",
            Ours: o == null ? null : new OursResult(Stats.Median(oursValues), oursValues, Stats.Median(o.Samples), Stats.Mad(o.Samples),
                                                    o.Samples.Count, o.IterationsPerSample, o.Note, o.Breakdown),
            OursError: oursError,
            Peer: command == null ? null : new PeerResult(peerValues.Count > 0 ? Stats.Median(peerValues) : null, peerValues,
                                                          peer!.CommandLine(command), command.Describe, peerError),
            Ratio: pairs.Count > 0 ? Math.Round(Stats.Median(pairs), 4) : null,
            MeasuredAt: DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture),
            Seconds: Math.Round(clock.Elapsed.TotalSeconds, 1),
            LoadAverage: load.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max(),
            OthersCpuOurs: othersOurs.Select(Round3).ToList(),
            OthersCpuPeer: othersPeer.Select(Round3).ToList());

        static double Round3(double v) => Math.Round(v, 3);

        void WaitIdle()
        {
            if (options.WaitIdle > TimeSpan.Zero) CpuLoad.WaitForIdle(options.WaitIdle, 0.1, progress);
        }

        void RunOurs(BenchSettings s)
        {
            torch.set_num_threads(threads);
            Harness.Clock = options.Clock;
            WaitIdle();
            var before = CpuLoad.Take();
            try
            {
                var m = b.RunOurs(s);
                ours.Add(m);
                oursRounds[s.Round] = m.Mean;
                othersOurs.Add(CpuLoad.OthersShare(before, CpuLoad.Take()));
            }
            catch (BenchmarkSkippedException e)
            {
                oursError = "skipped: " + e.Message;
            }
            catch (Exception e)
            {
                oursError = $"{e.GetType().Name}: {e.Message}";
                progress.WriteLine($"[bench] {b.Name}: our run failed: {e}");
            }
        }

        void RunPeer(BenchSettings s)
        {
            if (command == null || peer == null) return;
            if (!peer.HasRun(command, s.Round)) WaitIdle();
            var run = peer.Run(command, s.Round);
            if (run.Error != null) { peerError = run.Error; return; }
            othersPeer.Add(run.OthersShare ?? double.NaN);
            var v = command.ParseSeconds(run.Stdout);
            if (v is { } sec && double.IsFinite(sec) && sec > 0) peerRounds[s.Round] = sec;
            else peerError = $"could not read {command.Describe} from the peer's output: {run.Stdout.Trim()}";
        }
    }

    private void PrintTable(BenchReport report, IReadOnlyList<BenchRow> rows)
    {
        var m = report.Machine;
        output.WriteLine();
        output.WriteLine($"machine: {m.Host}, nproc {m.Nproc}, {m.Cpu}; {m.Os}; {m.Dotnet}; libtorch {m.Libtorch}");
        output.WriteLine(report.Peer.Problem == null
            ? $"peer:    {report.Peer.Python} (torch {report.Peer.Torch}), scripts in {report.Peer.Scripts}"
            : $"peer:    {report.Peer.Problem}");
        output.WriteLine($"{(options.Quick ? "quick mode (smoke-test sizes, not for comparison); " : "")}{options.Rounds} round(s); {(options.Clock == BenchClock.Cpu ? "CPU time of each process (all threads; peer timed through a clock swap)" : "wall-clock")} times per iteration: median over rounds of each round's mean ± MAD over rounds");
        output.WriteLine("ratio = peer time / our time, paired round by round, median (> 1: we are faster)");
        output.WriteLine("others = the largest share of the machine's CPU that other processes used during a measurement (high: numbers are noisy)");
        output.WriteLine();
        var nameWidth = Math.Max(10, rows.Select(r => r.Benchmark.Length).DefaultIfEmpty(0).Max());
        output.WriteLine($"{"benchmark".PadRight(nameWidth)}  threads  {"ours",-22} {"peer",-22} {"ratio",7}  others");
        foreach (var r in rows)
        {
            var ours = r.OursError ?? (r.Ours is { } o ? $"{Format(o.Seconds)} ± {Format(Stats.Mad(o.RoundsSeconds))}" : "—");
            var peer = r.Peer == null ? "—" : r.Peer.Seconds is { } pm
                ? $"{Format(pm)} ± {Format(Stats.Mad(r.Peer.RunsSeconds))}"
                : (r.Peer.Error ?? "—");
            var ratio = r.Ratio is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "—";
            output.WriteLine($"{r.Benchmark.PadRight(nameWidth)}  {r.Threads,7}  {ours,-22} {peer,-22} {ratio,7}  {(double.IsFinite(r.OthersCpuMax) ? r.OthersCpuMax.ToString("P0", CultureInfo.InvariantCulture) : "?")}");
        }
        foreach (var r in rows.Where(r => r.Peer?.Error != null || r.Ours?.Note != null || r.Ours?.Breakdown != null))
        {
            if (r.Ours?.Note is { } note) output.WriteLine($"  {r.Benchmark} (threads {r.Threads}): {note}");
            if (r.Ours?.Breakdown is { } parts)
                output.WriteLine($"  {r.Benchmark} (threads {r.Threads}) breakdown: {string.Join(", ", parts.Select(p => $"{p.Key} {Format(p.Value)}"))}");
            if (r.Peer?.Error is { } err) output.WriteLine($"  {r.Benchmark} (threads {r.Threads}) peer: {err}");
        }
    }

    /// <summary>A time in seconds with a readable unit and three significant digits.</summary>
    public static string Format(double? seconds)
    {
        if (seconds is not { } s || !double.IsFinite(s)) return "—";
        var (v, unit) = Math.Abs(s) switch
        {
            < 1e-6 => (s * 1e9, "ns"),
            < 1e-3 => (s * 1e6, "µs"),
            < 1 => (s * 1e3, "ms"),
            _ => (s, "s"),
        };
        var format = Math.Abs(v) >= 100 ? "0" : Math.Abs(v) >= 10 ? "0.0" : "0.00";
        return v.ToString(format, CultureInfo.InvariantCulture) + " " + unit;
    }

    // ---- JSON ----

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Writes the report to DIR/&lt;date&gt;-&lt;host&gt;.json atomically (a temp file in DIR, then a rename). Rows of an
    /// earlier run of the same day and host are kept unless this run measured the same benchmark, thread count and mode.
    /// </summary>
    public static string Write(BenchReport report, string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"{report.Date}-{Sanitize(report.Machine.Host)}.json");
        var merged = report;
        if (File.Exists(path))
        {
            try
            {
                var old = JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(path), Json);
                if (old?.Results != null)
                {
                    var fresh = report.Results.Select(Key).ToHashSet();
                    var kept = old.Results.Where(r => !fresh.Contains(Key(r)));
                    merged = report with
                    {
                        Results = kept.Concat(report.Results)
                            .OrderBy(r => r.Quick).ThenBy(r => r.Clock).ThenBy(r => r.Threads).ThenBy(r => r.Benchmark, StringComparer.Ordinal).ToList(),
                    };
                }
            }
            catch (JsonException)
            {
                // An unreadable earlier file is replaced, not merged.
            }
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, JsonSerializer.Serialize(merged, Json) + "\n");
        File.Move(temp, path, overwrite: true);
        return path;

        static (string, int, bool, string) Key(BenchRow r) => (r.Benchmark, r.Threads, r.Quick, r.Clock ?? "wall");
    }

    private static string Sanitize(string host) =>
        new(host.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}

public sealed record BenchReport(string Schema, string Date, MachineInfo Machine, PeerInfo Peer, string Harness, IReadOnlyList<BenchRow> Results);

public sealed record PeerInfo(string? Python, string? Torch, string? Scripts, string? Problem);

public sealed record BenchRow(
    string Benchmark,
    string Measures,
    int Threads,
    bool Quick,
    string? Clock,
    OursResult? Ours,
    string? OursError,
    PeerResult? Peer,
    double? Ratio,
    string MeasuredAt,
    double Seconds,
    double LoadAverage,
    IReadOnlyList<double>? OthersCpuOurs = null,
    IReadOnlyList<double>? OthersCpuPeer = null)
{
    /// <summary>The largest share of the machine other processes used during any of this row's measurements.</summary>
    public double OthersCpuMax => (OthersCpuOurs ?? []).Concat(OthersCpuPeer ?? []).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
}

/// <summary>Our side: Seconds = median over rounds of each round's mean time per iteration (RoundsSeconds); the
/// samples' median and MAD describe the spread inside rounds; Breakdown (optional): seconds per named part of an
/// iteration, median over rounds.</summary>
public sealed record OursResult(double Seconds, IReadOnlyList<double> RoundsSeconds, double SampleMedianSeconds, double SampleMadSeconds,
                                int Samples, long IterationsPerSample, string? Note, IReadOnlyDictionary<string, double>? Breakdown = null);

/// <summary>The peer: Seconds = median over rounds of what the script printed (RunsSeconds, one per round).</summary>
public sealed record PeerResult(double? Seconds, IReadOnlyList<double> RunsSeconds, string Command, string Reads, string? Error);
