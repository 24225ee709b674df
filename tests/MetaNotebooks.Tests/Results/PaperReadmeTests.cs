using MetaNotebooks.Results;

namespace MetaNotebooks.Tests.Results;

/// <summary>The committed READMEs under papers/ are what published.json and results/*.json generate.</summary>
public class PaperReadmeTests
{
    public static TheoryData<string> Papers => new(PaperReport.PaperDirectories(RepositoryRoot.Find()).Select(Path.GetFileName).Select(n => n!));

    [Theory]
    [MemberData(nameof(Papers))]
    public void EachPaperReadmeIsCurrent(string paperId)
    {
        var dir = PaperReport.PaperDirectory(RepositoryRoot.Find(), paperId);
        var readme = Path.Combine(dir, "README.md");
        Assert.True(File.Exists(readme), $"{readme} is missing: run ./mn papers");
        Assert.True(PaperReport.Render(dir) == File.ReadAllText(readme), $"{readme} is not what published.json and results/ generate: run ./mn papers and commit");
    }

    [Fact]
    public void TheCombinedOmniglotTableIsCurrent()
    {
        var papers = Path.Combine(RepositoryRoot.Find(), "papers");
        Assert.True(OmniglotComparison.Render(papers) == File.ReadAllText(Path.Combine(papers, "README.md")),
                    "papers/README.md is not what the results generate: run ./mn papers and commit");
    }

    [Fact]
    public void AOneShotTablesWayColumnsFillTheCombinedOneShotColumns()
    {
        var papers = Directory.CreateTempSubdirectory("mn-papers-").FullName;
        try
        {
            var dir = Path.Combine(papers, "munkhdalai2017-metanet");
            Directory.CreateDirectory(dir);
            File.Copy(Path.Combine(RepositoryRoot.Find(), "papers", "munkhdalai2017-metanet", "published.json"), Path.Combine(dir, "published.json"));
            new ResultFile
            {
                Experiment = "metanet-omniglot", Paper = "munkhdalai2017-metanet", Command = "test", Finished = DateTimeOffset.UnixEpoch,
                WallSeconds = 1, Threads = 1, Machine = "test", Seed = 1, Config = [],
                Cells = [new ResultCell("omniglot", "MetaNet", "5-way", 91.5, 0.5, 1000, "test budget")],
            }.Save(Path.Combine(dir, "results", "metanet-omniglot.json"));
            Assert.Contains("| MetaNet | munkhdalai2017-metanet | 98.95 / 91.5 ± 0.5 | – / – | 97.0 / – | – / – |", OmniglotComparison.Render(papers));
        }
        finally
        {
            Directory.Delete(papers, recursive: true);
        }
    }
}
