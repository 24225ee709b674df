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
}
