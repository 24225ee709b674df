using MetaNotebooks.Cli.Reproductions;
using MetaNotebooks.Results;
using MetaNotebooks.Torch;

namespace MetaNotebooks.Cli.Tests;

/// <summary>
/// A result made over several invocations lists all of them (issue 22, item 5): tiny maml-sine runs on one libtorch
/// thread in a repository the test makes, resumed, restarted, stopped and killed.
/// </summary>
public sealed class InvocationHistoryTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mn-invocations-").FullName;
    private string Papers => Path.Combine(root, "papers", "finn2017-maml");
    private string Published => Path.Combine(Papers, "results", "maml-sine.json");
    private string History => Path.Combine(Papers, "checkpoints", "maml-sine" + InvocationHistory.Suffix);
    private IEnumerable<string> Checkpoints => new[] { "maml", "fomaml", "pretrained" }.Select(m => Path.Combine(Papers, "checkpoints", $"maml-sine-{m}.mntd"));

    public InvocationHistoryTests()
    {
        torch.set_num_threads(1);
        Directory.CreateDirectory(Papers);
        File.Copy(Path.Combine(RepositoryRoot.Find(), "papers", "finn2017-maml", "published.json"), Path.Combine(Papers, "published.json"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    private ReproductionContext Context(params string[] args) => new(root, "./mn reproduce maml-sine " + string.Join(" ", args), CancellationToken.None);

    private static string Json(object? value) => System.Text.Json.JsonSerializer.Serialize(value, ResultFile.Json);

    private int Sine(params string[] args) =>
        new MamlSineReproduction().Run(new Options(["--meta-batch", "2", "--eval-tasks", "2", .. args]), Context(args));

    [Fact]
    public void AResumedRunListsEveryInvocationWithItsProgress()
    {
        Assert.Equal(0, Sine("--iterations", "2"));
        var first = ResultFile.Load(Published);
        var one = Assert.Single(first.Invocations!);
        Assert.Equal(("./mn reproduce maml-sine --iterations 2", Invocation.Outcomes.Result, 2L), (one.Command, one.Outcome, one.Progress!["maml.iterations"]));
        Assert.Equal(first.Commit, one.Commit);
        Assert.NotNull(one.Started);
        Assert.True(one.Started <= one.Finished);
        Assert.Equal(Json(first.Invocations), Json(InvocationHistory.Load(History)));   // the list beside the checkpoint is the result's

        Assert.Equal(0, Sine("--iterations", "4"));   // resumes the checkpoint: a second invocation of the same result
        var second = ResultFile.Load(Published);
        Assert.Equal(["./mn reproduce maml-sine --iterations 2", "./mn reproduce maml-sine --iterations 4"], second.Invocations!.Select(i => i.Command));
        Assert.Equal([2L, 4L], second.Invocations!.Select(i => i.Progress!["pretrained.iterations"]));
        Assert.Equal(second.WallSeconds, second.Invocations![1].WallSeconds);
        Assert.StartsWith("made in 2 invocations", second.Provenance());
        Assert.Equal(2, InvocationHistory.Load(History).Count);
    }

    [Fact]
    public void ARestartStartsANewListAndKeepsTheCommittedOne()
    {
        Assert.Equal(0, Sine("--iterations", "2"));
        Assert.Equal(0, Sine("--iterations", "3"));
        Assert.Equal(0, Sine("--iterations", "1", "--restart"));   // in scratch: the committed checkpoint and its history stay
        var scratch = ResultFile.Load(Path.Combine(root, ".local", "scratch", "finn2017-maml", "results", "maml-sine.json"));
        Assert.Single(scratch.Invocations!);
        Assert.Equal(2, ResultFile.Load(Published).Invocations!.Count);
        Assert.Equal(2, InvocationHistory.Load(History).Count);
    }

    [Fact]
    public void AnInvocationStoppedOrKilledBeforeItsResultIsListedByTheNext()
    {
        Assert.Equal(0, Sine("--iterations", "2"));

        // Stopped (Ctrl-C after training began): `mn reproduce` records it on the way out.
        var stopped = Context("--iterations", "9");
        stopped.Restart(false, Checkpoints);
        Assert.Equal(Invocation.Outcomes.Running, InvocationHistory.Load(History)[^1].Outcome);
        stopped.RecordStop();
        Assert.Equal(Invocation.Outcomes.Stopped, InvocationHistory.Load(History)[^1].Outcome);

        // Killed: nothing recorded its end.
        Context("--iterations", "10").Restart(false, Checkpoints);

        Assert.Equal(0, Sine("--iterations", "3"));
        var result = ResultFile.Load(Published);
        Assert.Equal([Invocation.Outcomes.Result, Invocation.Outcomes.Stopped, Invocation.Outcomes.Running, Invocation.Outcomes.Result],
                     result.Invocations!.Select(i => i.Outcome));
        Assert.NotNull(result.Invocations![1].WallSeconds);
        Assert.Null(result.Invocations![2].Finished);
        var text = result.Provenance();
        Assert.Contains("stopped before writing a result", text);
        Assert.Contains("no record of its end (killed?)", text);
    }

    [Fact]
    public void ACheckpointFromBeforeHistoriesContinuesTheCommittedResultsList()
    {
        Assert.Equal(0, Sine("--iterations", "2"));
        File.Delete(History);   // as in a checkout whose result was backfilled from git history
        Assert.Equal(0, Sine("--iterations", "3"));
        Assert.Equal(["./mn reproduce maml-sine --iterations 2", "./mn reproduce maml-sine --iterations 3"],
                     ResultFile.Load(Published).Invocations!.Select(i => i.Command));
    }
}
