using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace MetaNotebooks.Notebooks.Tests;

/// <summary>
/// The figures committed in the chapters' outputs obey <see cref="FigureRules"/> (issue 22): this reads every Plotly
/// output of notebooks/*.ipynb, at the width of the PNG stored beside it, and lists every offender with its chapter,
/// cell and title. A chapter run before the figure library fitted titles and named series fails here until it is
/// re-run (`./mn notebooks run notebooks/&lt;chapter&gt;.ipynb`); what is left after a re-run is the chapter's own code.
/// </summary>
public class CommittedFigureTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryCommittedFigureHasATitleThatFitsLabelledAxesAndNamedSeries()
    {
        var ids = FigureLayoutTests.ExperimentIds();
        var offenders = new List<string>();
        var figures = 0;
        foreach (var path in Directory.GetFiles(Repository.Notebooks, "*.ipynb").Order(StringComparer.Ordinal))
        {
            var cells = JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray();
            for (var i = 0; i < cells.Count; i++)
                foreach (var o in cells[i]!["outputs"]?.AsArray() ?? [])
                {
                    if (o?["data"]?["application/vnd.plotly.v1+json"] is not { } plotly) continue;
                    figures++;
                    var figure = plotly is JsonValue s ? JsonNode.Parse(s.GetValue<string>())! : plotly;
                    var width = PngWidth(o["data"]?["image/png"]) ?? 720;
                    var title = figure["layout"]?["title"]?["text"]?.GetValue<string>() ?? "(no title)";
                    foreach (var problem in FigureRules.Problems(figure, width, ids))
                        offenders.Add($"{Path.GetFileName(path)} cell {i} \"{(title.Length > 50 ? title[..50] + "…" : title)}\": {problem}");
                }
        }
        output.WriteLine($"{figures} figures in the committed chapters, {offenders.Count} problem(s)");
        foreach (var o in offenders) output.WriteLine(o);
        Assert.True(figures > 0, "no Plotly output found in notebooks/*.ipynb");
        Assert.True(offenders.Count == 0,
            $"{offenders.Count} problem(s) in committed figures (re-run the chapters with `./mn notebooks run`; what remains is the chapter's own code):\n" +
            string.Join("\n", offenders));
    }

    /// <summary>Width from a base64 PNG's IHDR chunk (bytes 16–19), or null when there is no PNG.</summary>
    private static int? PngWidth(JsonNode? png)
    {
        var base64 = png switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray a => string.Concat(a.Select(x => x!.GetValue<string>())),
            _ => null,
        };
        if (base64 is null) return null;
        var head = Convert.FromBase64String(base64[..32].Replace("\n", ""));
        return BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(16));
    }
}
