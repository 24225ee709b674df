using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Commands;

/// <summary>`mn papers`: regenerates every papers/&lt;paper-id&gt;/README.md and papers/README.md from published.json and results/.</summary>
public sealed class PapersCommand : ICommand
{
    public string Name => "papers";
    public string Summary => "regenerate every paper's README.md and papers/README.md from published.json and results/*.json";

    public int Run(string[] args)
    {
        var options = new Options(args);
        options.RejectUnknown();
        if (options.Positional.Count > 0) throw new UsageException("usage: mn papers (no arguments)");
        var root = RepositoryRoot.Find();
        foreach (var dir in PaperReport.PaperDirectories(root))
        {
            PaperReport.Write(dir);
            Console.WriteLine($"wrote {Path.GetRelativePath(root, Path.Combine(dir, "README.md"))}");
        }
        OmniglotComparison.Write(root);
        Console.WriteLine("wrote papers/README.md");
        return 0;
    }
}
