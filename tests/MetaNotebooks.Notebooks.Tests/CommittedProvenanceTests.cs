using System.Text.Json.Nodes;
using MetaNotebooks.Results;
using Xunit.Abstractions;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>
/// What the committed chapters print about a result names its commit (or says it is unknown) and every invocation that
/// made it (issue 22, item 5): a text output that quotes a result's command must not show an empty commit, and for a
/// result made in several invocations it must list them (<see cref="ResultFile.Provenance"/> does). Chapters printed
/// before results listed their invocations fail here until re-run with `./mn notebooks run`.
/// </summary>
public class CommittedProvenanceTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryDisplayedResultNamesItsCommitAndAllItsInvocations()
    {
        var results = Directory.GetFiles(Path.Combine(Repository.Root, "papers"), "*.json", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "results").Select(ResultFile.Load).ToList();
        var offenders = new List<string>();
        var checkedOutputs = 0;
        foreach (var path in Directory.GetFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
        {
            var cells = JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray();
            for (var i = 0; i < cells.Count; i++)
                foreach (var o in cells[i]!["outputs"]?.AsArray() ?? [])
                {
                    var text = Text(o?["text"]) ?? Text(o?["data"]?["text/plain"]);
                    if (text is null || !text.Contains("./mn reproduce")) continue;
                    checkedOutputs++;
                    var where = $"{Path.GetFileName(path)} cell {i}";
                    if (text.Contains("commit ,") || text.Contains("commit  ")) offenders.Add($"{where}: prints an empty commit (say \"unknown\": ResultFile.Provenance())");
                    foreach (var r in results.Where(r => r.History().Count > 1 && text.Contains(r.Command)))
                        if (!text.Contains($"made in {r.History().Count} invocations"))
                            offenders.Add($"{where}: quotes the last command of {r.Experiment} ({r.Paper}) but not its {r.History().Count} invocations (print result.Provenance())");
                }
        }
        output.WriteLine($"{checkedOutputs} outputs quote a reproduction command; {offenders.Count} problem(s)");
        foreach (var o in offenders) output.WriteLine(o);
        Assert.True(checkedOutputs > 0, "no chapter output quotes a `./mn reproduce` command: the check found nothing to check");
        Assert.True(offenders.Count == 0, $"{offenders.Count} problem(s) (re-run the chapters with `./mn notebooks run` after they print result.Provenance()):\n{string.Join("\n", offenders)}");
    }

    private static string? Text(JsonNode? node) => node switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray a => string.Concat(a.Select(x => x?.GetValue<string>())),
        _ => null,
    };
}
