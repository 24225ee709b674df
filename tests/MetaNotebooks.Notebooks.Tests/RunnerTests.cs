using System.Diagnostics;
using System.Text.Json.Nodes;
using MetaNotebooks.Cli.Notebooks;
using MetaNotebooks.Results;
using Xunit.Abstractions;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>The runner on notebooks written by the tests, through the built `mn` as a user runs it.</summary>
public class RunnerTests(ITestOutputHelper output)
{
    private static string Write(TempFolder temp, string name, params (string Kind, string Source)[] cells)
    {
        var document = NotebookDocument.Create(temp.File(name));
        foreach (var (kind, source) in cells)
        {
            if (kind == "md") document.AddMarkdown(source);
            else document.AddCode(source);
        }
        document.Save();
        return document.Path;
    }

    private static JsonArray Outputs(string path, int cell) =>
        JsonNode.Parse(File.ReadAllText(path))!["cells"]![cell - 1]!["outputs"]!.AsArray();

    private static string Text(JsonNode? node) => NotebookDocument.Text(node);

    [Fact]
    public void StateCarriesAcrossCellsAndOutputsAreWrittenBack()
    {
        using var temp = new TempFolder();
        var relativeLibrary = Path.GetRelativePath(temp.Path, Repository.LibraryDll).Replace('\\', '/');
        var path = Write(temp, "state.ipynb",
            ("code", "var x = 20;"),
            ("md", "# Markdown is skipped\n`not code`"),
            ("code", "x += 1;\nConsole.WriteLine($\"x is {x}\");"),
            ("code", "#!csharp\nx * 2"),
            ("code", "display(HTML(\"<b>bold</b>\"));\ndisplay(new List<int> { 1, 2, 3 });\nConsole.WriteLine(\"after\");"),
            ("code", $"#r \"{relativeLibrary}\"\nusing MetaNotebooks.Figures;\ndisplay(Display.Table([\"a\", \"b\"], [[1, 2.5]]));"),
            ("code", "Environment.GetEnvironmentVariable(\"MN_QUICK\") + \" \" + System.IO.Path.GetFileName(Environment.CurrentDirectory)"),
            ("code", "Console.Write(\"no result: \");\nConsole.WriteLine(x);"));

        var result = Repository.Mn(["notebooks", "run", path, "--quick"]);
        output.WriteLine(result.ToString());
        Assert.Equal(0, result.ExitCode);

        var root = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(1, root["cells"]![0]!["execution_count"]!.GetValue<int>());
        Assert.Null(root["cells"]![1]!["execution_count"]);
        Assert.Equal("x is 21\n", Text(Outputs(path, 3).Single()!["text"]));

        var result4 = Outputs(path, 4).Single()!;
        Assert.Equal("execute_result", result4["output_type"]!.GetValue<string>());
        Assert.Equal(3, result4["execution_count"]!.GetValue<int>());
        Assert.Equal("42", Text(result4["data"]!["text/plain"]));

        var displays = Outputs(path, 5);
        Assert.Equal(3, displays.Count);
        Assert.Equal("<b>bold</b>", Text(displays[0]!["data"]!["text/html"]));
        Assert.Equal("[1, 2, 3]", Text(displays[1]!["data"]!["text/plain"]));
        Assert.Equal("after\n", Text(displays[2]!["text"]));

        var table = Outputs(path, 6).Single()!["data"]!;
        Assert.Contains("<table", Text(table["text/html"]));
        Assert.Contains("2.5", Text(table["text/plain"]));

        Assert.Equal($"1 {Path.GetFileName(temp.Path)}", Text(Outputs(path, 7).Single()!["data"]!["text/plain"]));
        // A cell ending in a void call has no result, only its stdout.
        Assert.Equal("no result: 21\n", Text(Outputs(path, 8).Single()!["text"]));
    }

    [Fact]
    public void ReRunningGivesTheSameFile()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "same.ipynb", ("code", "var r = new Random(7);\nEnumerable.Range(0, 5).Select(_ => r.Next(100)).ToList()"), ("code", "Console.WriteLine(\"é ü \\\"quoted\\\" \\t tab\");"));
        Assert.Equal(0, Repository.Mn(["notebooks", "run", path]).ExitCode);
        var first = File.ReadAllText(path);
        Assert.Equal(0, Repository.Mn(["notebooks", "run", path]).ExitCode);
        Assert.Equal(first, File.ReadAllText(path));
        Assert.StartsWith("{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",", first);
        Assert.EndsWith("}\n", first);
    }

    [Fact]
    public void FailingCellStopsTheRunAndLeavesTheNotebookAlone()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "fails.ipynb",
            ("code", "Console.WriteLine(\"fine\");"),
            ("md", "text"),
            ("code", "var zero = 0;\nthrow new InvalidOperationException(\"boom in the third cell\");"),
            ("code", "Console.WriteLine(\"never\");"));
        var before = File.ReadAllBytes(path);

        var result = Repository.Mn(["notebooks", "run", path]);
        output.WriteLine(result.ToString());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("fails.ipynb: cell 3 failed: System.InvalidOperationException: boom in the third cell", result.Stderr);
        Assert.Contains("line 2", result.Stderr);
        Assert.DoesNotContain("never", result.Stdout + result.Stderr);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void CompileErrorNamesTheCellAndLine()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "typo.ipynb", ("code", "var ok = 1;"), ("code", "var a = 1;\nint b = \"text\";"));
        var result = Repository.Mn(["notebooks", "run", path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cell 2 does not compile", result.Stderr);
        Assert.Contains("line 2", result.Stderr);
        Assert.Contains("CS0029", result.Stderr);
    }

    [Fact]
    public void NuGetReferenceIsAClearError()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "nuget.ipynb", ("code", "Console.WriteLine(1);"), ("code", "#r \"nuget: Plotly.NET, 4.2.0\"\nusing Plotly.NET;"));
        var result = Repository.Mn(["notebooks", "run", path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cell 2", result.Stderr);
        Assert.Contains("NuGet references are not supported", result.Stderr);
        Assert.Contains("#r \"../lib/MetaNotebooks/bin/Release/net10.0/MetaNotebooks.dll\"", result.Stderr);
    }

    [Fact]
    public void OtherKernelsMagicIsAClearError()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "fsharp.ipynb", ("code", "#!fsharp\nlet x = 1"));
        var result = Repository.Mn(["notebooks", "run", path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cell 1 uses the magic command `#!fsharp`", result.Stderr);
    }

    [Fact]
    public void AWriteInterruptedHalfWayLeavesTheOriginal()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "atomic.ipynb", ("code", "1 + 1"));
        var before = File.ReadAllBytes(path);
        var document = NotebookDocument.Load(path);
        var text = document.Serialize();

        // The writer dies after half of the new notebook: the old file must be whole and no temp file left.
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            stream.Write(bytes, 0, bytes.Length / 2);
            throw new IOException("disk full (simulated)");
        }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void KillingTheRunnerLeavesTheOriginal()
    {
        using var temp = new TempFolder();
        var path = Write(temp, "killed.ipynb", ("code", "Console.WriteLine(\"started\");"), ("code", "System.Threading.Thread.Sleep(120_000);"));
        var before = File.ReadAllBytes(path);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Repository.Cli, "notebooks", "run", path }) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        // The first cell's progress line means the run is under way; the second cell then sleeps.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string? line;
        while ((line = process.StandardError.ReadLine()) is not null && !line.Contains("cell 1"))
            Assert.True(DateTime.UtcNow < deadline, "the runner did not start the notebook");
        Assert.NotNull(line);
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void UsageErrors()
    {
        Assert.Equal(2, Repository.Mn(["notebooks", "run", "--nonsense"]).ExitCode);
        Assert.Equal(2, Repository.Mn(["notebooks", "run", "no/such.ipynb"]).ExitCode);
        Assert.Equal(2, Repository.Mn(["notebooks", "frobnicate"]).ExitCode);
        Assert.Equal(2, Repository.Mn(["notebooks", "export"]).ExitCode);
    }
}
