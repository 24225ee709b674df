using System.Text.Json;
using MetaNotebooks.Cli;
using MetaNotebooks.Cli.Bench;
using MetaNotebooks.Cli.Commands;

namespace MetaNotebooks.Cli.Tests;

/// <summary>`mn bench --quick` runs every benchmark and writes its JSON; the peer's absence is reported, not fatal.
/// No timing is asserted and Python's torch is not needed.</summary>
public sealed class BenchSmokeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("mn-bench-test-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void QuickRunOfEveryBenchmarkWritesTheTable()
    {
        var exit = new BenchCommand().Run(["--quick", "--threads", "1", "--no-peer", "--out", dir]);

        Assert.Equal(0, exit);
        var file = Assert.Single(Directory.GetFiles(dir, "*.json"));
        var report = JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(file), BenchRunner.Json)!;
        Assert.Equal(BenchRunner.Discover().Select(b => b.Name).Order(), report.Results.Select(r => r.Benchmark).Order());
        foreach (var row in report.Results)
        {
            Assert.True(row.Ours != null || row.OursError?.StartsWith("skipped") == true, $"{row.Benchmark}: {row.OursError}");
            Assert.True(row.Ours is null || row.Ours.Seconds > 0, row.Benchmark);
            Assert.Equal(1, row.Threads);
            Assert.True(row.Quick);
        }
        Assert.Contains("overhead.add", report.Results.Select(r => r.Benchmark));
        Assert.Contains("protonet.omniglot", report.Results.Select(r => r.Benchmark));
        Assert.False(Directory.EnumerateFiles(dir, "*.tmp", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void APythonWithoutTorchIsReportedWithTheInstallCommand()
    {
        var peers = Directory.CreateDirectory(Path.Combine(dir, "peers")).FullName;
        var output = new StringWriter();
        var options = new BenchOptions(BenchCommand.Select(BenchRunner.Discover(), ["overhead.add"]), [1], Quick: true, Rounds: 1,
                                       RunPeer: true, Python: "/bin/false", PeerDir: peers, OutDir: dir);

        var report = new BenchRunner(options, output, TextWriter.Null).Run();

        Assert.Contains("apt-get install python3-torch", output.ToString());
        Assert.Contains("/bin/false", report.Peer.Problem);
        var row = Assert.Single(report.Results);
        Assert.NotNull(row.Ours);
        Assert.Null(row.Peer);
        Assert.Null(row.Ratio);
    }

    [Fact]
    public void ResultsOfTheSameDayAreMergedByBenchmarkAndThreads()
    {
        var options = new BenchOptions(BenchCommand.Select(BenchRunner.Discover(), ["binding.pinvoke"]), [1], Quick: true, Rounds: 1,
                                       RunPeer: false, Python: "", PeerDir: "", OutDir: dir);
        var first = new BenchRunner(options, TextWriter.Null, TextWriter.Null).Run();
        BenchRunner.Write(first, dir);
        var second = new BenchRunner(options with { Threads = [2] }, TextWriter.Null, TextWriter.Null).Run();
        var path = BenchRunner.Write(second, dir);
        BenchRunner.Write(second, dir);

        var merged = JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(path), BenchRunner.Json)!;
        Assert.Equal([1, 2], merged.Results.Select(r => r.Threads).Order());
    }

    [Fact]
    public void AnExactNameSelectsOneBenchmarkAndAPrefixItsFamily()
    {
        var all = BenchRunner.Discover();
        Assert.Equal(["binding.pinvoke"], BenchCommand.Select(all, ["binding.pinvoke"]).Select(b => b.Name));
        var family = BenchCommand.Select(all, ["overhead"]).Select(b => b.Name).ToList();
        Assert.Contains("overhead.add", family);
        Assert.Contains("overhead.mlp", family);
        Assert.All(family, n => Assert.StartsWith("overhead.", n));
    }

    [Theory]
    [InlineData("--threads", "0")]
    [InlineData("--threads", "x")]
    [InlineData("--rounds", "-1")]
    [InlineData("--frobnicate")]
    [InlineData("--clock", "sundial")]
    [InlineData("no-such-benchmark")]
    public void BadArgumentsAreUsageErrors(params string[] args) =>
        Assert.Throws<UsageException>(() => new BenchCommand().Run([.. args, "--no-peer", "--out", dir]));

    [Fact]
    public void PeerOutputIsParsedIntoSecondsPerIteration()
    {
        const string overhead = "add_1elem_us=1.21 mlp_fwd_bwd_us=108.5 threads=1\n";
        Assert.Equal(1.21e-6, PeerCommand.TimeValue("overhead_torch.py", ["1"], "add_1elem_us", 1e-6).ParseSeconds(overhead)!.Value, 12);
        Assert.Equal(108.5e-6, PeerCommand.TimeValue("overhead_torch.py", ["1"], "mlp_fwd_bwd_us", 1e-6).ParseSeconds(overhead)!.Value, 12);
        const string protonet = "protonet 60-way 5-shot 5-query episodes/s=0.800 threads=1\n";
        Assert.Equal(1.25, PeerCommand.RateValue("protonet_omniglot_torch.py", ["10", "1"], "episodes/s").ParseSeconds(protonet)!.Value, 12);
        Assert.Equal(0.25, PeerCommand.TimeValue("maml_omniglot_torch.py", ["3"], "s/iter", 1).ParseSeconds("... s/iter=0.250 threads=2")!.Value, 12);
        Assert.Null(PeerCommand.ReadValue("nothing here", "it/s"));
    }
}
