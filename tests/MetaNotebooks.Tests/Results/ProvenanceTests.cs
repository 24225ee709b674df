using System.Text.Json.Nodes;
using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.Results;

/// <summary>
/// Issue 22, item 5: a result names its commit (or says it is unknown) and every invocation that made it, in the result
/// file, in what chapters print (<see cref="ResultFile.Provenance"/>) and in the papers' READMEs.
/// </summary>
public class ProvenanceTests
{
    private static ResultFile Sample(string? commit = "abc123def456", IReadOnlyList<Invocation>? invocations = null) => new()
    {
        Experiment = "relation-omniglot", Paper = "sung2018-relation", Command = "./mn reproduce relation-omniglot --hours 1", Commit = commit,
        Finished = new DateTimeOffset(2026, 12, 7, 20, 8, 0, TimeSpan.Zero), WallSeconds = 5741.7, Threads = 1, Machine = "2 cores, test CPU", Seed = 1,
        Config = [], Cells = [],
        Details = new JsonObject { ["1shot"] = new JsonObject { ["iterations"] = 13077 }, ["5shot"] = new JsonObject { ["iterations"] = 4000 } },
        Invocations = invocations,
    };

    [Fact]
    public void AFileWithoutInvocationsReadsAsOneInvocation()
    {
        var history = Sample().History();
        var only = Assert.Single(history);
        Assert.Equal(("./mn reproduce relation-omniglot --hours 1", "abc123def456", 5741.7, 1), (only.Command, only.Commit, only.WallSeconds, only.Threads));
        Assert.Equal(new Dictionary<string, long> { ["1shot.iterations"] = 13077, ["5shot.iterations"] = 4000 }, only.Progress);
        Assert.Equal("`./mn reproduce relation-omniglot --hours 1` — commit abc123def456, 1 thread(s), wall time 1:35:42 on 2 cores, test CPU", Sample().Provenance());
    }

    [Fact]
    public void AMissingCommitIsSaidToBeUnknown()
    {
        var text = Sample(commit: null).Provenance();
        Assert.Contains("commit unknown (run before commits were recorded)", text);
        Assert.DoesNotContain("commit ,", text);
        Assert.Contains("commit unknown", Sample(commit: null).History()[0].Describe());
    }

    [Fact]
    public void SeveralInvocationsAreEachListedWithTheirTotal()
    {
        var first = new Invocation
        {
            Command = "./mn reproduce relation-omniglot --hours 0.35", Commit = "5c2872fc6552", WallSeconds = 1563.2, Threads = 1,
            Finished = new DateTimeOffset(2026, 12, 7, 8, 55, 0, TimeSpan.Zero), Progress = new Dictionary<string, long> { ["1shot.iterations"] = 9926 },
        };
        var result = Sample(invocations: [first, Sample().LastInvocation()]);
        var text = result.Provenance();
        Assert.StartsWith("made in 2 invocations (2:01:45 of wall time in all)", text);
        Assert.Contains("1. `./mn reproduce relation-omniglot --hours 0.35`, commit 5c2872fc6552, finished 2026-12-07 08:55 UTC, wall time 0:26:03, 1 thread(s), reached 1shot 9,926 iterations", text);
        Assert.Contains("2. `./mn reproduce relation-omniglot --hours 1`, commit abc123def456", text);

        var unknown = Sample(invocations: [first with { WallSeconds = null, Commit = null }, Sample().LastInvocation()]);
        Assert.StartsWith("made in 2 invocations (1:35:42 of wall time in the 1 that recorded it)", unknown.Provenance());
        Assert.Contains("commit unknown (run before commits were recorded), finished 2026-12-07 08:55 UTC, wall time not recorded", unknown.Provenance());
    }

    [Fact]
    public void InvocationsSurviveSavingAndLoadingAndTheGuardIgnoresThem()
    {
        var dir = Directory.CreateTempSubdirectory("mn-provenance-").FullName;
        try
        {
            var path = Path.Combine(dir, "r.json");
            var result = Sample(invocations: [new Invocation { Command = "a", Outcome = Invocation.Outcomes.Stopped }, Sample().LastInvocation()]);
            result.Save(path);
            var loaded = ResultFile.Load(path);
            Assert.Equal(2, loaded.Invocations!.Count);
            Assert.Equal(Invocation.Outcomes.Stopped, loaded.Invocations[0].Outcome);
            Assert.Equal(result.Invocations![1].Progress, loaded.Invocations[1].Progress);
            Assert.Null(ResultGuard.WhyNotReplace(Sample(), loaded));
            Assert.Null(ResultGuard.WhyNotReplace(loaded, Sample()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TheHistoryLivesBesideTheCheckpointsUnderTheirSharedStem()
    {
        Assert.Equal(Path.Combine("c", "relation-omniglot.invocations.json"),
                     InvocationHistory.PathFor([Path.Combine("c", "relation-omniglot-1shot.mntd"), Path.Combine("c", "relation-omniglot-5shot.mntd")]));
        Assert.Equal(Path.Combine("c", "maml-omniglot-20w1s.invocations.json"),
                     InvocationHistory.PathFor([Path.Combine("c", "maml-omniglot-20w1s.mntd"), Path.Combine("c", "maml-omniglot-20w1s.curve.json")]));
        Assert.Equal(Path.Combine("c", "x.invocations.json"), InvocationHistory.PathFor([Path.Combine("c", "x.mntd")]));
        Assert.Throws<ArgumentException>(() => InvocationHistory.PathFor([]));

        var dir = Directory.CreateTempSubdirectory("mn-history-").FullName;
        try
        {
            var path = Path.Combine(dir, "x" + InvocationHistory.Suffix);
            Assert.Empty(InvocationHistory.Load(path));
            File.WriteAllText(path, "{ not json");
            var e = Assert.Throws<InvalidDataException>(() => InvocationHistory.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("delete it", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string> CommittedResults => new(
        Directory.GetFiles(Path.Combine(RepositoryRoot.Find(), "papers"), "*.json", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "results")
            .Select(f => Path.GetRelativePath(RepositoryRoot.Find(), f)).Order(StringComparer.Ordinal));

    /// <summary>The mechanical check: what a chapter prints and the paper's README name every invocation with its commit.</summary>
    [Theory]
    [MemberData(nameof(CommittedResults))]
    public void EveryCommittedResultNamesItsCommitAndAllItsInvocations(string relativePath)
    {
        var root = RepositoryRoot.Find();
        var result = ResultFile.Load(Path.Combine(root, relativePath));
        var history = result.History();
        var provenance = result.Provenance();
        var readme = File.ReadAllText(Path.Combine(root, "papers", result.Paper, "README.md"));
        Assert.DoesNotContain("commit ,", provenance);
        if (history.Count > 1) Assert.StartsWith($"made in {history.Count} invocations", provenance);
        for (var k = 0; k < history.Count; k++)
        {
            var i = history[k];
            Assert.Contains($"`{i.Command}`", provenance);
            Assert.Contains($"commit {Invocation.CommitText(i.Commit)}", provenance);
            Assert.Contains($"| {result.Experiment} | {k + 1} of {history.Count} | `{i.Command}` | {Invocation.CommitText(i.Commit)} |", readme);
        }
        // The file's top-level fields are its last invocation's.
        Assert.Equal((result.Command, result.Commit, result.WallSeconds), (history[^1].Command, history[^1].Commit, history[^1].WallSeconds));
    }
}
