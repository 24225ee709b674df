using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace MetaNotebooks.Kernel.Tests;

/// <summary>
/// `jupyter nbconvert --to notebook --execute` (nbclient, as CI and VS Code's "Run All" drive a kernel) runs a chapter
/// with our kernel in quick mode and gets the same kinds of outputs, cell by cell, as the headless runner: figures as
/// image/png + Plotly JSON + HTML, tables as HTML + text, streams, results. Both go through one engine; this checks
/// that the protocol carries everything the runner stores.
/// </summary>
public class ChapterTests(KernelFixture kernel, ITestOutputHelper output) : IClassFixture<KernelFixture>
{
    [Theory]
    [InlineData("00-setup.ipynb")]
    [InlineData("01-introduction.ipynb")]
    [InlineData("02-maml-sine.ipynb")]
    public void NbconvertWithTheKernelGivesTheRunnersOutputs(string chapter)
    {
        var notebooks = Path.Combine(KernelFixture.Root, "notebooks");
        var byKernel = Directory.CreateTempSubdirectory("mn-kernel-nbconvert-").FullName;
        var byRunner = Directory.CreateTempSubdirectory("mn-kernel-runner-").FullName;
        try
        {
            var env = kernel.Environment(quick: true);
            // The chapter runs where it lives (its #r paths are relative), its output goes to the temp folder. No kernel
            // name is given: nbconvert starts the one the chapter's metadata names, as any front end does.
            var converted = KernelFixture.Run(KernelFixture.Python,
                ["-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=900", "--output-dir", byKernel, Path.Combine(notebooks, chapter)],
                notebooks, TimeSpan.FromMinutes(15), env);
            output.WriteLine($"nbconvert: {converted.Elapsed.TotalSeconds:0} s\n{converted.Stderr}");
            Assert.True(converted.ExitCode == 0, converted.ToString());
            Assert.Equal("csharp", JsonNode.Parse(File.ReadAllText(Path.Combine(byKernel, chapter)))!["metadata"]!["language_info"]!["name"]!.GetValue<string>());

            var ran = KernelFixture.Run("dotnet", [KernelFixture.Cli, "notebooks", "run", Path.Combine(notebooks, chapter), "--quick", "--output-dir", byRunner],
                KernelFixture.Root, TimeSpan.FromMinutes(15), env);
            output.WriteLine($"runner: {ran.Elapsed.TotalSeconds:0} s");
            Assert.True(ran.ExitCode == 0, ran.ToString());

            var kernelCells = Kinds(Path.Combine(byKernel, chapter));
            var runnerCells = Kinds(Path.Combine(byRunner, chapter));
            Assert.Equal(runnerCells.Count, kernelCells.Count);
            for (var i = 0; i < runnerCells.Count; i++)
                Assert.True(runnerCells[i].SetEquals(kernelCells[i]),
                    $"code cell {i + 1}: the runner wrote [{string.Join("; ", runnerCells[i].Order())}], the kernel gave [{string.Join("; ", kernelCells[i].Order())}]");
            var all = kernelCells.SelectMany(c => c).ToHashSet();
            Assert.DoesNotContain(all, k => k.StartsWith("error", StringComparison.Ordinal));
            Assert.Contains(all, k => k.Contains("application/vnd.plotly.v1+json", StringComparison.Ordinal) && k.Contains("image/png", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(byKernel, recursive: true);
            Directory.Delete(byRunner, recursive: true);
        }
    }

    /// <summary>Per code cell, the kinds of its outputs: "display_data: image/png, text/html, …", "stream: stdout", ….</summary>
    private static List<HashSet<string>> Kinds(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        return root["cells"]!.AsArray()
            .Where(c => c!["cell_type"]!.GetValue<string>() == "code")
            .Select(c => c!["outputs"]!.AsArray().Select(o =>
            {
                var type = o!["output_type"]!.GetValue<string>();
                return type == "stream"
                    ? $"stream: {o["name"]!.GetValue<string>()}"
                    : $"{type}: {string.Join(", ", (o["data"] as JsonObject ?? []).Select(p => p.Key).Order(StringComparer.Ordinal))}";
            }).ToHashSet())
            .ToList();
    }
}
