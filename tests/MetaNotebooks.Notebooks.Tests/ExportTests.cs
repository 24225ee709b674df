using MetaNotebooks.Cli.Notebooks;
using Xunit.Abstractions;

namespace MetaNotebooks.Notebooks.Tests;

public class ExportTests(ITestOutputHelper output)
{
    [Fact]
    public void ExportedChapterIsAFileBasedApp()
    {
        using var temp = new TempFolder();
        var app = ChapterExporter.Export(Path.Combine(Repository.Notebooks, "01-introduction.ipynb"), temp.File("chapter.cs"));
        var text = File.ReadAllText(app);
        Assert.StartsWith("#:project ", text);
        Assert.Contains("lib/MetaNotebooks/MetaNotebooks.csproj", text);
        Assert.Contains("#:property PublishAot=false", text);
        Assert.DoesNotContain("#r \"", text);
        Assert.Contains("// # 1. Introduction: learning to learn", text);
        Assert.True(text.IndexOf("record Episode(", StringComparison.Ordinal) > text.IndexOf("ChapterPrelude.Start();", StringComparison.Ordinal));
    }

    /// <summary>The slow one: `dotnet run chapter.cs` builds the app against the library and runs the chapter.</summary>
    [Fact]
    public void ExportedChapterRunsWithDotnetRun()
    {
        using var temp = new TempFolder();
        var export = Repository.Mn(["notebooks", "export", Path.Combine(Repository.Notebooks, "01-introduction.ipynb"), "-o", temp.File("chapter.cs")]);
        Assert.True(export.ExitCode == 0, export.ToString());

        var result = Repository.Run("dotnet", ["run", "-c", "Release", "chapter.cs"], temp.Path, TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["MN_QUICK"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("quick mode: 100 test episodes per setting", result.Stdout);
        Assert.Contains("Query accuracy, mean ± 95% CI", result.Stdout);
        Assert.NotEmpty(Directory.GetFiles(temp.Path, "chapter-figure-*.html"));
    }
}
