using System.Diagnostics;
using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace MetaNotebooks.Cli.Notebooks;

/// <summary>A cell that failed: names the notebook, the cell and what went wrong.</summary>
public sealed class NotebookCellException(string message) : Exception(message);

/// <summary>
/// Runs the C# cells of a notebook in order with Roslyn scripting, the model of the C# kernel of Polyglot
/// Notebooks: one submission per cell, state carried from cell to cell, `#r "path"` relative to the
/// notebook's folder, display(…)/HTML(…) as globals, the trailing expression as the cell's result. The
/// working directory is the notebook's folder while it runs, as in the kernel.
/// </summary>
public sealed partial class NotebookRunner(TextWriter log)
{
    /// <summary>The usings the C# kernel starts with.</summary>
    public static readonly string[] DefaultImports =
        ["System", "System.Collections", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    /// <summary>Set to "1" by --quick: chapters read it to shrink their budgets.</summary>
    public const string QuickVariable = "MN_QUICK";

    private static readonly Lazy<MetadataReference[]> FrameworkReferences = new(LoadFrameworkReferences);

    [GeneratedRegex(@"^\s*#r\s+""nuget:", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex NuGetReference();

    [GeneratedRegex(@"^#!\s*(\S+)", RegexOptions.Multiline)]
    private static partial Regex MagicLine();

    /// <summary>
    /// Runs one notebook and writes it, with its new outputs, to <paramref name="outputPath"/> (default: in place).
    /// Throws <see cref="NotebookCellException"/> at the first failing cell, leaving every file as it was.
    /// </summary>
    public void Run(string notebookPath, string? outputPath = null, bool quick = false)
    {
        var document = NotebookDocument.Load(notebookPath);
        var name = DisplayName(document.Path);
        var folder = Path.GetDirectoryName(document.Path)!;
        var previousDirectory = Environment.CurrentDirectory;
        var previousQuick = Environment.GetEnvironmentVariable(QuickVariable);
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var total = Stopwatch.StartNew();
        var written = DisplayName(Path.GetFullPath(outputPath ?? document.Path));
        CheckKernel(document, name);
        log.WriteLine($"notebook {name}{(quick ? " (quick)" : "")}");
        try
        {
            Environment.CurrentDirectory = folder;
            if (quick) Environment.SetEnvironmentVariable(QuickVariable, "1");
            ScriptState<object>? state = null;
            // One globals object for the whole run (the script state keeps the first); display(…) goes to the running cell.
            CellOutputs current = new();
            var globals = new NotebookGlobals((value, mimeTypes) =>
            {
                var target = current;
                var index = target.AddDisplay(MimeBundle.For(value, mimeTypes));
                return new DisplayedValue(v => target.ReplaceDisplay(index, MimeBundle.For(v, mimeTypes)));
            });
            var executionCount = 0;
            var cells = document.Cells;
            var codeCells = cells.Count(c => c?["cell_type"]?.GetValue<string>() == "code");
            for (var i = 0; i < cells.Count; i++)
            {
                if (cells[i] is not JsonObject cell || cell["cell_type"]?.GetValue<string>() != "code") continue;
                var cellName = $"cell {i + 1}";
                var source = Prepare(NotebookDocument.Source(cell), name, cellName, KernelOf(cell));
                if (string.IsNullOrWhiteSpace(source))
                {
                    cell["execution_count"] = null;
                    cell["outputs"] = new JsonArray();
                    continue;
                }
                executionCount++;
                var watch = Stopwatch.StartNew();
                var outputs = current = new CellOutputs();
                var options = Options(folder, Path.Combine(folder, $"{Path.GetFileName(document.Path)}:{cellName}"));
                Console.SetOut(new StreamCapture(outputs, "stdout"));
                Console.SetError(new StreamCapture(outputs, "stderr"));
                try
                {
                    var script = state is null
                        ? CSharpScript.Create(source, options, typeof(NotebookGlobals))
                        : state.Script.ContinueWith(source, options);
                    var diagnostics = script.Compile();
                    var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
                    if (errors.Length > 0)
                        throw new NotebookCellException($"{name}: {cellName} does not compile:\n" + string.Join("\n", errors.Select(Describe)));
                    var hasResult = HasValue(script.GetCompilation());
                    var next = (state is null
                            ? script.RunAsync(globals, catchException: _ => true)
                            : script.RunFromAsync(state, catchException: _ => true))
                        .GetAwaiter().GetResult();
                    if (next.Exception is { } e)
                        throw new NotebookCellException($"{name}: {cellName} failed: {Describe(e)}");
                    state = next;
                    if (hasResult) outputs.AddResult(MimeBundle.For(state.ReturnValue), executionCount);
                }
                catch (CompilationErrorException e)
                {
                    throw new NotebookCellException($"{name}: {cellName} does not compile:\n" + string.Join("\n", e.Diagnostics.Select(Describe)));
                }
                catch (Exception e) when (e is not NotebookCellException)
                {
                    // A display(…) whose formatting failed (e.g. Chromium missing for a figure), or the runner itself.
                    throw new NotebookCellException($"{name}: {cellName} failed: {Describe(e)}");
                }
                finally
                {
                    Console.SetOut(previousOut);
                    Console.SetError(previousError);
                }
                cell["execution_count"] = executionCount;
                cell["outputs"] = outputs.ToJson();
                log.WriteLine($"  {cellName,-8} [{executionCount}/{codeCells}] {watch.Elapsed.TotalSeconds,6:0.0} s");
            }
            document.Save(outputPath is null ? null : Path.GetFullPath(outputPath, previousDirectory));
            log.WriteLine($"  wrote {written} ({total.Elapsed.TotalSeconds:0.0} s)");
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            Environment.CurrentDirectory = previousDirectory;
            Environment.SetEnvironmentVariable(QuickVariable, previousQuick);
        }
    }

    /// <summary>Whether the cell ends in an expression without a semicolon whose value is not void: the cell's result.</summary>
    private static bool HasValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Single();
        return tree.GetRoot() is CompilationUnitSyntax root &&
               root.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } statement } &&
               compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type?.SpecialType != SpecialType.System_Void;
    }

    /// <summary>The C# kernel is the only one here; a notebook or cell for another kernel is an error, not silently skipped.</summary>
    private static void CheckKernel(NotebookDocument document, string name)
    {
        var kernel = document.Root["metadata"]?["kernelspec"]?["name"]?.GetValue<string>();
        if (kernel is not null && kernel != ".net-csharp" && !kernel.StartsWith(".net-", StringComparison.Ordinal))
            throw new NotebookCellException($"{name}: the notebook's kernel is '{kernel}'; `mn notebooks run` runs C# notebooks (kernel .net-csharp).");
    }

    private static string? KernelOf(JsonObject cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>() ??
        cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>();

    /// <summary>Checks what the runner cannot do and strips what the kernel would consume (#!csharp), keeping line numbers.</summary>
    internal static string Prepare(string source, string notebook, string cell, string? kernel)
    {
        if (kernel is not null && !IsCSharp(kernel))
            throw new NotebookCellException($"{notebook}: {cell} is a '{kernel}' cell; only C# cells run here (markdown cells are skipped).");
        if (NuGetReference().IsMatch(source))
            throw new NotebookCellException(
                $"{notebook}: {cell} has a `#r \"nuget:…\"` reference. NuGet references are not supported by `mn notebooks run`: " +
                "reference the built library instead, e.g. #r \"../lib/MetaNotebooks/bin/Release/net10.0/MetaNotebooks.dll\".");
        return MagicLine().Replace(source, m =>
        {
            var magic = m.Groups[1].Value;
            if (IsCSharp(magic)) return "";
            throw new NotebookCellException(
                $"{notebook}: {cell} uses the magic command `#!{magic}`; only `#!csharp` is understood here (no other kernels or magics).");
        });
    }

    private static bool IsCSharp(string kernel) => kernel.ToLowerInvariant() is "csharp" or "c#" or "cs" or ".net-csharp";

    private static ScriptOptions Options(string folder, string cellPath) =>
        ScriptOptions.Default
            .WithReferences(FrameworkReferences.Value)
            .AddReferences(typeof(NotebookGlobals).Assembly)
            .WithImports(DefaultImports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(folder).WithSearchPaths(folder))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(folder))
            .WithFilePath(cellPath)
            .WithFileEncoding(Encoding.UTF8)
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithAllowUnsafe(true)
            .WithLanguageVersion(LanguageVersion.Preview);

    /// <summary>The whole shared framework, as the kernel offers it (Roslyn loads each one only when used).</summary>
    private static MetadataReference[] LoadFrameworkReferences()
    {
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var list = new List<MetadataReference>();
        foreach (var file in Directory.EnumerateFiles(dir, "*.dll").Order(StringComparer.Ordinal))
        {
            try
            {
                using var pe = new PEReader(File.OpenRead(file));
                if (!pe.HasMetadata) continue;
            }
            catch (BadImageFormatException)
            {
                continue;
            }
            list.Add(MetadataReference.CreateFromFile(file));
        }
        return list.ToArray();
    }

    private static string Describe(Diagnostic d)
    {
        var span = d.Location.GetLineSpan();
        var where = d.Location.IsInSource ? $"line {span.StartLinePosition.Line + 1}, column {span.StartLinePosition.Character + 1}: " : "";
        return $"  {where}{d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The exception and the frames inside the notebook's cells (the runner's own frames say nothing to a reader).</summary>
    private static string Describe(Exception e)
    {
        var text = new StringBuilder($"{e.GetType().FullName}: {e.Message}");
        var frames = (e.StackTrace ?? "").Split('\n')
            .TakeWhile(l => !l.Contains("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal))
            .Select(l => l.TrimEnd()).Where(l => l.Length > 0);
        foreach (var frame in frames) text.Append('\n').Append(frame);
        if (e.InnerException is { } inner) text.Append("\n ---> ").Append(inner.GetType().FullName).Append(": ").Append(inner.Message);
        return text.ToString();
    }

    /// <summary>A path relative to the working directory when inside it, for short messages.</summary>
    internal static string DisplayName(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
