using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>Every notebooks/*.ipynb runs in quick mode, so a new chapter is covered without editing this file.</summary>
public class NotebookTests(ITestOutputHelper output)
{
    public static TheoryData<string> AllNotebooks()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(AllNotebooks))]
    public void RunsInQuickMode(string notebook)
    {
        var path = Path.Combine(Repository.Notebooks, notebook);
        var before = SHA256.HashData(File.ReadAllBytes(path));
        using var temp = new TempFolder();

        // Run where it lives (relative #r and data paths resolve as for a reader), write the outputs to a temp copy.
        // Quick mode takes seconds to minutes per chapter on a quiet machine, and chapter 8 took over 4 beside two trainings:
        // the limit catches a hang, not a busy machine.
        var result = Repository.Mn(["notebooks", "run", path, "--quick", "--output-dir", temp.Path], timeout: TimeSpan.FromMinutes(10));
        output.WriteLine($"{notebook}: {result.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine(result.Stderr);
        Assert.True(result.ExitCode == 0, result.ToString());

        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
        var written = JsonNode.Parse(File.ReadAllText(temp.File(notebook)))!;
        var code = written["cells"]!.AsArray().Where(c => c!["cell_type"]!.GetValue<string>() == "code").ToArray();
        Assert.NotEmpty(code);
        Assert.All(code, c => Assert.NotNull(c!["execution_count"]));
        Assert.DoesNotContain(code.SelectMany(c => c!["outputs"]!.AsArray()), o => o!["output_type"]!.GetValue<string>() == "error");
    }

    [Theory]
    [MemberData(nameof(AllNotebooks))]
    public void HasTheKernelMetadataAndLibraryReference(string notebook)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Notebooks, notebook)))!;
        // Our kernel for Jupyter front ends (VS Code, JupyterLab, nbclient), the Polyglot block kept so that Polyglot opens it too.
        Assert.Equal(NotebookDocument.KernelName, root["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", root["metadata"]!["language_info"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", root["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        Assert.Equal(4, root["nbformat"]!.GetValue<int>());
        var firstCode = root["cells"]!.AsArray().First(c => c!["cell_type"]!.GetValue<string>() == "code")!;
        var source = string.Concat(firstCode["source"]!.AsArray().Select(l => l!.GetValue<string>()));
        Assert.Contains("#r \"../lib/MetaNotebooks/bin/Release/net10.0/MetaNotebooks.dll\"", source);
    }
}
