using MetaNotebooks.Cli.Notebooks;
using MetaNotebooks.Notebooks;

namespace MetaNotebooks.Cli.Commands;

/// <summary>`mn notebooks run [paths…] [--quick] [--output-dir DIR]` and `mn notebooks export &lt;notebook&gt; [-o chapter.cs]`.</summary>
public sealed class NotebooksCommand : ICommand
{
    public string Name => "notebooks";

    public string Summary => "run the chapters' notebooks headlessly (outputs written back), or export one as a file-based app";

    private const string Usage =
        "usage:\n" +
        "  mn notebooks run [notebook.ipynb …] [--quick] [--output-dir DIR]\n" +
        "      runs each notebook's C# cells in order and writes the outputs back (default: every notebooks/*.ipynb).\n" +
        "      --quick sets MN_QUICK=1 so that chapters shrink their budgets; --output-dir writes the run notebooks\n" +
        "      there instead of in place.\n" +
        "  mn notebooks export <notebook.ipynb> [-o chapter.cs]\n" +
        "      writes the notebook as a .NET 10 file-based app: dotnet run chapter.cs";

    public int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "run" => RunNotebooks(args[1..]),
            "export" => Export(args[1..]),
            _ => throw new UsageException($"unknown subcommand '{args[0]}'.\n{Usage}"),
        };
    }

    private static int RunNotebooks(string[] args)
    {
        var paths = new List<string>();
        var quick = false;
        string? outputDir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--output-dir":
                    outputDir = i + 1 < args.Length ? args[++i] : throw new UsageException("--output-dir needs a folder.");
                    break;
                case var a when a.StartsWith('-'):
                    throw new UsageException($"unknown option '{a}'.\n{Usage}");
                default:
                    paths.Add(args[i]);
                    break;
            }
        }
        if (paths.Count == 0) paths.AddRange(AllNotebooks());
        foreach (var path in paths)
            if (!File.Exists(path)) throw new UsageException($"no notebook at {path}.");
        if (outputDir is not null)
        {
            var names = paths.Select(Path.GetFileName).ToArray();
            if (names.Distinct().Count() != names.Length) throw new UsageException("--output-dir needs notebooks with distinct file names.");
        }

        var runner = new NotebookRunner(Console.Error);
        foreach (var path in paths)
        {
            var output = outputDir is null ? null : Path.Combine(outputDir, Path.GetFileName(path));
            try
            {
                runner.Run(path, output, quick);
            }
            catch (NotebookCellException e)
            {
                Console.Error.WriteLine($"mn notebooks: {e.Message}");
                Console.Error.WriteLine($"mn notebooks: stopped; {path} was not rewritten.");
                return 1;
            }
        }
        return 0;
    }

    /// <summary>notebooks/*.ipynb in name order (00-setup first), from the repository root above the working directory.</summary>
    private static IEnumerable<string> AllNotebooks()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "notebooks");
            if (Directory.Exists(folder) && File.Exists(Path.Combine(dir.FullName, "MetaNotebooks.sln")))
            {
                var found = Directory.GetFiles(folder, "*.ipynb").Order(StringComparer.Ordinal).ToArray();
                if (found.Length == 0) throw new UsageException($"no notebooks in {folder}.");
                return found.Select(NotebookRunner.DisplayName);
            }
        }
        throw new UsageException("no notebooks/ folder found above the working directory; give the notebooks' paths.");
    }

    private static int Export(string[] args)
    {
        string? notebook = null, output = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-o" or "--output":
                    output = i + 1 < args.Length ? args[++i] : throw new UsageException("-o needs a file name.");
                    break;
                case var a when a.StartsWith('-'):
                    throw new UsageException($"unknown option '{a}'.\n{Usage}");
                default:
                    if (notebook is not null) throw new UsageException("export takes one notebook.");
                    notebook = args[i];
                    break;
            }
        }
        if (notebook is null) throw new UsageException($"export needs a notebook.\n{Usage}");
        if (!File.Exists(notebook)) throw new UsageException($"no notebook at {notebook}.");
        var written = ChapterExporter.Export(notebook, output);
        Console.WriteLine($"wrote {NotebookRunner.DisplayName(written)}; run it with: dotnet run {NotebookRunner.DisplayName(written)}");
        return 0;
    }
}
