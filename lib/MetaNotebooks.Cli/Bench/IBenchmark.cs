using System.Globalization;
using System.Text.RegularExpressions;

namespace MetaNotebooks.Cli.Bench;

/// <summary>
/// One side-by-side benchmark of `mn bench`: our C# code on MetaNotebooks.Torch against a peer script in plain
/// PyTorch (../shared/bench), on the same machine and thread count. Found by reflection: add a public class with a
/// parameterless constructor that implements this interface (anywhere in the mn assembly, by convention under
/// Bench/Benchmarks/), and `mn bench` lists and runs it. See Bench/README.md.
/// </summary>
public interface IBenchmark
{
    /// <summary>Dotted name, e.g. "overhead.add" or "maml.sine.second-order"; `mn bench overhead` runs every "overhead.*".</summary>
    string Name { get; }

    /// <summary>One line: what one iteration is, so that a reader knows what the time means.</summary>
    string Measures { get; }

    /// <summary>
    /// Runs our side and returns seconds per iteration. The runner has already set the thread count
    /// (torch.set_num_threads(settings.Threads)); it calls this once per round, interleaved with the peer's runs.
    /// Use <see cref="Harness"/> for warm-up and repeated timing.
    /// </summary>
    Measurement RunOurs(BenchSettings settings);

    /// <summary>
    /// The peer command for the same thread count (and the same work), or null when the benchmark has no peer
    /// (a breakdown of our own costs). The peer's output is parsed into seconds per iteration.
    /// </summary>
    PeerCommand? Peer(BenchSettings settings);
}

/// <summary>What a run asks for: the thread count, quick mode (smoke test sizes) and the round being run.</summary>
public sealed record BenchSettings(int Threads, bool Quick, int Round = 0)
{
    /// <summary>full when not quick, otherwise quick: the usual way to size iteration counts.</summary>
    public T Pick<T>(T full, T quick) => Quick ? quick : full;
}

/// <summary>
/// A peer script of ../shared/bench run with Debian's /usr/bin/python3 (python3-torch, the same libtorch we bind).
/// Runs that share a command line within a round are run once: overhead_torch.py prints two numbers, two benchmarks
/// read one each.
/// </summary>
/// <param name="Script">File name inside the peer folder, e.g. "overhead_torch.py".</param>
/// <param name="Arguments">Arguments after the script (iteration counts, threads).</param>
/// <param name="ParseSeconds">Seconds per iteration from the script's standard output (null: not found).</param>
/// <param name="Describe">How the number is read, for the report (e.g. "mlp_fwd_bwd_us × 1e-6").</param>
public sealed record PeerCommand(string Script, IReadOnlyList<string> Arguments, Func<string, double?> ParseSeconds, string Describe)
{
    /// <summary>The script prints `key=value` with value already a time per iteration; multiply by scale to get seconds.</summary>
    public static PeerCommand TimeValue(string script, IReadOnlyList<string> arguments, string key, double scale) =>
        new(script, arguments, output => ReadValue(output, key) * scale, scale == 1 ? key : $"{key} × {scale.ToString("G", CultureInfo.InvariantCulture)} s");

    /// <summary>The script prints `key=value` with value a rate (iterations per second); seconds = 1 / value.</summary>
    public static PeerCommand RateValue(string script, IReadOnlyList<string> arguments, string key) =>
        new(script, arguments, output => 1 / ReadValue(output, key), $"1 / {key}");

    /// <summary>The last `key=number` in the output (null when absent).</summary>
    public static double? ReadValue(string output, string key)
    {
        var matches = Regex.Matches(output, Regex.Escape(key) + @"=\s*([-+0-9.eE]+|nan|inf)");
        if (matches.Count == 0) return null;
        return double.TryParse(matches[^1].Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
    }
}

/// <summary>
/// Seconds per iteration, one value per timed sample (each sample the mean of IterationsPerSample iterations). A
/// benchmark may add a breakdown: named parts of an iteration in seconds (e.g. the phases of an episode), written to the
/// JSON beside the note.
/// </summary>
public sealed record Measurement(IReadOnlyList<double> Samples, long IterationsPerSample, string? Note = null,
                                 IReadOnlyDictionary<string, double>? Breakdown = null)
{
    public double Median => Stats.Median(Samples);

    /// <summary>Mean time per iteration over all samples (the estimator of the peer scripts: total time / iterations).</summary>
    public double Mean => Samples.Count == 0 ? double.NaN : Samples.Average();

    /// <summary>Median absolute deviation from the median (unscaled).</summary>
    public double Mad => Stats.Mad(Samples);

    /// <summary>Joins the samples of several rounds; a part of the breakdown becomes its median over the rounds.</summary>
    public static Measurement Combine(IReadOnlyList<Measurement> rounds) =>
        new(rounds.SelectMany(r => r.Samples).ToList(), rounds.Count == 0 ? 0 : rounds[0].IterationsPerSample,
            rounds.Select(r => r.Note).FirstOrDefault(n => n != null),
            rounds.Any(r => r.Breakdown != null)
                ? rounds.SelectMany(r => r.Breakdown ?? new Dictionary<string, double>()).GroupBy(kv => kv.Key)
                        .ToDictionary(g => g.Key, g => Stats.Median(g.Select(kv => kv.Value)))
                : null);
}

/// <summary>The benchmark cannot run here (a missing export, a missing data file): reported, not fatal.</summary>
public sealed class BenchmarkSkippedException(string message) : Exception(message);

public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static double Mad(IEnumerable<double> values)
    {
        var list = values.Where(double.IsFinite).ToList();
        if (list.Count == 0) return double.NaN;
        var m = Median(list);
        return Median(list.Select(x => Math.Abs(x - m)));
    }
}
