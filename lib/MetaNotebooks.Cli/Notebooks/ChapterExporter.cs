using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using MetaNotebooks.Notebooks;
using MetaNotebooks.Results;

namespace MetaNotebooks.Cli.Notebooks;

/// <summary>
/// Writes a notebook as a .NET 10 file-based app (`dotnet run chapter.cs`): a `#:project` reference to the
/// library replaces the `#r` lines, markdown becomes comments, usings move to the top and type declarations
/// to the end (the order top-level programs need), a trailing expression becomes display(…), and a small
/// prelude gives display/HTML a console meaning (figures are saved as HTML pages next to the app).
/// </summary>
public static partial class ChapterExporter
{
    [GeneratedRegex(@"^\s*#r\s+""([^""]+)""\s*$")]
    private static partial Regex ReferenceLine();

    [GeneratedRegex(@"^\s*#(r|!|load)\b")]
    private static partial Regex DirectiveLine();

    /// <summary>Exports and returns the path written (default: the notebook's path with .cs).</summary>
    public static string Export(string notebookPath, string? outputPath = null)
    {
        var document = NotebookDocument.Load(notebookPath);
        var folder = Path.GetDirectoryName(document.Path)!;
        var output = Path.GetFullPath(outputPath ?? Path.ChangeExtension(document.Path, ".cs"));
        var outputFolder = Path.GetDirectoryName(output)!;
        var chapter = Path.GetFileNameWithoutExtension(document.Path);

        var projects = new SortedSet<string>(StringComparer.Ordinal);
        var usings = new List<string>(NotebookSession.DefaultImports.Select(i => $"using {i};"));
        var body = new StringBuilder();
        var types = new StringBuilder();
        var cells = document.Cells;
        for (var i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not JsonObject cell) continue;
            var source = NotebookDocument.Source(cell).Replace("\r\n", "\n");
            var kind = cell["cell_type"]?.GetValue<string>();
            if (kind == "markdown")
            {
                body.Append("// ---- cell ").Append(i + 1).Append(" (markdown) ----\n");
                foreach (var line in source.TrimEnd('\n').Split('\n')) body.Append(line.Length == 0 ? "//" : "// " + line).Append('\n');
                body.Append('\n');
                continue;
            }
            if (kind != "code") continue;
            CellSource.Prepare(source, DisplayName(document.Path), $"cell {i + 1}", null);
            var code = new StringBuilder();
            foreach (var line in source.Split('\n'))
            {
                if (ReferenceLine().Match(line) is { Success: true } r)
                {
                    projects.Add(ProjectOf(Path.GetFullPath(r.Groups[1].Value, folder), document.Path));
                    continue;
                }
                if (DirectiveLine().IsMatch(line)) continue; // #!csharp and the like: the app is all C#.
                code.Append(line).Append('\n');
            }
            body.Append("// ---- cell ").Append(i + 1).Append(" ----\n");
            Split(code.ToString(), usings, body, types);
            body.Append('\n');
        }
        if (projects.Count == 0)
            throw new InvalidOperationException(
                $"{DisplayName(document.Path)} has no `#r` of the course library, so the export does not know which project to reference.");

        var app = new StringBuilder();
        foreach (var project in projects)
            app.Append("#:project ").Append(Path.GetRelativePath(outputFolder, project).Replace('\\', '/')).Append('\n');
        app.Append("#:property PublishAot=false\n");
        // Notebook cells compile without nullable analysis and warnings-as-errors; so does the app.
        app.Append("#:property Nullable=disable\n");
        app.Append("#:property TreatWarningsAsErrors=false\n");
        app.Append("#:property ImplicitUsings=disable\n");
        app.Append('\n');
        app.Append($"// {chapter}: exported from {Path.GetFileName(document.Path)} by `mn notebooks export`. Run it with: dotnet run {Path.GetFileName(output)}\n");
        app.Append("// Set MN_QUICK=1 for the quick budgets the tests use. Figures are written as HTML pages next to this file.\n\n");
        foreach (var u in usings.Distinct()) app.Append(u).Append('\n');
        app.Append("using static ChapterPrelude;\n\n");
        app.Append("ChapterPrelude.Start();\n\n");
        app.Append(body);
        if (types.Length > 0) app.Append("// ---- types declared in the cells ----\n").Append(types).Append('\n');
        app.Append(Prelude.Replace("@CHAPTER@", Path.GetFileNameWithoutExtension(output)));
        AtomicFile.WriteAllText(output, app.ToString());
        return output;
    }

    /// <summary>Sorts a cell's top-level syntax: usings to the head, types to the tail, statements in place.</summary>
    private static void Split(string code, List<string> usings, StringBuilder body, StringBuilder types)
    {
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Preview, kind: SourceCodeKind.Script));
        var root = (CompilationUnitSyntax)tree.GetRoot();
        foreach (var u in root.Usings) usings.Add(u.WithoutTrivia().ToFullString());
        var members = root.Members;
        for (var m = 0; m < members.Count; m++)
        {
            var member = members[m];
            if (member is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax)
            {
                types.Append(member.ToFullString().Trim('\n')).Append("\n\n");
                continue;
            }
            var text = member.ToFullString();
            // The cell's value (an expression without a semicolon) is shown, as the notebook shows it.
            if (m == members.Count - 1 && member is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } e })
                text = e.GetLeadingTrivia().ToFullString() + "display(" + e.Expression.WithoutTrivia().ToFullString() + ");" + e.GetTrailingTrivia().ToFullString();
            body.Append(text.TrimStart('\n'));
            if (!text.EndsWith('\n')) body.Append('\n');
        }
        // Comments after the last member.
        var tail = root.EndOfFileToken.LeadingTrivia.ToFullString().Trim('\n');
        if (tail.Length > 0) body.Append(tail).Append('\n');
    }

    /// <summary>The project that builds a referenced assembly: &lt;name&gt;.csproj above its bin/ folder or in a sibling folder.</summary>
    private static string ProjectOf(string dll, string notebook)
    {
        var name = Path.GetFileNameWithoutExtension(dll) + ".csproj";
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(dll)!); dir is not null; dir = dir.Parent)
        {
            // In a folder above the built assembly (lib/X/bin/Release/… → lib/X/X.csproj), or beside one
            // (a dependency copied next to it: lib/X/bin/… → lib/Y/Y.csproj).
            foreach (var candidate in new[] { Path.Combine(dir.FullName, name), Path.Combine(dir.FullName, Path.GetFileNameWithoutExtension(name), name) })
                if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"{DisplayName(notebook)} references {dll}, but no {name} was found in a folder above it to reference as a project.");
    }

    private static string DisplayName(string path) => NotebookRunner.DisplayName(path);

    private const string Prelude = """
        // ---- prelude: display(…) and HTML(…) as in the notebook, for a console ----
        static class ChapterPrelude
        {
            private static int figures;

            /// <summary>Runs the chapter from the folder of this file, as the notebook runs from its own folder.</summary>
            public static void Start([System.Runtime.CompilerServices.CallerFilePath] string file = "")
            {
                if (System.IO.File.Exists(file)) System.IO.Directory.SetCurrentDirectory(System.IO.Path.GetDirectoryName(file)!);
            }

            public static object display(object value, params string[] mimeTypes)
            {
                switch (value)
                {
                    case MetaNotebooks.Figures.Figure figure:
                        var path = System.IO.Path.GetFullPath($"@CHAPTER@-figure-{++figures}.html");
                        figure.SaveHtml(path);
                        Console.WriteLine($"[{figure}: saved to {path}]");
                        break;
                    case null:
                        Console.WriteLine("<null>");
                        break;
                    default:
                        Console.WriteLine(value);
                        break;
                }
                return value;
            }

            public static HtmlString HTML(string html) => new(html);
        }

        sealed class HtmlString(string html)
        {
            public override string ToString() => html;
        }

        """;
}
