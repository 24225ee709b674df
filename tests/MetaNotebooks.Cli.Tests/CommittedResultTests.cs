using MetaNotebooks.Cli.Reproductions;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Tests;

/// <summary>
/// No command destroys a committed result: runs on a repository the test makes (papers/finn2017-maml with its
/// published.json), with tiny sine runs of one libtorch thread.
/// </summary>
public sealed class CommittedResultTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mn-committed-").FullName;
    private string Papers => Path.Combine(root, "papers", "finn2017-maml");
    private string Published(string file) => Path.Combine(Papers, "results", file);
    private string Scratch(string file) => Path.Combine(root, ".local", "scratch", "finn2017-maml", "results", file);

    public CommittedResultTests()
    {
        torch.set_num_threads(1);
        Directory.CreateDirectory(Papers);
        File.Copy(Path.Combine(RepositoryRoot.Find(), "papers", "finn2017-maml", "published.json"), Path.Combine(Papers, "published.json"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private int Sine(bool force, params string[] args) =>
        new MamlSineReproduction().Run(new Options(["--meta-batch", "2", "--eval-tasks", "2", .. args]),
                                       new ReproductionContext(root, "./mn reproduce maml-sine " + string.Join(" ", args), CancellationToken.None) { Force = force });

    private Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertSame(Dictionary<string, byte[]> before, Dictionary<string, byte[]> after)
    {
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.SequenceEqual(after[name]), $"{name} changed");
    }

    [Fact]
    public void ASmokeRunNeverReplacesACommittedResult()
    {
        Assert.Equal(0, Sine(false, "--iterations", "3"));   // nothing committed yet: published
        var committed = Snapshot(Path.Combine(Papers, "results"));
        Assert.Contains("maml-sine-maml.model.mntd", committed.Keys);
        Assert.Equal(3, ResultFile.Load(Published("maml-sine.json")).Details!["maml"]!["iterations"]!.GetValue<int>());

        // A shorter run (started over, as a smoke test would be): its result goes to scratch, the committed one stays.
        Assert.Equal(0, Sine(false, "--iterations", "1", "--restart"));
        AssertSame(committed, Snapshot(Path.Combine(Papers, "results")));
        Assert.Equal(1, ResultFile.Load(Scratch("maml-sine.json")).Details!["maml"]!["iterations"]!.GetValue<int>());
        Assert.True(File.Exists(Scratch("maml-sine-maml.model.mntd")));
        Assert.True(File.Exists(Path.Combine(root, ".local", "scratch", "finn2017-maml", "README.md")));

        // Other settings, however long, are not the committed result either.
        Assert.Equal(0, Sine(false, "--iterations", "3", "--restart", "--seed", "2"));
        AssertSame(committed, Snapshot(Path.Combine(Papers, "results")));

        // --force replaces it.
        Assert.Equal(0, Sine(true, "--iterations", "1", "--restart"));
        Assert.Equal(1, ResultFile.Load(Published("maml-sine.json")).Details!["maml"]!["iterations"]!.GetValue<int>());
        Assert.False(committed["maml-sine-maml.model.mntd"].SequenceEqual(File.ReadAllBytes(Published("maml-sine-maml.model.mntd"))));
    }

    [Fact]
    public void ALongerRunWithTheSameSettingsReplacesTheCommittedResult()
    {
        Assert.Equal(0, Sine(false, "--iterations", "2"));
        Assert.Equal(0, Sine(false, "--iterations", "4"));   // resumes the committed checkpoint and goes further
        Assert.Equal(4, ResultFile.Load(Published("maml-sine.json")).Details!["pretrained"]!["iterations"]!.GetValue<int>());
        Assert.False(File.Exists(Scratch("maml-sine.json")));
    }

    [Fact]
    public void ARestartWithoutForceNeverDeletesACommittedCheckpoint()
    {
        var checkpoint = Path.Combine(Papers, "checkpoints", "maml-sine-maml.mntd");
        Assert.Equal(0, Sine(false, "--iterations", "2"));
        var bytes = File.ReadAllBytes(checkpoint);
        Assert.Equal(0, Sine(false, "--iterations", "1", "--restart"));
        Assert.True(bytes.SequenceEqual(File.ReadAllBytes(checkpoint)), "the committed checkpoint must be kept");
        Assert.True(File.Exists(Path.Combine(root, ".local", "scratch", "finn2017-maml", "checkpoints", "maml-sine-maml.mntd")));
    }

    [Fact]
    public void RestartValidatesEveryOptionBeforeDeletingACheckpoint()
    {
        // maml-omniglot --ways 20 --hours 1e6 --restart --force: the budget is refused before the checkpoint is touched.
        var checkpoint = Path.Combine(Papers, "checkpoints", "maml-omniglot-20w1s.mntd");
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        File.WriteAllText(checkpoint, "1.91 h of training");
        var context = new ReproductionContext(root, "test", CancellationToken.None) { Force = true };
        foreach (var hours in new[] { "1e6", "NaN", "Infinity", "0", "-1" })
        {
            var error = Assert.Throws<UsageException>(() => new MamlOmniglotReproduction().Run(new Options(["--ways", "20", "--hours", hours, "--restart"]), context));
            Assert.Contains("--hours", error.Message);
            Assert.True(File.Exists(checkpoint), $"--hours {hours} --restart deleted the checkpoint");
        }
    }
}
