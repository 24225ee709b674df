using System.Diagnostics;
using MetaNotebooks.Results;
using MetaNotebooks.Tests.Data;

namespace MetaNotebooks.Tests.Results;

/// <summary>A result's commit is "+dirty" for uncommitted code, not for the outputs earlier runs left under papers/.</summary>
public class CodeCommitTests
{
    private static void Git(string directory, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-c", "user.name=test", "-c", "user.email=test@example.org", .. args]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
    }

    [Fact]
    public void ChangesUnderPapersDoNotMakeTheCodeDirty()
    {
        using var repo = new TempDirectory();
        Directory.CreateDirectory(repo.File("papers"));
        Directory.CreateDirectory(repo.File("lib/bin"));
        File.WriteAllText(repo.File("code.cs"), "class A {}");
        File.WriteAllText(repo.File("papers/README.md"), "table");
        Git(repo.Path, "init", "-q");
        Git(repo.Path, "add", ".");
        Git(repo.Path, "commit", "-q", "-m", "first");

        var clean = ResultFile.DescribeCommit(repo.File("lib/bin"));   // described from below the top, as from the CLI's bin folder
        Assert.NotNull(clean);
        Assert.DoesNotContain("dirty", clean);

        File.WriteAllText(repo.File("papers/README.md"), "regenerated table");
        File.WriteAllText(repo.File("papers/new-result.json"), "{}");
        Assert.Equal(clean, ResultFile.DescribeCommit(repo.File("lib/bin")));

        File.WriteAllText(repo.File("code.cs"), "class B {}");
        Assert.Equal(clean + "+dirty", ResultFile.DescribeCommit(repo.File("lib/bin")));
    }
}
