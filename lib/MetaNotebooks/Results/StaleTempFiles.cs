using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MetaNotebooks.Results;

/// <summary>
/// Removes the temp files that killed processes left behind. Every atomic write (<see cref="AtomicFile"/>, the binding's
/// `save`) writes `&lt;target&gt;.tmp-&lt;pid&gt;-&lt;guid&gt;` and renames it; a process killed in between (SIGKILL, power
/// loss) leaves that file, which can be hundreds of megabytes. Only files of processes that no longer exist are
/// removed: a live process may be writing its file right now.
/// </summary>
public static partial class StaleTempFiles
{
    [GeneratedRegex(@"\.tmp-(?<pid>\d+)-[0-9a-f]{32}$")]
    private static partial Regex TempName();

    /// <summary>The folders of a checkout that runs write into: results, checkpoints, scratch runs, data caches, notebooks.</summary>
    public static IEnumerable<string> WrittenFolders(string repositoryRoot) =>
        new[] { "papers", ".local", Path.Combine("data", "cache"), "notebooks" }.Select(d => Path.Combine(repositoryRoot, d));

    /// <summary>Deletes the stale temp files under the folders (recursively); returns the paths deleted.</summary>
    public static IReadOnlyList<string> Clean(IEnumerable<string> folders, Func<int, bool>? isAlive = null)
    {
        isAlive ??= IsAlive;
        var deleted = new List<string>();
        foreach (var folder in folders.Where(Directory.Exists))
        {
            IEnumerable<string> files;
            try { files = Directory.EnumerateFiles(folder, "*.tmp-*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).ToList(); }
            catch (IOException) { continue; }
            foreach (var file in files)
            {
                var match = TempName().Match(Path.GetFileName(file));
                if (!match.Success || !int.TryParse(match.Groups["pid"].Value, out var pid) || isAlive(pid)) continue;
                try
                {
                    File.Delete(file);
                    deleted.Add(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // someone else's file: leave it
            }
        }
        return deleted;
    }

    /// <summary>Whether a process with this id runs (a recycled id counts as alive: its file is left, never a live one deleted).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }          // no such process
        catch (InvalidOperationException) { return false; }
    }
}
