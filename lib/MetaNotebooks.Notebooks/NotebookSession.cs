using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using MetaNotebooks.Training;

namespace MetaNotebooks.Notebooks;

/// <summary>How a cell failed: it did not compile, it threw, or it was interrupted.</summary>
public enum CellFailureKind { Compilation, Exception, Interrupted }

/// <summary>
/// A failed cell: the error's name (exception type, "CompilationError", "Interrupted"), its one-line message, and the
/// readable lines a reader needs (diagnostics or the frames inside the cells, each with its line of source).
/// </summary>
public sealed record CellFailure(CellFailureKind Kind, string Name, string Message, IReadOnlyList<string> Details)
{
    public string Describe() => Kind == CellFailureKind.Compilation ? string.Join("\n", Details) : string.Join("\n", [$"{Name}: {Message}", .. Details]);
}

/// <summary>
/// The one notebook execution engine, used by the headless runner (`mn notebooks run`) and by the Jupyter kernel
/// (`mn kernel`): C# cells run with Roslyn scripting as in the C# kernel of Polyglot Notebooks. One submission per
/// cell, state carried from cell to cell, `#r "path"` relative to the notebook's folder, display(…)/HTML(…) as globals,
/// the trailing expression as the cell's result, Console.Out/Error captured into the cell's outputs while it runs,
/// progress bars as one display redrawn in place. Cells run one at a time on one thread with a large stack (deep
/// recursion works; a stack overflow still ends the process, which .NET cannot catch). An interrupt
/// (<see cref="Interrupt.Request"/>: Ctrl-C, a kernel's interrupt) stops training loops at their next step and the cell
/// ends as <see cref="CellFailureKind.Interrupted"/>.
/// </summary>
public sealed class NotebookSession : IDisposable
{
    /// <summary>The usings the C# kernel starts with.</summary>
    public static readonly string[] DefaultImports =
        ["System", "System.Collections", "System.Collections.Generic", "System.Linq", "System.Text", "System.Threading.Tasks"];

    /// <summary>Set to "1" in quick mode: chapters read it to shrink their budgets.</summary>
    public const string QuickVariable = "MN_QUICK";

    /// <summary>The cells' thread stack: deep recursion in a reader's code works instead of ending the kernel.</summary>
    private const int StackBytes = 64 * 1024 * 1024;

    private static readonly Lazy<MetadataReference[]> FrameworkReferences = new(LoadFrameworkReferences);

    private readonly string folder;
    private readonly string fileName;
    private readonly NotebookGlobals globals;
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread worker;
    private readonly Dictionary<string, string> sources = new(StringComparer.Ordinal);
    private readonly ScriptOptions baseOptions;
    private CancellationTokenSource? warming;
    private ScriptState<object>? state;
    private ICellOutput current = new CellOutputs();

    /// <param name="folder">The notebook's folder: `#r` and `#load` paths resolve from it.</param>
    /// <param name="fileName">The notebook's file name, for the paths in diagnostics and stack frames.</param>
    public NotebookSession(string folder, string fileName)
    {
        this.folder = Path.GetFullPath(folder);
        this.fileName = fileName;
        baseOptions = BaseOptions(this.folder);
        // One globals object for the session (the script state keeps the first); display(…) goes to the running cell.
        globals = new NotebookGlobals((value, mimeTypes) =>
        {
            var target = current;
            var index = target.AddDisplay(MimeBundle.For(value, mimeTypes));
            return new DisplayedValue(v => target.ReplaceDisplay(index, MimeBundle.For(v, mimeTypes)));
        });
        worker = new Thread(() =>
        {
            foreach (var action in work.GetConsumingEnumerable()) action();
        }, StackBytes) { IsBackground = true, Name = "notebook cells" };
        worker.Start();
    }

    /// <summary>The path a cell's code is compiled under: what stack frames and diagnostics name.</summary>
    public string CellPath(string cellName) => Path.Combine(folder, $"{fileName}:{cellName}");

    /// <summary>
    /// Runs one cell (its source already through <see cref="CellSource.Prepare"/>) and sends its outputs to
    /// <paramref name="output"/> as they happen. Returns null on success. Never throws for a failure of the reader's
    /// code: compile errors, exceptions (libtorch's included) and interrupts come back as a <see cref="CellFailure"/>.
    /// </summary>
    public CellFailure? Execute(string source, string cellName, ICellOutput output, int executionCount) =>
        OnWorker(() => ExecuteHere(source, cellName, output, executionCount));

    /// <summary>Runs <paramref name="action"/> on the cells' thread (Roslyn queries see the state as cells do).</summary>
    public T OnWorker<T>(Func<T> action)
    {
        if (Thread.CurrentThread == worker) return action();
        Volatile.Read(ref warming)?.Cancel();   // the reader's request goes first; what the warm-up did so far (loading, JIT) still counts
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        work.Add(() =>
        {
            PhaseTrace.Mark("on-worker");
            try { result = action(); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        });
        done.Wait();
        if (error is not null) throw new InvalidOperationException($"The notebook engine failed: {error.Message}", error);
        return result;
    }

    private CellFailure? ExecuteHere(string source, string cellName, ICellOutput output, int executionCount)
    {
        var (previousOut, previousError) = (Console.Out, Console.Error);
        var previousDirectory = Environment.CurrentDirectory;
        var previousProgress = ProgressBar.NotebookDisplay;
        var cellPath = CellPath(cellName);
        sources[cellPath] = source;
        current = output;
        Interrupt.Reset();   // an interrupt that arrived between cells is not this cell's
        var token = Interrupt.Token;
        try
        {
            Environment.CurrentDirectory = folder;
            Console.SetOut(new StreamCapture(output, "stdout"));
            Console.SetError(new StreamCapture(output, "stderr"));
            ProgressBar.NotebookDisplay = () =>
            {
                var index = output.AddDisplay(MimeBundle.For(""));
                return line => output.ReplaceDisplay(index, MimeBundle.For(line));
            };
            var script = Continue(source, cellPath);
            PhaseTrace.Mark("script-created");
            // Run compiles and emits once; a cell that does not compile throws CompilationErrorException (below) before
            // anything runs. (Script.Compile() first would emit the same and then ask for the diagnostics a second time.)
            var run = state is null
                ? script.RunAsync(globals, catchException: _ => true)
                : script.RunFromAsync(state, catchException: _ => true);
            PhaseTrace.Mark("compiled-started");
            var next = run.GetAwaiter().GetResult();
            PhaseTrace.Mark("ran");
            var hasResult = HasValue(script.GetCompilation());
            PhaseTrace.Mark("has-value");
            // The state moves on even when the cell threw: variables it assigned before throwing stay, as in Jupyter.
            state = next;
            if (next.Exception is { } e) return token.IsCancellationRequested && e is OperationCanceledException ? Interrupted() : Thrown(e);
            if (token.IsCancellationRequested) return Interrupted();
            if (hasResult) output.AddResult(MimeBundle.For(next.ReturnValue), executionCount);
            PhaseTrace.Mark("result-out");
            return null;
        }
        catch (CompilationErrorException e)
        {
            return CompileFailure(e.Diagnostics);
        }
        catch (Exception e)
        {
            // A display(…) whose formatting failed (e.g. Chromium missing for a figure), or the engine itself.
            return Thrown(e);
        }
        finally
        {
            Console.Out.Flush();
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            ProgressBar.NotebookDisplay = previousProgress;
            Environment.CurrentDirectory = previousDirectory;
            current = new CellOutputs();
            PhaseTrace.Mark("restored");
        }
    }

    /// <summary>
    /// Compiles and runs two throwaway cells on the cells' thread, in a chain of their own (the session's state, sources
    /// and outputs are untouched), so that the reader's first cell does not pay for loading the framework's metadata and
    /// JIT-compiling the compiler (seconds, on a busy machine). Queued like a cell: one that arrives meanwhile waits
    /// behind it, as it would have waited for its own first compile. Call once; <paramref name="log"/> hears a failure
    /// (harmless: the reader's cell then compiles cold and reports its own errors).
    /// </summary>
    public void WarmUp(Action<string> log)
    {
        var cancel = new CancellationTokenSource();
        Volatile.Write(ref warming, cancel);
        work.Add(() =>
        {
            var token = cancel.Token;
            try
            {
                var warmGlobals = new NotebookGlobals((_, _) => throw new InvalidOperationException("the warm-up cells display nothing"));
                var first = FirstSubmission("var warm = new[] { 1, 2, 3 }.Select(x => x * 2).ToList();", baseOptions.WithFilePath(CellPath("warm-up 1")));
                var firstState = first.RunAsync(warmGlobals, cancellationToken: token).GetAwaiter().GetResult();
                var second = firstState.Script.ContinueWith("warm.Sum() + 1", baseOptions.WithFilePath(CellPath("warm-up 2")));
                var secondState = second.RunFromAsync(firstState, cancellationToken: token).GetAwaiter().GetResult();
                if (HasValue(second.GetCompilation())) MimeBundle.For(secondState.ReturnValue);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // A request came: it goes first.
            }
            catch (Exception e)
            {
                log($"warming up the C# compiler failed (the first cell compiles cold): {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                Interlocked.CompareExchange(ref warming, null, cancel);
            }
        });
    }

    /// <summary>The script that compiling <paramref name="code"/> after the session's cells would make (for completion, inspection).</summary>
    internal Script<object> Continue(string code) => Continue(code, CellPath("completion"));

    /// <summary>
    /// The session's next submission. Only the chain's first submission is given the framework's references: Roslyn
    /// hands every submission the references of those before it, and each reference given again costs every later cell
    /// a duplicate to resolve and bind (about a quarter of a trivial cell's compile time, measured with MN_TRACE_PHASES).
    /// </summary>
    private Script<object> Continue(string code, string cellPath)
    {
        var options = baseOptions.WithFilePath(cellPath);
        return state is null ? FirstSubmission(code, options) : state.Script.ContinueWith(code, options);
    }

    private static Script<object> FirstSubmission(string code, ScriptOptions options) =>
        CSharpScript.Create(code, options.WithReferences(FrameworkReferences.Value).AddReferences(typeof(NotebookGlobals).Assembly), typeof(NotebookGlobals));

    private static CellFailure Interrupted() =>
        new(CellFailureKind.Interrupted, "Interrupted",
            $"the cell was interrupted ({Interrupt.Reason ?? "interrupt"}); training loops stopped at their next step and saved their checkpoint", []);

    private CellFailure CompileFailure(IEnumerable<Diagnostic> diagnostics)
    {
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        var lines = new List<string>();
        foreach (var d in errors)
        {
            lines.Add(Describe(d));
            if (d.Location.IsInSource && SourceLine(d.Location.SourceTree!.FilePath, d.Location.GetLineSpan().StartLinePosition.Line + 1) is { } code)
                lines.Add(code);
        }
        var first = errors.FirstOrDefault();
        return new CellFailure(CellFailureKind.Compilation, "CompilationError", first is null ? "the cell does not compile" : first.GetMessage(CultureInfo.InvariantCulture), lines);
    }

    /// <summary>The exception and the frames inside the notebook's cells, each with its line of source (the engine's own frames say nothing to a reader).</summary>
    private CellFailure Thrown(Exception e)
    {
        var lines = new List<string>();
        var frames = (e.StackTrace ?? "").Split('\n')
            .TakeWhile(l => !l.Contains("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal))
            .Select(l => l.TrimEnd()).Where(l => l.Length > 0 && !l.StartsWith("--- End of stack trace", StringComparison.Ordinal));
        var cellPrefix = CellPath("");
        foreach (var frame in frames)
        {
            // "… in /path/chapter.ipynb:cell 3:line 5" → "… in cell 3, line 5", followed by that line of the cell.
            var at = frame.LastIndexOf(":line ", StringComparison.Ordinal);
            var inAt = frame.LastIndexOf(" in ", StringComparison.Ordinal);
            if (at > 0 && inAt > 0 && int.TryParse(frame[(at + 6)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var line) &&
                SourceLine(frame[(inAt + 4)..at], line) is { } code)
            {
                lines.Add($"{frame[..(inAt + 4)]}{frame[(inAt + 4)..at].Replace(cellPrefix, "", StringComparison.Ordinal)}, line {line}");
                lines.Add(code);
            }
            else lines.Add(frame);
        }
        if (e.InnerException is { } inner) lines.Add($" ---> {inner.GetType().FullName}: {inner.Message}");
        return new CellFailure(CellFailureKind.Exception, e.GetType().FullName ?? e.GetType().Name, e.Message, lines);
    }

    /// <summary>"   5 | var y = x / 0;" for line 5 of a cell this session ran, or null.</summary>
    private string? SourceLine(string cellPath, int line)
    {
        if (!sources.TryGetValue(cellPath, out var source)) return null;
        var all = source.Split('\n');
        return line >= 1 && line <= all.Length ? $"  {line,4} | {all[line - 1].TrimEnd('\r')}" : null;
    }

    /// <summary>Whether the cell ends in an expression without a semicolon whose value is not void: the cell's result.</summary>
    private static bool HasValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Single();
        return tree.GetRoot() is CompilationUnitSyntax root &&
               root.Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } statement } &&
               compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type?.SpecialType != SpecialType.System_Void;
    }

    /// <summary>
    /// Every cell's options but its file path (and the first cell's references, see <see cref="Continue(string, string)"/>),
    /// made once per session. The PDB stays: the runtime prints a frame's "line N" only from the sequence points of a PDB
    /// loaded with the cell's assembly, and an async cell's frames reach us as text, so the lines cannot be found later.
    /// </summary>
    private static ScriptOptions BaseOptions(string folder) =>
        ScriptOptions.Default
            .WithReferences(Array.Empty<MetadataReference>())
            .WithImports(DefaultImports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(folder).WithSearchPaths(folder))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(folder))
            .WithFileEncoding(Encoding.UTF8)
            .WithEmitDebugInformation(true)
            .WithOptimizationLevel(OptimizationLevel.Release)
            .WithAllowUnsafe(true)
            .WithLanguageVersion(LanguageVersion.Preview);

    /// <summary>The parse options cells are compiled with (scripts, preview language), for completeness checks.</summary>
    internal static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Preview, kind: SourceCodeKind.Script);

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

    public void Dispose()
    {
        work.CompleteAdding();
        if (Thread.CurrentThread != worker) worker.Join(TimeSpan.FromSeconds(5));
    }
}
