using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Notebooks;

namespace MetaNotebooks.Cli.Notebooks;

/// <summary>
/// Runs the C# cells of a notebook in order through the notebook engine (<see cref="NotebookSession"/>, the same one
/// the Jupyter kernel uses) and writes the outputs back. The working directory is the notebook's folder while it runs,
/// as in a kernel started by a front end.
/// </summary>
public sealed class NotebookRunner(TextWriter log)
{
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
        var previousQuick = Environment.GetEnvironmentVariable(NotebookSession.QuickVariable);
        var total = Stopwatch.StartNew();
        var written = DisplayName(Path.GetFullPath(outputPath ?? document.Path));
        CheckKernel(document, name);
        log.WriteLine($"notebook {name}{(quick ? " (quick)" : "")}");
        try
        {
            if (quick) Environment.SetEnvironmentVariable(NotebookSession.QuickVariable, "1");
            using var session = new NotebookSession(folder, Path.GetFileName(document.Path));
            var executionCount = 0;
            var cells = document.Cells;
            var codeCells = cells.Count(c => c?["cell_type"]?.GetValue<string>() == "code");
            for (var i = 0; i < cells.Count; i++)
            {
                if (cells[i] is not JsonObject cell || cell["cell_type"]?.GetValue<string>() != "code") continue;
                var cellName = $"cell {i + 1}";
                var source = CellSource.Prepare(NotebookDocument.Source(cell), name, cellName, KernelOf(cell));
                if (string.IsNullOrWhiteSpace(source))
                {
                    cell["execution_count"] = null;
                    cell["outputs"] = new JsonArray();
                    continue;
                }
                executionCount++;
                var watch = Stopwatch.StartNew();
                var outputs = new CellOutputs();
                if (session.Execute(source, cellName, outputs, executionCount) is { } failure)
                    throw new NotebookCellException(failure.Kind == CellFailureKind.Compilation
                        ? $"{name}: {cellName} does not compile:\n{failure.Describe()}"
                        : $"{name}: {cellName} failed: {failure.Describe()}");
                cell["execution_count"] = executionCount;
                cell["outputs"] = outputs.ToJson();
                log.WriteLine($"  {cellName,-8} [{executionCount}/{codeCells}] {watch.Elapsed.TotalSeconds,6:0.0} s");
            }
            document.Save(outputPath is null ? null : Path.GetFullPath(outputPath, previousDirectory));
            log.WriteLine($"  wrote {written} ({total.Elapsed.TotalSeconds:0.0} s)");
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            Environment.SetEnvironmentVariable(NotebookSession.QuickVariable, previousQuick);
        }
    }

    /// <summary>C# kernels only (ours, or Polyglot's .net-csharp); a notebook for another kernel is an error, not silently skipped.</summary>
    private static void CheckKernel(NotebookDocument document, string name)
    {
        var kernel = document.Root["metadata"]?["kernelspec"]?["name"]?.GetValue<string>();
        if (kernel is not null && kernel != NotebookDocument.KernelName && !kernel.StartsWith(".net-", StringComparison.Ordinal))
            throw new NotebookCellException(
                $"{name}: the notebook's kernel is '{kernel}'; `mn notebooks run` runs C# notebooks (kernel {NotebookDocument.KernelName} or .net-csharp).");
    }

    private static string? KernelOf(JsonObject cell) =>
        cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>() ??
        cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>();

    /// <summary>A path relative to the working directory when inside it, for short messages.</summary>
    internal static string DisplayName(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }
}
