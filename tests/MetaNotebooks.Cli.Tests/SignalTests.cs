using System.Diagnostics;

namespace MetaNotebooks.Cli.Tests;

/// <summary>`mn reproduce` as a child process, on a repository the test makes, stopped by SIGTERM as `kill` or a scheduler would.</summary>
public sealed class SignalTests
{
    [Fact]
    public async Task SigtermMakesAReproductionSaveItsCheckpointAndExitCleanly()
    {
        if (!OperatingSystem.IsLinux()) { Console.WriteLine("skipped: SIGTERM via kill(1) is tested on Linux"); return; }
        var root = Directory.CreateTempSubdirectory("mn-sigterm-").FullName;
        try
        {
            var paper = Path.Combine(root, "papers", "finn2017-maml");
            Directory.CreateDirectory(paper);
            File.Copy(Path.Combine(RepositoryRoot.Find(), "papers", "finn2017-maml", "published.json"), Path.Combine(paper, "published.json"));
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "mn.dll"), "reproduce", "maml-sine", "--threads", "1", "--iterations", "1000000", "--meta-batch", "2", "--eval-tasks", "2" })
                psi.ArgumentList.Add(a);
            psi.Environment["MN_ROOT"] = root;
            using var mn = Process.Start(psi)!;
            var started = new TaskCompletionSource();
            var stderr = new System.Text.StringBuilder();
            mn.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (stderr) stderr.AppendLine(e.Data);
                if (e.Data.StartsWith("Reproducing", StringComparison.Ordinal)) started.TrySetResult();   // the signal handlers are installed by then
            };
            mn.BeginErrorReadLine();
            _ = mn.StandardOutput.ReadToEndAsync();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(1000);
            using (var kill = Process.Start("kill", ["-TERM", mn.Id.ToString()])) kill.WaitForExit();
            Assert.True(mn.WaitForExit(TimeSpan.FromSeconds(60)), "SIGTERM did not stop the run");
            mn.WaitForExit();
            lock (stderr)
            {
                Assert.True(mn.ExitCode == 130, $"exit code {mn.ExitCode}; stderr:\n{stderr}");
                Assert.Contains("SIGTERM", stderr.ToString());
            }
            Assert.True(File.Exists(Path.Combine(paper, "checkpoints", "maml-sine-maml.mntd")), "the checkpoint was not saved");
            Assert.False(Directory.Exists(Path.Combine(paper, "results")), "an interrupted run publishes nothing");
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
