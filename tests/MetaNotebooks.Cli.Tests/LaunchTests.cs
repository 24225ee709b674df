using System.Diagnostics;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Tests;

/// <summary>`mn launch` as a child process on a repository the test makes: ranks over loopback, bounded in time.</summary>
public sealed class LaunchTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mn-launch-").FullName;
    private string Paper => Path.Combine(root, "papers", "finn2017-maml");

    public LaunchTests()
    {
        Directory.CreateDirectory(Paper);
        File.Copy(Path.Combine(RepositoryRoot.Find(), "papers", "finn2017-maml", "published.json"), Path.Combine(Paper, "published.json"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private (int Code, string Out, string Err) Mn(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mn.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MN_ROOT"] = root;
        using var mn = Process.Start(psi)!;
        var err = mn.StandardError.ReadToEndAsync();
        var output = mn.StandardOutput.ReadToEndAsync();
        if (!mn.WaitForExit(TimeSpan.FromMinutes(4))) { mn.Kill(entireProcessTree: true); Assert.Fail("mn did not finish within 4 minutes"); }
        return (mn.ExitCode, output.Result, err.Result);
    }

    [Fact]
    public void TwoRanksTrainTogetherAndOnlyRankZeroWrites()
    {
        var (code, output, err) = Mn("launch", "--nproc", "2", "--timeout", "60", "reproduce", "maml-sine", "--iterations", "4", "--meta-batch", "4", "--eval-tasks", "4");
        Assert.True(code == 0, $"exit {code}\n{err}");
        var result = ResultFile.Load(Path.Combine(Paper, "results", "maml-sine.json"));
        Assert.Equal(2, result.WorldSize);
        Assert.Equal(2, result.Invocations![^1].WorldSize);
        Assert.Equal(4, result.Details!["maml"]!["iterations"]!.GetValue<int>());
        // One writer: rank 0 published; rank 1 neither published nor left a result in scratch (where a writer's goes first).
        Assert.Contains("Wrote papers/finn2017-maml/results/maml-sine.json", output);
        Assert.DoesNotContain("[rank 1] Wrote", output);
        var scratch = Path.Combine(root, ".local", "scratch", "finn2017-maml", "results");
        Assert.False(Directory.Exists(scratch) && Directory.GetFiles(scratch).Length > 0, "a rank left a result in scratch");
    }

    [Fact]
    public void AnExperimentWithoutDataParallelTrainingRefusesTheLauncher()
    {
        var (code, _, err) = Mn("launch", "--nproc", "2", "--timeout", "30", "reproduce", "maml-omniglot", "--hours", "0.001");
        Assert.NotEqual(0, code);
        Assert.Contains("does not train data-parallel yet", err);
        Assert.Contains("maml-sine", err);
    }

    [Theory]
    [InlineData("its --nproc", new[] { "launch", "reproduce", "maml-sine" }, "--nproc N is required")]
    [InlineData("a bad port", new[] { "launch", "--nproc", "2", "--master", "localhost:99999", "reproduce" }, "port in 1…65535")]
    [InlineData("a node rank past the nodes", new[] { "launch", "--nproc", "1", "--nnodes", "2", "--node-rank", "2", "--master", "h:1234", "papers" }, "must be below --nnodes 2")]
    [InlineData("several machines without a master", new[] { "launch", "--nproc", "1", "--nnodes", "2", "papers" }, "need --master")]
    [InlineData("a command", new[] { "launch", "--nproc", "2" }, "which mn command")]
    public void BadLaunchOptionsAreAUsageError(string what, string[] args, string message)
    {
        var (code, _, err) = Mn(args);
        Assert.True(code == 2, $"{what}: exit {code}\n{err}");
        Assert.Contains(message, err);
    }

    [Fact]
    public async Task ARankWithAWrongWorldSizeFailsWithinTheTimeoutNotHangs()
    {
        // One process told that the world has 2 ranks, the other never comes: the rendezvous gives up with a message.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "mn.dll"), "reproduce", "maml-sine", "--iterations", "2", "--meta-batch", "2", "--eval-tasks", "2" })
            psi.ArgumentList.Add(a);
        psi.Environment["MN_ROOT"] = root;
        psi.Environment["MASTER_ADDR"] = "127.0.0.1";
        psi.Environment["MASTER_PORT"] = "29517";
        psi.Environment["WORLD_SIZE"] = "2";
        psi.Environment["RANK"] = "0";
        psi.Environment["MN_COLLECTIVE_TIMEOUT"] = "3";
        using var mn = Process.Start(psi)!;
        var err = mn.StandardError.ReadToEndAsync();
        _ = mn.StandardOutput.ReadToEndAsync();
        Assert.True(mn.WaitForExit(TimeSpan.FromMinutes(2)), "a rank waiting for a missing peer did not give up");
        Assert.Equal(1, mn.ExitCode);
        Assert.Contains("rank 0 of 2", await err);
        Assert.False(Directory.Exists(Path.Combine(Paper, "results")));
    }
}
